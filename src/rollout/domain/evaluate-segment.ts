import type { SegmentSplit } from '../../flags/domain/segment-split';
import { evaluateGate, GateCriterionResult, GateResult, pairedNonInferiority, ParityPair } from '../../stats/domain';
import type { RolloutConfig } from '../../workflows/domain/workflow-definition';
import { entersStage, nextStep } from './steps';

/** The evidence of the current step: the arm at the segment's stage, items the AI decided since the step began. */
export interface StepEvidence {
  /** Blind labels (the person did not see the AI's answer): agreement is judged on these alone. */
  blind: { n: number; agree: number };
  /** Anchored reviews (the person saw it): the override rate, nothing else. */
  anchored: { n: number; overridden: number };
  aiCalls: number;
  aiFailures: number;
}

export interface StepEvaluationInput {
  current: SegmentSplit;
  evidence: StepEvidence;
  dwellMs: number;
  rollout: RolloutConfig;
  budgetOk: boolean;
  /** The step a program manager approved, if any. */
  approvedStep: SegmentSplit | null;
  /** The confidence threshold in force (needed before anything is routed by confidence). */
  threshold: number | null;
  /** Blind double-labelled items in the order they became known (judged when the target gate sets humanParityMargin). */
  parityPairs?: readonly ParityPair[] | null;
  /** The e-BH decision across the workflow's segments heading to the same stage (falsePromotionControl: e-bh). */
  crossSegment?: CrossSegmentControl | null;
}

export interface CrossSegmentControl {
  /** This segment's e-value against "its agreement is at most the target" (promotionEValue). */
  eValue: number;
  /** Segments in the family, how many e-BH promotes, and the e-value that took. */
  family: number;
  discoveries: number;
  threshold: number;
  alpha: number;
  promoted: boolean;
}

export interface StepEvaluation {
  /** The step the gate is judging, or null at the top of the ladder. */
  target: SegmentSplit | null;
  gate: GateResult | null;
  /** pass → promote to target. */
  verdict: GateResult['verdict'] | 'top';
  approvalRequired: boolean;
}

/**
 * Judges whether a segment may take its next step: the gate of the stage it is going into, on
 * the blind evidence of the arm at the current stage (anchored reviews only for the override
 * rate), plus the rule that nothing is routed by confidence
 * without a certified (or fixed) threshold. Approval is asked when entering a stage whose
 * gate requires it.
 */
export function evaluateStep(i: StepEvaluationInput): StepEvaluation {
  const target = nextStep(i.current, i.rollout.steps);
  if (!target) return { target: null, gate: null, verdict: 'top', approvalRequired: false };
  const gateConfig = i.rollout.gates[target.stage as 'supervised' | 'confidence-routed'];
  const approvalRequired = gateConfig.approval && entersStage(i.current, target);
  const approved = !!i.approvedStep && i.approvedStep.stage === target.stage && Math.abs(i.approvedStep.trafficPct - target.trafficPct) < 0.05;
  const gate = evaluateGate({
    stage: i.current.stage,
    step: i.rollout.steps.indexOf(i.current.trafficPct),
    metrics: {
      n: i.evidence.blind.n,
      agree: i.evidence.blind.agree,
      reviews: i.evidence.anchored.n,
      overridden: i.evidence.anchored.overridden,
      aiCalls: i.evidence.aiCalls,
      aiFailures: i.evidence.aiFailures,
    },
    dwellMs: i.dwellMs,
    criteria: {
      minSample: gateConfig.minSample,
      minDwellMs: gateConfig.minDwellMinutes * 60_000,
      agreementTarget: gateConfig.agreementTarget,
      confidence: gateConfig.confidence,
      // At confidence-routed the only reviews are of items routed there for low confidence: chosen for
      // doubt, their override rate is high by design and is reported, not gated. Entering the stage,
      // the override ceiling judges the supervised arm's suggestions.
      maxOverrideRate: i.current.stage === 'confidence-routed' ? undefined : gateConfig.maxOverrideRate,
      maxErrorRate: gateConfig.maxErrorRate,
    },
    budgetOk: i.budgetOk,
    approvalRequired,
    approved,
    additional: [
      ...(gateConfig.humanParityMargin !== undefined ? [parityCriterion(i.parityPairs ?? [], gateConfig.humanParityMargin, gateConfig.confidence)] : []),
      ...(i.crossSegment ? [crossSegmentCriterion(i.crossSegment)] : []),
    ],
  });
  if (target.stage === 'confidence-routed') {
    const holds = i.threshold !== null;
    const criterion: GateCriterionResult = {
      name: 'threshold',
      holds,
      actual: i.threshold,
      required: true,
      margin: null,
      detail: holds
        ? `Confidence threshold in force: ${i.threshold!.toFixed(2)}.`
        : 'No confidence threshold is certified yet: nothing can be routed by confidence.',
    };
    const withThreshold: GateResult = {
      ...gate,
      criteria: [...gate.criteria, criterion],
    };
    if (!holds && (gate.verdict === 'pass' || gate.verdict === 'awaiting-approval')) {
      return {
        target,
        gate: { ...withThreshold, verdict: 'inconclusive', summary: `${gate.summary} Held: no certified confidence threshold yet.` },
        verdict: 'inconclusive',
        approvalRequired,
      };
    }
    return { target, gate: withThreshold, verdict: gate.verdict, approvalRequired };
  }
  return { target, gate, verdict: gate.verdict, approvalRequired };
}

/** Human parity: shown (holds) or not yet (null) — an AI behind people is not failed, it waits for evidence. */
export function parityCriterion(pairs: readonly ParityPair[], margin: number, confidence: number): GateCriterionResult {
  const p = pairedNonInferiority(pairs, margin, confidence);
  const need = 1 / (1 - confidence);
  const detail =
    p.n === 0
      ? `No blind double-labelled items yet: human parity (AI at most ${margin} behind a second person) cannot be judged.`
      : `On ${p.n} blind double-labelled items the AI agreed with the first person ${p.aiAgree} times, a second person ${p.humanAgree} times ` +
        `(difference ${p.difference!.toFixed(3)}, margin −${margin}); evidence of parity ${p.eValue.toFixed(1)} of the ${need.toFixed(0)} needed.`;
  return {
    name: 'human-parity',
    holds: p.nonInferior ? true : null,
    actual: p.difference,
    required: -margin,
    margin: p.difference === null ? null : p.difference + margin,
    detail,
  };
}

/** e-BH across segments: in the promoted set (holds) or not yet (null). */
export function crossSegmentCriterion(c: CrossSegmentControl): GateCriterionResult {
  const needs = Number.isFinite(c.threshold) ? c.threshold : c.family / c.alpha;
  return {
    name: 'cross-segment',
    holds: c.promoted ? true : null,
    actual: c.eValue,
    required: needs,
    margin: c.eValue - needs,
    detail:
      `e-BH across ${c.family} segments (false promotions at most ${c.alpha} of promotions): ` +
      `this segment's evidence ${c.eValue.toFixed(1)}, ${c.promoted ? 'among' : 'not yet among'} the ${c.discoveries} promoted` +
      (c.promoted ? '.' : ` (needs ${needs.toFixed(1)} or more).`),
  };
}
