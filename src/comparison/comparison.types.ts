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
  /** The routing action of this decision, when it is the champion's and was routed. */
  routeAction: string | null;
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
