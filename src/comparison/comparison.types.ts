export type HumanKind = 'independent' | 'review';
export type Verdict = 'accepted' | 'overridden';

/** An AI decision as the comparison step needs it. */
export interface AiDecisionForComparison {
  id: string;
  workflow: string;
  itemId: string;
  segment: string;
  version: number;
  valid: boolean;
  decision: Record<string, unknown> | null;
  confidence: number | null;
  /** How the item was routed (the champion's routing decision), when it was. */
  routeAction: string | null;
  /** The stage the item was routed under: the arm its labels are evidence of. */
  routeStage: string | null;
  /** The confidence threshold in force when the item was routed. */
  routeThreshold: number | null;
  /** When the AI decided: the time its labels count for. */
  decidedAt: Date;
}

/** A human decision as the comparison step needs it. */
export interface HumanDecisionForComparison {
  id: string;
  workflow: string;
  itemId: string;
  decision: Record<string, unknown>;
  kind: HumanKind;
  aiDecisionId: string | null;
  verdict: Verdict | null;
}
