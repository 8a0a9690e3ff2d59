import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/sql';

/** What was decided for one AI decision: the action, at which stage, and why. */
export interface NewRoutingDecision {
  aiDecisionId: string;
  workflow: string;
  itemId: string;
  segment: string;
  stage: string | null;
  action: string;
  reason: string;
  threshold: number | null;
  confidence: number | null;
}

/** The routing_decisions table, written only here. */
@Injectable()
export class RoutingRepository {
  /** Records routing decisions in the caller's transaction; one per AI decision (a redelivery adds none). */
  async insertDecisions(tx: Tx, decisions: NewRoutingDecision[]): Promise<void> {
    if (decisions.length === 0) return;
    await tx.query(
      `INSERT INTO routing_decisions (ai_decision_id, workflow, item_id, segment, stage, action, reason, threshold, confidence)
       SELECT "aiDecisionId"::bigint, workflow, "itemId", segment, stage, action, reason, threshold, confidence
       FROM jsonb_to_recordset($1::jsonb) AS x("aiDecisionId" text, workflow text, "itemId" text, segment text, stage text,
         action text, reason text, threshold double precision, confidence double precision)
       ON CONFLICT (ai_decision_id) DO NOTHING`,
      [JSON.stringify(decisions)],
    );
  }
}
