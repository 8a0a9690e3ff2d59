import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/sql';
import type { AiDecisionForComparison, HumanDecisionForComparison } from './comparison.types';
import type { NewComparison, NewHumanPair } from './domain/pairing';

type ItemKey = { workflow: string; itemId: string };

/**
 * The parameters of a lookup by item keys: $1 workflows and $2 item ids (the pairs, for the join),
 * $3 the distinct workflows. Each lookup also says `t.workflow = ANY($3) AND t.item_id = ANY($2)`,
 * which an index on (workflow, item_id) answers directly: so the planner finds the rows by index
 * whatever the table's statistics say. With the statistics behind the table's growth (a new
 * deployment, a burst, every test database) it sorted and merged the whole table once per batch.
 */
function keyParams(items: ItemKey[]): [string[], string[], string[]] {
  return [items.map((i) => i.workflow), items.map((i) => i.itemId), [...new Set(items.map((i) => i.workflow))]];
}

@Injectable()
export class ComparisonRepository {
  /**
   * Valid AI decisions of the given items, each with how its item was routed (the decision's own
   * route, or the champion's for a challenger: what the person was shown) and when it was decided.
   */
  async aiDecisionsFor(tx: Tx, items: ItemKey[]): Promise<AiDecisionForComparison[]> {
    if (items.length === 0) return [];
    return tx.query(
      `SELECT d.id::text AS id, d.workflow, d.item_id AS "itemId", d.segment, d.workflow_version AS version, d.valid,
              d.decision, d.confidence, r.action AS "routeAction", r.stage AS "routeStage", r.threshold AS "routeThreshold", d.created_at AS "decidedAt"
       FROM unnest($1::text[], $2::text[]) AS k(workflow, item_id)
       JOIN ai_decisions d ON d.workflow = k.workflow AND d.item_id = k.item_id
       LEFT JOIN LATERAL (
         SELECT action, stage, threshold FROM routing_decisions rd
         WHERE rd.workflow = d.workflow AND rd.item_id = d.item_id
         ORDER BY rd.ai_decision_id = d.id DESC, rd.id LIMIT 1
       ) r ON true
       WHERE d.valid AND d.workflow = ANY($3::text[]) AND d.item_id = ANY($2::text[])`,
      keyParams(items),
    );
  }

  async humanDecisionsFor(tx: Tx, items: ItemKey[]): Promise<HumanDecisionForComparison[]> {
    if (items.length === 0) return [];
    return tx.query(
      `SELECT h.id::text AS id, h.workflow, h.item_id AS "itemId", h.decision, h.kind, h.ai_decision_id::text AS "aiDecisionId", h.verdict
       FROM unnest($1::text[], $2::text[]) AS k(workflow, item_id)
       JOIN human_decisions h ON h.workflow = k.workflow AND h.item_id = k.item_id
       WHERE h.workflow = ANY($3::text[]) AND h.item_id = ANY($2::text[])
       ORDER BY h.id`,
      keyParams(items),
    );
  }

  /** Inserts comparisons; returns only those that were new (a redelivery inserts nothing). */
  async insertComparisons(tx: Tx, rows: NewComparison[]): Promise<NewComparison[]> {
    if (rows.length === 0) return [];
    const inserted: Array<{ a: string; h: string }> = await tx.query(
      `INSERT INTO comparisons (workflow, item_id, segment, workflow_version, is_champion, ai_decision_id, human_decision_id,
         human_kind, route_action, evidence, arm, ai_decided_at, agree, field_agreement, verdict, ai_label, human_label, confidence)
       SELECT workflow, "itemId", segment, version, "isChampion", "aiDecisionId"::bigint, "humanDecisionId"::bigint, "humanKind",
         "routeAction", evidence, arm, "aiDecidedAt", agree, "fieldAgreement", verdict, "aiLabel", "humanLabel", confidence
       FROM jsonb_to_recordset($1::jsonb) AS x(workflow text, "itemId" text, segment text, version int, "isChampion" boolean,
         "aiDecisionId" text, "humanDecisionId" text, "humanKind" text, "routeAction" text, evidence text, arm text,
         "aiDecidedAt" timestamptz, agree boolean, "fieldAgreement" jsonb, verdict text, "aiLabel" text, "humanLabel" text,
         confidence double precision)
       ON CONFLICT (ai_decision_id, human_decision_id) DO NOTHING
       RETURNING ai_decision_id::text AS a, human_decision_id::text AS h`,
      [JSON.stringify(rows)],
    );
    const fresh = new Set(inserted.map((r) => `${r.a}:${r.h}`));
    return rows.filter((r) => fresh.has(`${r.aiDecisionId}:${r.humanDecisionId}`));
  }

  /** Earlier comparisons of other decisions against the same human decisions (for paired tests). */
  async comparisonsOnHumanDecisions(
    tx: Tx,
    humanDecisionIds: string[],
  ): Promise<Array<{ humanDecisionId: string; aiDecisionId: string; version: number; agree: boolean }>> {
    if (humanDecisionIds.length === 0) return [];
    return tx.query(
      `SELECT human_decision_id::text AS "humanDecisionId", ai_decision_id::text AS "aiDecisionId", workflow_version AS version, agree
       FROM comparisons WHERE human_decision_id = ANY($1::bigint[])`,
      [humanDecisionIds],
    );
  }

  /** Independent human decisions of items whose work item is known, with the item's segment. */
  async independentDecisionsWithSegment(tx: Tx, items: ItemKey[]): Promise<Array<HumanDecisionForComparison & { segment: string }>> {
    if (items.length === 0) return [];
    return tx.query(
      `SELECT h.id::text AS id, h.workflow, h.item_id AS "itemId", h.decision, h.kind, NULL AS "aiDecisionId", NULL AS verdict, w.segment
       FROM unnest($1::text[], $2::text[]) AS k(workflow, item_id)
       JOIN work_items w ON w.workflow = k.workflow AND w.item_id = k.item_id
       JOIN human_decisions h ON h.workflow = k.workflow AND h.item_id = k.item_id AND h.kind = 'independent'
       WHERE w.workflow = ANY($3::text[]) AND w.item_id = ANY($2::text[]) AND h.workflow = ANY($3::text[]) AND h.item_id = ANY($2::text[])
       ORDER BY h.id`,
      keyParams(items),
    );
  }

  async insertHumanPairs(tx: Tx, rows: NewHumanPair[]): Promise<NewHumanPair[]> {
    if (rows.length === 0) return [];
    const inserted: Array<{ f: string; s: string }> = await tx.query(
      `INSERT INTO human_agreements (workflow, item_id, segment, first_decision_id, second_decision_id, agree, field_agreement)
       SELECT workflow, "itemId", segment, "firstDecisionId"::bigint, "secondDecisionId"::bigint, agree, "fieldAgreement"
       FROM jsonb_to_recordset($1::jsonb) AS x(workflow text, "itemId" text, segment text, "firstDecisionId" text,
         "secondDecisionId" text, agree boolean, "fieldAgreement" jsonb)
       ON CONFLICT (first_decision_id, second_decision_id) DO NOTHING
       RETURNING first_decision_id::text AS f, second_decision_id::text AS s`,
      [JSON.stringify(rows)],
    );
    const fresh = new Set(inserted.map((r) => `${r.f}:${r.s}`));
    return rows.filter((r) => fresh.has(`${r.firstDecisionId}:${r.secondDecisionId}`));
  }
}
