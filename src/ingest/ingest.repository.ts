import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';
import type { HumanDecisionForComparison } from '../comparison/comparison.types';

export interface NewWorkItem {
  eventId: string;
  workflow: string;
  itemId: string;
  segment: string;
  attributes: Record<string, string>;
  input: Record<string, unknown>;
  occurredAt: string;
}

export interface NewHumanDecision {
  eventId: string;
  workflow: string;
  itemId: string;
  decision: Record<string, unknown>;
  actor: string;
  kind: 'independent' | 'review';
  aiDecisionId: string | null;
  verdict: 'accepted' | 'overridden' | null;
  decidedAt: string;
}

@Injectable()
export class IngestRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Whether the database answers a trivial query now. */
  async databaseAnswers(): Promise<boolean> {
    try {
      await this.dataSource.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stores new work items. A redelivered or duplicated item (same eventId, or same workflow +
   * itemId) inserts nothing; the returned rows are only the new ones.
   */
  async insertItems(tx: Tx, items: NewWorkItem[]): Promise<Array<{ id: string; workflow: string; itemId: string; segment: string }>> {
    if (items.length === 0) return [];
    return tx.query(
      `INSERT INTO work_items (event_id, workflow, item_id, segment, attributes, input, occurred_at)
       SELECT "eventId", workflow, "itemId", segment, attributes, input, "occurredAt"
       FROM jsonb_to_recordset($1::jsonb) AS x("eventId" text, workflow text, "itemId" text, segment text,
         attributes jsonb, input jsonb, "occurredAt" timestamptz)
       ON CONFLICT DO NOTHING
       RETURNING id::text, workflow, item_id AS "itemId", segment`,
      [JSON.stringify(items)],
    );
  }

  /** Stores new human decisions; duplicates (same eventId) insert nothing and are not returned. */
  async insertDecisions(tx: Tx, decisions: NewHumanDecision[]): Promise<HumanDecisionForComparison[]> {
    if (decisions.length === 0) return [];
    return tx.query(
      `INSERT INTO human_decisions (event_id, workflow, item_id, decision, actor, kind, ai_decision_id, verdict, decided_at)
       SELECT "eventId", workflow, "itemId", decision, actor, kind, "aiDecisionId"::bigint, verdict, "decidedAt"
       FROM jsonb_to_recordset($1::jsonb) AS x("eventId" text, workflow text, "itemId" text, decision jsonb, actor text,
         kind text, "aiDecisionId" text, verdict text, "decidedAt" timestamptz)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING id::text, workflow, item_id AS "itemId", decision, kind, ai_decision_id::text AS "aiDecisionId", verdict`,
      [JSON.stringify(decisions)],
    );
  }

  // ---- retention and erasure of personal content (the rules are retention's: src/retention/domain) ----
  // Rows are locked FOR NO KEY UPDATE: comparisons and jobs that reference them are never held up.

  /** Inputs received before the cut-off, not yet removed, of items no AI job still needs (oldest first; rows the pipeline holds are skipped). */
  inputsPastRetention(tx: Tx, cutoff: Date, limit: number): Promise<StoredInput[]> {
    return tx.query(
      `SELECT w.id::text, w.workflow, w.input FROM work_items w
       WHERE w.input_removed_at IS NULL AND w.received_at < $1
         AND NOT EXISTS (SELECT 1 FROM ai_jobs j WHERE j.work_item_id = w.id AND j.state IN ('pending', 'processing', 'retrying'))
       ORDER BY w.received_at, w.id LIMIT $2
       FOR NO KEY UPDATE OF w SKIP LOCKED`,
      [cutoff, limit],
    );
  }

  /** People's decisions received before the cut-off whose free text is still there (oldest first; held rows skipped). */
  humanDecisionsPastRetention(tx: Tx, cutoff: Date, limit: number): Promise<StoredHumanDecisionText[]> {
    return tx.query(
      `SELECT id::text, workflow, decision FROM human_decisions
       WHERE free_text_removed_at IS NULL AND received_at < $1
       ORDER BY received_at, id LIMIT $2
       FOR NO KEY UPDATE SKIP LOCKED`,
      [cutoff, limit],
    );
  }

  /** The workflows that hold an item (as a work item or a person's decision). */
  async workflowsHoldingItem(tx: Tx, itemId: string): Promise<string[]> {
    const rows: Array<{ workflow: string }> = await tx.query(
      `SELECT workflow FROM work_items WHERE item_id = $1 UNION SELECT workflow FROM human_decisions WHERE item_id = $1 ORDER BY 1`,
      [itemId],
    );
    return rows.map((r) => r.workflow);
  }

  /** An item's inputs in these workflows, locked, and whether each was removed already. */
  itemInputsForErasure(tx: Tx, itemId: string, workflows: string[]): Promise<Array<StoredInput & { removed: boolean }>> {
    return tx.query(
      `SELECT id::text, workflow, input, input_removed_at IS NOT NULL AS removed FROM work_items
       WHERE item_id = $1 AND workflow = ANY($2::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [itemId, workflows],
    );
  }

  /** People's decisions on an item in these workflows, locked, and whether each lost its free text already. */
  itemHumanDecisionsForErasure(tx: Tx, itemId: string, workflows: string[]): Promise<Array<StoredHumanDecisionText & { removed: boolean }>> {
    return tx.query(
      `SELECT id::text, workflow, decision, free_text_removed_at IS NOT NULL AS removed FROM human_decisions
       WHERE item_id = $1 AND workflow = ANY($2::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [itemId, workflows],
    );
  }

  /** Replaces inputs by what remains of them (and the hash of what they were), once; returns how many changed. */
  async removeInputs(tx: Tx, rows: Array<{ id: string; input: unknown; inputSha256: string }>, cause: 'retention' | 'erasure'): Promise<number> {
    if (rows.length === 0) return 0;
    const [, n] = await tx.query(
      `UPDATE work_items w SET input = x.input, input_sha256 = x."inputSha256", input_removed_at = now(), input_removed_why = $2
       FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, input jsonb, "inputSha256" text)
       WHERE w.id = x.id AND w.input_removed_at IS NULL`,
      [JSON.stringify(rows), cause],
    );
    return n;
  }

  /** Replaces people's decisions by their compared fields (and the hash of what they were), once; returns how many changed. */
  async removeHumanFreeText(
    tx: Tx,
    rows: Array<{ id: string; decision: Record<string, unknown>; decisionSha256: string }>,
    cause: 'retention' | 'erasure',
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const [, n] = await tx.query(
      `UPDATE human_decisions h SET decision = x.decision, decision_sha256 = x."decisionSha256", free_text_removed_at = now(), free_text_removed_why = $2
       FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, decision jsonb, "decisionSha256" text)
       WHERE h.id = x.id AND h.free_text_removed_at IS NULL`,
      [JSON.stringify(rows), cause],
    );
    return n;
  }
}

/** A work item's input as retention reads it. */
export interface StoredInput {
  id: string;
  workflow: string;
  input: unknown;
}

/** A person's decision as retention reads it. */
export interface StoredHumanDecisionText {
  id: string;
  workflow: string;
  decision: Record<string, unknown>;
}
