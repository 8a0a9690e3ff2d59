import type { SegmentSplit } from '../../flags/domain/segment-split';
import { evaluateGate, GateCriterionResult, GateResult } from '../../stats/domain';
import type { RolloutConfig } from '../../workflows/domain/workflow-definition';
import type { SegmentCounts } from './segment-counts';
import { entersStage, nextStep } from './steps';

export interface StepEvaluationInput {
  current: SegmentSplit;
  /** Counts since the current step began. */
  step: SegmentCounts;
  dwellMs: number;
  rollout: RolloutConfig;
  budgetOk: boolean;
  /** The step a program manager approved, if any. */
  approvedStep: SegmentSplit | null;
  /** The confidence threshold in force (needed before anything is routed by confidence). */
  threshold: number | null;
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
 * Judges whether a segment may take its next step: the gate of the stage it is going into,
 * on the counts of the current step, plus the rule that nothing is routed by confidence
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
      n: i.step.n,
      agree: i.step.agree,
      reviews: i.step.reviews,
      overridden: i.step.overridden,
      aiCalls: i.step.aiCalls,
      aiFailures: i.step.aiFailures,
    },
    dwellMs: i.dwellMs,
    criteria: {
      minSample: gateConfig.minSample,
      minDwellMs: gateConfig.minDwellMinutes * 60_000,
      agreementTarget: gateConfig.agreementTarget,
      confidence: gateConfig.confidence,
      maxOverrideRate: gateConfig.maxOverrideRate,
      maxErrorRate: gateConfig.maxErrorRate,
    },
    budgetOk: i.budgetOk,
    approvalRequired,
    approved,
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
