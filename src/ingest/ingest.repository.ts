import { Injectable } from '@nestjs/common';
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
  /**
   * Stores new work items with one pending AI job per active version, and registers their
   * segments. A redelivered or duplicated item (same eventId, or same workflow + itemId)
   * inserts nothing; the returned rows are only the new ones.
   */
  async insertItems(
    tx: Tx,
    items: NewWorkItem[],
    versions: Record<string, number[]>,
  ): Promise<Array<{ id: string; workflow: string; itemId: string; segment: string }>> {
    if (items.length === 0) return [];
    const inserted: Array<{ id: string; workflow: string; itemId: string; segment: string }> = await tx.query(
      `INSERT INTO work_items (event_id, workflow, item_id, segment, attributes, input, occurred_at)
       SELECT "eventId", workflow, "itemId", segment, attributes, input, "occurredAt"
       FROM jsonb_to_recordset($1::jsonb) AS x("eventId" text, workflow text, "itemId" text, segment text,
         attributes jsonb, input jsonb, "occurredAt" timestamptz)
       ON CONFLICT DO NOTHING
       RETURNING id::text, workflow, item_id AS "itemId", segment`,
      [JSON.stringify(items)],
    );
    if (inserted.length === 0) return [];
    const jobs = inserted.flatMap((i) => (versions[i.workflow] ?? []).map((v) => ({ workItemId: i.id, workflow: i.workflow, itemId: i.itemId, version: v })));
    if (jobs.length > 0) {
      await tx.query(
        `INSERT INTO ai_jobs (work_item_id, workflow, item_id, workflow_version)
         SELECT "workItemId"::bigint, workflow, "itemId", version
         FROM jsonb_to_recordset($1::jsonb) AS x("workItemId" text, workflow text, "itemId" text, version int)
         ON CONFLICT DO NOTHING`,
        [JSON.stringify(jobs)],
      );
    }
    const segments = [...new Set(inserted.map((i) => `${i.workflow}\u0001${i.segment}`))].sort().map((k) => k.split('\u0001'));
    await tx.query(
      `INSERT INTO segments (workflow, segment)
       SELECT w, s FROM unnest($1::text[], $2::text[]) AS x(w, s)
       ON CONFLICT DO NOTHING`,
      [segments.map((s) => s[0]), segments.map((s) => s[1])],
    );
    return inserted;
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
