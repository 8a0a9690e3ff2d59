import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';
import type { RemovalCause, StoredAiOutput, StoredHumanDecision } from './domain/retention';

const PURGE_LOCK = `hashtextextended('understudy:retention', 0)`;
/** Jobs whose item the AI still needs: its input must stay until they end. */
const UNFINISHED = `('pending', 'processing', 'retrying')`;

export interface InputRow {
  id: string;
  workflow: string;
  input: unknown;
}

export interface HumanDecisionRow extends StoredHumanDecision {
  workflow: string;
}

export interface AiOutputRow extends StoredAiOutput {
  workflow: string;
  version: number;
}

export interface RoutingEventRow {
  id: string;
  payload: Record<string, unknown>;
}

export interface ItemJobRow {
  id: string;
  workflow: string;
  state: string;
}

/**
 * Every statement of retention and erasure. They change rows other features own, but only to
 * remove personal content from them — the columns their features never read back once an item
 * is decided — so the rules of that removal live in one place (domain/retention.ts) and its SQL
 * in this one repository. Batches lock what they take with SKIP LOCKED: a row the pipeline holds
 * is left for the next batch, and two instances never take the same rows. Locks are FOR NO KEY
 * UPDATE: rows that reference these by foreign key (comparisons, jobs) are never held up by them.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /**
   * Runs `fn` while this instance holds the purge's session advisory lock (on a connection of its
   * own, released when `fn` ends or the connection dies); `undefined` when another instance holds it.
   */
  async whileHoldingPurgeLock<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ ok }] = await runner.query(`SELECT pg_try_advisory_lock(${PURGE_LOCK}) AS ok`);
      if (!ok) return undefined;
      try {
        return await fn();
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(${PURGE_LOCK})`);
      }
    } finally {
      await runner.release();
    }
  }

  // ---- the purge: oldest first, bounded batches ----

  /** Inputs received before the cut-off, not yet removed, of items no AI job still needs. */
  inputBatch(tx: Tx, cutoff: Date, limit: number): Promise<InputRow[]> {
    return tx.query(
      `SELECT w.id::text, w.workflow, w.input FROM work_items w
       WHERE w.input_removed_at IS NULL AND w.received_at < $1
         AND NOT EXISTS (SELECT 1 FROM ai_jobs j WHERE j.work_item_id = w.id AND j.state IN ${UNFINISHED})
       ORDER BY w.received_at, w.id LIMIT $2
       FOR NO KEY UPDATE OF w SKIP LOCKED`,
      [cutoff, limit],
    );
  }

  humanDecisionBatch(tx: Tx, cutoff: Date, limit: number): Promise<HumanDecisionRow[]> {
    return tx.query(
      `SELECT id::text, workflow, decision FROM human_decisions
       WHERE free_text_removed_at IS NULL AND received_at < $1
       ORDER BY received_at, id LIMIT $2
       FOR NO KEY UPDATE SKIP LOCKED`,
      [cutoff, limit],
    );
  }

  aiOutputBatch(tx: Tx, cutoff: Date, limit: number): Promise<AiOutputRow[]> {
    return tx.query(
      `SELECT id::text, workflow, workflow_version AS version, decision, raw_output AS "rawOutput", error FROM ai_decisions
       WHERE output_removed_at IS NULL AND created_at < $1
       ORDER BY created_at, id LIMIT $2
       FOR NO KEY UPDATE SKIP LOCKED`,
      [cutoff, limit],
    );
  }

  // ---- erasure of one item, in every workflow ----

  /** The workflows that hold an item (as a work item or a person's decision). */
  async workflowsHolding(tx: Tx, itemId: string): Promise<string[]> {
    const rows: Array<{ workflow: string }> = await tx.query(
      `SELECT workflow FROM work_items WHERE item_id = $1 UNION SELECT workflow FROM human_decisions WHERE item_id = $1 ORDER BY 1`,
      [itemId],
    );
    return rows.map((r) => r.workflow);
  }

  itemJobs(tx: Tx, itemId: string, workflows: string[]): Promise<ItemJobRow[]> {
    return tx.query(
      `SELECT id::text, workflow, state FROM ai_jobs WHERE item_id = $1 AND workflow = ANY($2::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [itemId, workflows],
    );
  }

  /** Jobs that have not started are not run any more: their input is gone. */
  async skipJobs(tx: Tx, ids: string[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    await tx.query(
      `UPDATE ai_jobs SET state = 'skipped', skip_reason = $2, locked_by = NULL, locked_at = NULL, updated_at = now() WHERE id = ANY($1::bigint[])`,
      [ids, reason],
    );
  }

  itemInputs(tx: Tx, itemId: string, workflows: string[]): Promise<Array<InputRow & { removed: boolean }>> {
    return tx.query(
      `SELECT id::text, workflow, input, input_removed_at IS NOT NULL AS removed FROM work_items
       WHERE item_id = $1 AND workflow = ANY($2::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [itemId, workflows],
    );
  }

  itemHumanDecisions(tx: Tx, itemId: string, workflows: string[]): Promise<Array<HumanDecisionRow & { removed: boolean }>> {
    return tx.query(
      `SELECT id::text, workflow, decision, free_text_removed_at IS NOT NULL AS removed FROM human_decisions
       WHERE item_id = $1 AND workflow = ANY($2::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [itemId, workflows],
    );
  }

  itemAiOutputs(tx: Tx, itemId: string, workflows: string[]): Promise<Array<AiOutputRow & { removed: boolean }>> {
    return tx.query(
      `SELECT id::text, workflow, workflow_version AS version, decision, raw_output AS "rawOutput", error,
         output_removed_at IS NOT NULL AS removed FROM ai_decisions
       WHERE item_id = $1 AND workflow = ANY($2::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [itemId, workflows],
    );
  }

  // ---- writes, shared by both ----

  /** Routing events (outbox) that carried these AI decisions and still hold their free text. */
  routingEventsOf(tx: Tx, aiDecisionIds: string[]): Promise<RoutingEventRow[]> {
    if (aiDecisionIds.length === 0) return Promise.resolve([]);
    return tx.query(
      `SELECT id::text, payload FROM outbox
       WHERE payload ? 'aiDecisionId' AND payload->>'aiDecisionId' = ANY($1::text[]) AND free_text_removed_at IS NULL
       ORDER BY id FOR NO KEY UPDATE`,
      [aiDecisionIds],
    );
  }

  async removeInputs(tx: Tx, rows: Array<{ id: string; input: unknown; inputSha256: string }>, cause: RemovalCause): Promise<number> {
    if (rows.length === 0) return 0;
    const [, n] = await tx.query(
      `UPDATE work_items w SET input = x.input, input_sha256 = x."inputSha256", input_removed_at = now(), input_removed_why = $2
       FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, input jsonb, "inputSha256" text)
       WHERE w.id = x.id AND w.input_removed_at IS NULL`,
      [JSON.stringify(rows), cause],
    );
    return n;
  }

  async removeHumanFreeText(tx: Tx, rows: Array<{ id: string; decision: Record<string, unknown>; decisionSha256: string }>, cause: RemovalCause): Promise<number> {
    if (rows.length === 0) return 0;
    const [, n] = await tx.query(
      `UPDATE human_decisions h SET decision = x.decision, decision_sha256 = x."decisionSha256", free_text_removed_at = now(), free_text_removed_why = $2
       FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, decision jsonb, "decisionSha256" text)
       WHERE h.id = x.id AND h.free_text_removed_at IS NULL`,
      [JSON.stringify(rows), cause],
    );
    return n;
  }

  async removeAiOutputs(
    tx: Tx,
    rows: Array<{ id: string; decision: Record<string, unknown> | null; error: string | null; outputSha256: string }>,
    cause: RemovalCause,
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

  async removeRoutingFreeText(tx: Tx, rows: RoutingEventRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const [, n] = await tx.query(
      `UPDATE outbox o SET payload = x.payload, free_text_removed_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, payload jsonb)
       WHERE o.id = x.id AND o.free_text_removed_at IS NULL`,
      [JSON.stringify(rows)],
    );
    return n;
  }
}
