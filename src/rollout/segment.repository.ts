import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';
import type { StoredSegmentRouting } from '../routing/stored-routing-state';
import type { SegmentSplit } from '../flags/domain/segment-split';
import type { SegmentState } from './domain/segment-state';

export type { PauseKind, SegmentState } from './domain/segment-state';

const COLUMNS = `workflow, segment, workflow_version AS version, stage, traffic_pct AS "trafficPct", stage_started_at AS "stageStartedAt",
  step_started_at AS "stepStartedAt", paused, pause_kind AS "pauseKind", pause_reason AS "pauseReason", paused_at AS "pausedAt",
  paused_by AS "pausedBy", flag_split AS "flagSplit", step_base AS "stepBase", pending_step AS "pendingStep",
  approved_step AS "approvedStep", last_verdict AS "lastVerdict", last_evaluated_at AS "lastEvaluatedAt", baseline,
  guard_state AS "guardState", guard_params AS "guardParams", guard_window_started_at AS "guardWindowStartedAt", threshold,
  threshold_source AS "thresholdSource", threshold_details AS "thresholdDetails", threshold_updated_at AS "thresholdUpdatedAt",
  class_guards AS "classGuards", guardrail_state AS "guardrailState",
  drift_monitor AS "driftMonitor", audit_factor AS "auditFactor", created_at AS "createdAt", updated_at AS "updatedAt"`;

const FIELD_TO_COLUMN: Record<string, string> = {
  version: 'workflow_version',
  stage: 'stage',
  trafficPct: 'traffic_pct',
  stageStartedAt: 'stage_started_at',
  stepStartedAt: 'step_started_at',
  paused: 'paused',
  pauseKind: 'pause_kind',
  pauseReason: 'pause_reason',
  pausedAt: 'paused_at',
  pausedBy: 'paused_by',
  flagSplit: 'flag_split',
  stepBase: 'step_base',
  pendingStep: 'pending_step',
  approvedStep: 'approved_step',
  lastVerdict: 'last_verdict',
  lastEvaluatedAt: 'last_evaluated_at',
  baseline: 'baseline',
  guardState: 'guard_state',
  guardParams: 'guard_params',
  guardWindowStartedAt: 'guard_window_started_at',
  threshold: 'threshold',
  thresholdSource: 'threshold_source',
  thresholdDetails: 'threshold_details',
  thresholdUpdatedAt: 'threshold_updated_at',
  classGuards: 'class_guards',
  guardrailState: 'guardrail_state',
  driftMonitor: 'drift_monitor',
  auditFactor: 'audit_factor',
};
const JSON_FIELDS = new Set([
  'flagSplit',
  'stepBase',
  'pendingStep',
  'approvedStep',
  'lastVerdict',
  'baseline',
  'guardState',
  'guardParams',
  'thresholdDetails',
  'classGuards',
  'guardrailState',
  'driftMonitor',
]);

@Injectable()
export class SegmentRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(workflow?: string, tx?: Tx): Promise<SegmentState[]> {
    const m = tx ?? this.dataSource.manager;
    return m.query(`SELECT ${COLUMNS} FROM segments ${workflow ? 'WHERE workflow = $1' : ''} ORDER BY workflow, segment`, workflow ? [workflow] : []);
  }

  async get(workflow: string, segment: string, tx?: Tx): Promise<SegmentState | null> {
    const m = tx ?? this.dataSource.manager;
    const rows = await m.query(`SELECT ${COLUMNS} FROM segments WHERE workflow = $1 AND segment = $2`, [workflow, segment]);
    return rows[0] ?? null;
  }

  /** Locks a workflow's segments for the rest of the transaction (controller cycles and people's actions serialise here). */
  async lockWorkflow(tx: Tx, workflow: string): Promise<SegmentState[]> {
    return tx.query(`SELECT ${COLUMNS} FROM segments WHERE workflow = $1 ORDER BY segment FOR UPDATE`, [workflow]);
  }

  async lockOne(tx: Tx, workflow: string, segment: string): Promise<SegmentState | null> {
    const rows = await tx.query(`SELECT ${COLUMNS} FROM segments WHERE workflow = $1 AND segment = $2 FOR UPDATE`, [workflow, segment]);
    return rows[0] ?? null;
  }

  /**
   * Bounds how long the rest of the transaction waits for a segment's row lock (and, when given,
   * how long any statement in it runs): a person's action or a controller cycle gives up rather
   * than queue behind the other without end.
   */
  async limitWaits(tx: Tx, lockTimeoutMs: number, statementTimeoutMs?: number): Promise<void> {
    await tx.query(`SET LOCAL lock_timeout = '${lockTimeoutMs}ms'`);
    if (statementTimeoutMs !== undefined) await tx.query(`SET LOCAL statement_timeout = '${statementTimeoutMs}ms'`);
  }

  async update(tx: Tx, workflow: string, segment: string, patch: Partial<SegmentState>): Promise<void> {
    const sets: string[] = [];
    const values: unknown[] = [workflow, segment];
    for (const [field, value] of Object.entries(patch)) {
      const column = FIELD_TO_COLUMN[field];
      if (!column) throw new Error(`segments has no field ${field}`);
      values.push(JSON_FIELDS.has(field) && value !== null ? JSON.stringify(value) : value);
      sets.push(`${column} = $${values.length}${JSON_FIELDS.has(field) ? '::jsonb' : ''}`);
    }
    if (sets.length === 0) return;
    await tx.query(`UPDATE segments SET ${sets.join(', ')}, updated_at = now() WHERE workflow = $1 AND segment = $2`, values);
  }

  /** Segments with a split owed to Unleash (written to PostgreSQL, not yet confirmed by Unleash). */
  async owingFlagWrites(workflow: string): Promise<SegmentState[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM segments WHERE workflow = $1 AND (flag_split->>'pending')::boolean IS TRUE ORDER BY segment`, [
      workflow,
    ]);
  }

  /** Marks an owed split written, unless another move replaced it meanwhile. */
  async confirmFlagWritten(workflow: string, segment: string, split: SegmentSplit, at: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE segments SET flag_split = flag_split - 'pending' || jsonb_build_object('writtenAt', $4::text), updated_at = now()
       WHERE workflow = $1 AND segment = $2 AND (flag_split->>'pending')::boolean IS TRUE
         AND flag_split->>'stage' = $3 AND abs((flag_split->>'trafficPct')::float8 - $5) < 0.05`,
      [workflow, segment, split.stage, at.toISOString(), split.trafficPct],
    );
  }

  /** Puts the items the AI decided `auto` in a window on the re-review list; returns how many. */
  async listForRereview(tx: Tx, workflow: string, segment: string, since: Date, revertAuditId: string): Promise<number> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO rereview_items (workflow, segment, item_id, routing_decision_id, revert_audit_id)
       SELECT workflow, segment, item_id, id, $4::bigint FROM routing_decisions
       WHERE workflow = $1 AND segment = $2 AND action = 'auto' AND created_at >= $3
       ON CONFLICT (routing_decision_id) DO NOTHING
       RETURNING id`,
      [workflow, segment, since, revertAuditId],
    );
    return rows.length;
  }

  /**
   * Registers segments ingest has seen (the SegmentRegistry port of ingest): a new one starts in
   * shadow with no flag split; known ones are left as they are. In key order, so that concurrent
   * batches lock segment rows alike.
   */
  async ensureSegments(tx: Tx, keys: Array<{ workflow: string; segment: string }>): Promise<void> {
    if (keys.length === 0) return;
    await tx.query(
      `INSERT INTO segments (workflow, segment)
       SELECT DISTINCT workflow, segment FROM jsonb_to_recordset($1::jsonb) AS k(workflow text, segment text) ORDER BY 1, 2
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(keys)],
    );
  }

  /** Takes a workflow's segment-registration lock for the rest of the transaction and lists its segments. */
  async lockSegmentsOf(tx: Tx, workflow: string): Promise<Set<string>> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('understudy:segments:' || $1, 0))`, [workflow]);
    const rows: Array<{ segment: string }> = await tx.query(`SELECT segment FROM segments WHERE workflow = $1`, [workflow]);
    return new Set(rows.map((r) => r.segment));
  }

  /**
   * What routing obeys per segment: the threshold in force and the stage as decided in PostgreSQL
   * (a move, a rollback, a revert, an adopted operator change) — null while nothing was decided
   * (a row ingest created has no flag split yet). Every segment, or only those of `keys`.
   */
  async routingStates(keys?: Array<{ workflow: string; segment: string }>, tx?: Tx): Promise<StoredSegmentRouting[]> {
    const m = tx ?? this.dataSource.manager;
    const columns = `workflow, segment, threshold, threshold_source AS "thresholdSource",
      CASE WHEN flag_split IS NULL THEN NULL ELSE stage END AS stage, workflow_version AS version, audit_factor AS "auditFactor"`;
    if (!keys) return m.query(`SELECT ${columns} FROM segments`);
    return m.query(`SELECT ${columns} FROM segments JOIN jsonb_to_recordset($1::jsonb) AS k(workflow text, segment text) USING (workflow, segment)`, [
      JSON.stringify(keys),
    ]);
  }
}
