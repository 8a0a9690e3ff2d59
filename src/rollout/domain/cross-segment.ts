import { agreementEValue, eBenjaminiHochberg, priorCentredOn } from '../../stats/domain';
import type { RolloutConfig } from '../../workflows/domain/workflow-definition';
import type { CrossSegmentControl } from './evaluate-segment';
import type { SegmentState } from './segment-state';
import { nextStep } from './steps';

/** A segment's claim to its next step: the stage it would enter and its e-value. */
export interface PromotionCandidate {
  segment: string;
  stage: 'supervised' | 'confidence-routed';
  eValue: number;
}

/**
 * The e-value of a segment's next promotion: the blind evidence of its current step against "its
 * agreement is at most the target of the gate it is judged by" (the gate's own sequence, as an
 * e-process). Null at the top of the ladder.
 */
export function promotionCandidate(s: SegmentState, stepBlind: { n: number; agree: number }, rollout: RolloutConfig): PromotionCandidate | null {
  const target = nextStep({ stage: s.stage, trafficPct: s.trafficPct }, rollout.steps);
  if (!target || target.stage === 'shadow') return null;
  const goal = rollout.gates[target.stage].agreementTarget;
  return { segment: s.segment, stage: target.stage, eValue: agreementEValue(stepBlind.agree, stepBlind.n, goal, priorCentredOn(goal)) };
}

/**
 * e-BH across a workflow's segments, one family per stage they would enter, at α = 1 − that
 * gate's confidence: among the promotions it allows, the expected share of segments whose true
 * agreement is at or below the target stays at most α, however many segments there are and
 * however their evidence depends on each other. Every segment with a next step is in its family.
 */
export function crossSegmentControl(candidates: readonly PromotionCandidate[], rollout: RolloutConfig): Map<string, CrossSegmentControl> {
  const out = new Map<string, CrossSegmentControl>();
  for (const stage of ['supervised', 'confidence-routed'] as const) {
    const family = candidates.filter((c) => c.stage === stage);
    if (family.length === 0) continue;
    const alpha = 1 - rollout.gates[stage].confidence;
    const r = eBenjaminiHochberg(
      family.map((c) => c.eValue),
      alpha,
    );
    family.forEach((c, i) =>
      out.set(c.segment, { eValue: c.eValue, family: family.length, discoveries: r.discoveries, threshold: r.threshold, alpha, promoted: r.rejected[i] }),
    );
  }
  return out;
}
