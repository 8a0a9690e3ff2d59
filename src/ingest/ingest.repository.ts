import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';
import type { HumanDecisionForComparison } from '../comparison/comparison.types';
import { planSegments, SegmentCap, SegmentPlan } from './domain/segment-cap';

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
   * Stores new work items and registers their segments. A redelivered or duplicated item (same
   * eventId, or same workflow + itemId) inserts nothing; the returned rows are only the new ones.
   */
  async insertItems(tx: Tx, items: NewWorkItem[]): Promise<Array<{ id: string; workflow: string; itemId: string; segment: string }>> {
    if (items.length === 0) return [];
    // One statement (one round trip) for the items and their segments.
    return tx.query(
      `WITH items AS (
         INSERT INTO work_items (event_id, workflow, item_id, segment, attributes, input, occurred_at)
         SELECT "eventId", workflow, "itemId", segment, attributes, input, "occurredAt"
         FROM jsonb_to_recordset($1::jsonb) AS x("eventId" text, workflow text, "itemId" text, segment text,
           attributes jsonb, input jsonb, "occurredAt" timestamptz)
         ON CONFLICT DO NOTHING
         RETURNING id, workflow, item_id, segment
       ), new_segments AS (
         -- In key order, so that concurrent batches lock segment rows alike.
         INSERT INTO segments (workflow, segment)
         SELECT DISTINCT workflow, segment FROM items ORDER BY 1, 2
         ON CONFLICT DO NOTHING
       )
       SELECT id::text, workflow, item_id AS "itemId", segment FROM items`,
      [JSON.stringify(items)],
    );
  }

  /**
   * Registers a workflow's new segments within its bound, one instance at a time (an advisory lock
   * per workflow, so two instances cannot both take the last place): the known segments are read
   * under the lock, the new ones admitted or pooled (`planSegments`), and the admitted ones (and the
   * overflow segment, when something is pooled) inserted. Returns the plan and the known segments after it.
   */
  async registerSegments(tx: Tx, workflow: string, keys: string[], cap: SegmentCap): Promise<{ plan: SegmentPlan; known: Set<string> }> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('understudy:segments:' || $1, 0))`, [workflow]);
    const rows: Array<{ segment: string }> = await tx.query(`SELECT segment FROM segments WHERE workflow = $1`, [workflow]);
    const known = new Set(rows.map((r) => r.segment));
    const plan = planSegments(keys, known, cap);
    const insert = [...plan.admit, ...(plan.pooled.length > 0 && !known.has(cap.overflowSegment) ? [cap.overflowSegment] : [])].sort();
    if (insert.length > 0) {
      await tx.query(`INSERT INTO segments (workflow, segment) SELECT $1, s FROM unnest($2::text[]) AS s ON CONFLICT DO NOTHING`, [workflow, insert]);
    }
    for (const s of insert) known.add(s);
    return { plan, known };
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
}
