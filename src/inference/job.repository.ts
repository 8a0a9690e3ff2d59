import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';
import type { ClaimedJob, JobOutcome, JobState } from './domain/job';
import type { QueuedItem } from './job-queue';

/** The job queue in PostgreSQL: claimed with FOR UPDATE SKIP LOCKED, so any number of workers and instances share it. */
@Injectable()
export class JobRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Queues one pending job per item and version, in the caller's transaction (ingest's, through the JobQueue port). */
  async insert(tx: Tx, items: QueuedItem[], versions: Record<string, number[]>): Promise<void> {
    if (items.length === 0) return;
    const jobVersions = Object.entries(versions).flatMap(([workflow, vs]) => vs.map((version) => ({ workflow, version })));
    await tx.query(
      `INSERT INTO ai_jobs (work_item_id, workflow, item_id, workflow_version)
       SELECT i.id::bigint, i.workflow, i."itemId", v.version
       FROM jsonb_to_recordset($1::jsonb) AS i(id text, workflow text, "itemId" text)
       JOIN jsonb_to_recordset($2::jsonb) AS v(workflow text, version int) ON v.workflow = i.workflow
       ORDER BY i.id::bigint, v.version
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(items.map((i) => ({ id: i.id, workflow: i.workflow, itemId: i.itemId }))), JSON.stringify(jobVersions)],
    );
  }

  /**
   * Claims jobs that are due, were claimed fewer than maxClaims times, and have no decision yet: a
   * job whose paid answer is already stored is never sent to the model again (settle completes it).
   */
  async claim(limit: number, instanceId: string, maxClaims: number): Promise<ClaimedJob[]> {
    if (limit <= 0) return [];
    return this.dataSource.query(
      `WITH ready AS (
         SELECT j.id FROM ai_jobs j
         WHERE j.state IN ('pending', 'retrying') AND j.next_attempt_at <= now() AND j.attempts < $3
           AND NOT EXISTS (SELECT 1 FROM ai_decisions d WHERE d.workflow = j.workflow AND d.item_id = j.item_id AND d.workflow_version = j.workflow_version)
         ORDER BY j.next_attempt_at, j.id
         LIMIT $1
         FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE ai_jobs j SET state = 'processing', attempts = j.attempts + 1, locked_by = $2, locked_at = now(), updated_at = now()
         FROM ready WHERE j.id = ready.id
         RETURNING j.id, j.work_item_id, j.workflow, j.item_id, j.workflow_version, j.attempts
       )
       SELECT c.id::text, c.workflow, c.item_id AS "itemId", c.workflow_version AS version, c.attempts,
              w.segment, w.attributes, w.input, w.received_at AS "receivedAt"
       FROM claimed c JOIN work_items w ON w.id = c.work_item_id
       ORDER BY c.id`,
      [limit, instanceId, maxClaims],
    );
  }

  /**
   * Keeps the leases of the jobs this instance is working on (queued, calling, being written): only
   * those, so a job it lost track of still expires and is taken over, and a stopped or frozen
   * instance renews nothing.
   */
  async renewLeases(instanceId: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `UPDATE ai_jobs SET locked_at = now() WHERE state = 'processing' AND locked_by = $1 AND id = ANY($2::bigint[])`,
      [instanceId, ids],
    );
    return affected;
  }

  /**
   * Settles jobs the queue must not run again: completed when their decision is already stored (an
   * answer that arrived after the job went back to the queue), failed once claimed maxClaims times
   * without an outcome (a job that kills or stalls whoever runs it).
   */
  async settle(maxClaims: number): Promise<{ completed: number; failed: number }> {
    const [, completed]: [unknown[], number] = await this.dataSource.query(
      `UPDATE ai_jobs j SET state = 'completed', locked_by = NULL, locked_at = NULL, updated_at = now()
       WHERE j.state IN ('pending', 'retrying')
         AND EXISTS (SELECT 1 FROM ai_decisions d WHERE d.workflow = j.workflow AND d.item_id = j.item_id AND d.workflow_version = j.workflow_version)`,
    );
    const [, failed]: [unknown[], number] = await this.dataSource.query(
      `UPDATE ai_jobs SET state = 'failed', updated_at = now(),
              last_error = 'claimed ' || attempts || ' times without an outcome: given up (JOB_MAX_CLAIMS)'
       WHERE state IN ('pending', 'retrying') AND attempts >= $1`,
      [maxClaims],
    );
    return { completed, failed };
  }

  /**
   * Jobs whose lease ran out (their instance died or hung) go back to the queue. A late answer
   * from the old holder cannot create a second decision: decisions are unique per job's item and version.
   */
  async releaseExpired(leaseMs: number): Promise<number> {
    // TypeORM answers an UPDATE with [rows, affectedCount].
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `UPDATE ai_jobs SET state = 'retrying', next_attempt_at = now(), locked_by = NULL, locked_at = NULL, updated_at = now(),
              last_error = 'lease expired: the instance holding the job stopped or stalled'
       WHERE state = 'processing' AND locked_at < now() - make_interval(secs => $1::double precision / 1000)`,
      [leaseMs],
    );
    return affected;
  }

  /**
   * Gives back jobs this instance claimed but never started (it is stopping): they return to the
   * queue as they were, with the claim's attempt refunded.
   */
  async release(ids: string[], instanceId: string): Promise<number> {
    if (ids.length === 0) return 0;
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `UPDATE ai_jobs SET state = CASE WHEN attempts <= 1 THEN 'pending' ELSE 'retrying' END, attempts = greatest(attempts - 1, 0),
              locked_by = NULL, locked_at = NULL, updated_at = now()
       WHERE id = ANY($1::bigint[]) AND state = 'processing' AND locked_by = $2`,
      [ids, instanceId],
    );
    return affected;
  }

  /** Records outcomes of a batch of jobs, in the caller's transaction. Only jobs still held by this instance change. */
  async record(tx: Tx, outcomes: JobOutcome[], instanceId: string): Promise<void> {
    if (outcomes.length === 0) return;
    await tx.query(
      `UPDATE ai_jobs j SET
         state = o.state,
         last_error = coalesce(o.error, j.last_error),
         skip_reason = o."skipReason",
         next_attempt_at = coalesce(o."nextAttemptAt", j.next_attempt_at),
         attempts = CASE WHEN o."refundAttempt" THEN greatest(j.attempts - 1, 0) ELSE j.attempts END,
         locked_by = NULL, locked_at = NULL, updated_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS o(id text, state text, error text, "skipReason" text, "nextAttemptAt" timestamptz, "refundAttempt" boolean)
       WHERE j.id = ANY($3::bigint[]) AND j.id = o.id::bigint AND j.state = 'processing' AND (j.locked_by = $2 OR j.locked_by IS NULL)`,
      // j.id = ANY($3) gives the planner the primary key to find the rows by, whatever the table's
      // statistics say: with them behind the table's growth it scanned every job in 'processing'
      // once per outcome (300 ms for a batch of 500).
      [JSON.stringify(outcomes.map((o) => ({ ...o, refundAttempt: o.refundAttempt ?? false }))), instanceId, outcomes.map((o) => o.id)],
    );
  }

  async countsByState(workflow?: string): Promise<Record<JobState, number>> {
    const rows: Array<{ state: JobState; n: string }> = await this.dataSource.query(
      `SELECT state, count(*)::text AS n FROM ai_jobs ${workflow ? 'WHERE workflow = $1' : ''} GROUP BY state`,
      workflow ? [workflow] : [],
    );
    const out: Record<JobState, number> = { pending: 0, processing: 0, retrying: 0, completed: 0, failed: 0, skipped: 0 };
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }

  // ---- retention and erasure of personal content (the rules are retention's: src/retention/domain) ----
  // Rows are locked FOR NO KEY UPDATE: rows that reference them are never held up.

  /** An item's jobs in these workflows, locked (the erasure decides which to skip and whether one runs). */
  itemJobsForErasure(tx: Tx, itemId: string, workflows: string[]): Promise<Array<{ id: string; workflow: string; state: string }>> {
    return tx.query(`SELECT id::text, workflow, state FROM ai_jobs WHERE item_id = $1 AND workflow = ANY($2::text[]) ORDER BY id FOR NO KEY UPDATE`, [
      itemId,
      workflows,
    ]);
  }

  /** Jobs that have not started are not run any more (their input is gone). */
  async skipJobs(tx: Tx, ids: string[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    await tx.query(
      `UPDATE ai_jobs SET state = 'skipped', skip_reason = $2, locked_by = NULL, locked_at = NULL, updated_at = now() WHERE id = ANY($1::bigint[])`,
      [ids, reason],
    );
  }

  /** AI outputs created before the cut-off whose free text is still there (oldest first; rows held by the pipeline skipped). */
  aiOutputsPastRetention(tx: Tx, cutoff: Date, limit: number): Promise<StoredAiOutputText[]> {
    return tx.query(
      `SELECT id::text, workflow, workflow_version AS version, decision, raw_output AS "rawOutput", error FROM ai_decisions
       WHERE output_removed_at IS NULL AND created_at < $1
       ORDER BY created_at, id LIMIT $2
       FOR NO KEY UPDATE SKIP LOCKED`,
      [cutoff, limit],
    );
  }

  /** An item's AI outputs in these workflows, locked, and whether each lost its free text already. */
  itemAiOutputsForErasure(tx: Tx, itemId: string, workflows: string[]): Promise<Array<StoredAiOutputText & { removed: boolean }>> {
    return tx.query(
      `SELECT id::text, workflow, workflow_version AS version, decision, raw_output AS "rawOutput", error,
         output_removed_at IS NOT NULL AS removed FROM ai_decisions
       WHERE item_id = $1 AND workflow = ANY($2::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [itemId, workflows],
    );
  }

  /** Replaces AI outputs by what remains of them (and the hash of what they were), once; returns how many changed. */
  async removeAiOutputs(
    tx: Tx,
    rows: Array<{ id: string; decision: Record<string, unknown> | null; error: string | null; outputSha256: string }>,
    cause: 'retention' | 'erasure',
  ): Promise<number> {
    if (rows.length === 0) return 0;
    // The table's trigger lets exactly this update through (migration PersonalDataRetention).
    const [, n] = await tx.query(
      `UPDATE ai_decisions a SET decision = x.decision, raw_output = NULL, error = x.error, output_sha256 = x."outputSha256",
         output_removed_at = now(), output_removed_why = $2
       FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, decision jsonb, error text, "outputSha256" text)
       WHERE a.id = x.id AND a.output_removed_at IS NULL`,
      [JSON.stringify(rows), cause],
    );
    return n;
  }
}

/** An AI decision's output as retention reads it. */
export interface StoredAiOutputText {
  id: string;
  workflow: string;
  version: number;
  decision: Record<string, unknown> | null;
  rawOutput: string | null;
  error: string | null;
}
