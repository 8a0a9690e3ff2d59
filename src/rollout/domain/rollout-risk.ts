/*
 * The risk of the rollout as a whole: each segment's decisions carry a stated risk, and a program
 * manager with a hundred segments needs their sum.
 *
 *  - False reverts: a healthy segment's guard raises a false alarm as a Poisson process of rate
 *    1/ARL₀ per blind label (ARL₀ at the baseline's lower bound, so the rate is an upper bound), so
 *    it expects blindPerDay / ARL₀ false reverts a day.
 *  - False promotions: a gate whose agreement bound is a (1 − α) confidence sequence takes a step
 *    on a segment whose true blind agreement is at or below its target with probability at most α,
 *    however long the step lasts. Over the steps taken in a day that is at most α per step; over the
 *    steps now pending, at most α each.
 * The sums are expectations (linearity needs no independence between segments). They bound the
 * false promotions' number, not their share: when most segments are at their target, most
 * promotions may be false. A workflow with falsePromotionControl e-bh also bounds that share
 * (the expected share of false promotions among a stage's promotions is at most α).
 */

import { guardArl, GuardParams } from '../../stats/domain';
import type { WorkflowDefinition } from '../../workflows/domain/workflow-definition';
import type { SegmentState } from './segment-state';
import { nextStep } from './steps';

export interface SegmentRiskInput {
  workflow: string;
  segment: string;
  stage: string;
  /** 1 − α of the gate of the step the segment waits on; null when none is pending (top of the ladder, or paused). */
  pendingGateConfidence: number | null;
  /** Steps up taken in the last day, each with the gate confidence it passed at. */
  promotionsLastDay: number[];
  /** The armed guard: its in-control ARL (blind labels) and the blind labels of its arm in the last day. */
  guard: { arl0: number; blindLastDay: number } | null;
  /** How the segment's workflow controls false promotions (rollout.falsePromotionControl). */
  falsePromotionControl: 'per-segment' | 'e-bh';
}

export interface SegmentRisk {
  workflow: string;
  segment: string;
  stage: string;
  falseRevertsPerDay: number;
  falsePromotionsLastDay: number;
  falsePromotionPending: number;
}

export interface RolloutRisk {
  /** Expected false reverts a day over all segments, if every one is healthy. */
  falseRevertsPerDay: number;
  /** Upper bound on the expected false promotions among the steps taken in the last day. */
  falsePromotionsLastDay: number;
  /** Upper bound on the expected false promotions among the steps now pending. */
  falsePromotionsPending: number;
  segments: SegmentRisk[];
  /** Workflows whose promotions are also judged together by e-BH (the share of false ones bounded). */
  shareControlledWorkflows: string[];
  /** One sentence for a program manager. */
  summary: string;
}

export function rolloutRisk(inputs: readonly SegmentRiskInput[]): RolloutRisk {
  const segments = inputs.map((s): SegmentRisk => {
    if (s.guard && !(s.guard.arl0 > 0)) throw new RangeError(`rolloutRisk: ${s.workflow}/${s.segment}: ARL₀ must be positive, got ${s.guard.arl0}`);
    return {
      workflow: s.workflow,
      segment: s.segment,
      stage: s.stage,
      falseRevertsPerDay: s.guard ? s.guard.blindLastDay / s.guard.arl0 : 0,
      falsePromotionsLastDay: s.promotionsLastDay.reduce((sum, confidence) => sum + (1 - confidence), 0),
      falsePromotionPending: s.pendingGateConfidence === null ? 0 : 1 - s.pendingGateConfidence,
    };
  });
  const sum = (k: 'falseRevertsPerDay' | 'falsePromotionsLastDay' | 'falsePromotionPending') => segments.reduce((a, s) => a + s[k], 0);
  const reverts = sum('falseRevertsPerDay');
  const lastDay = sum('falsePromotionsLastDay');
  const pending = sum('falsePromotionPending');
  const guarded = inputs.filter((s) => s.guard).length;
  const waiting = inputs.filter((s) => s.pendingGateConfidence !== null).length;
  const shareControlled = [...new Set(inputs.filter((s) => s.falsePromotionControl === 'e-bh').map((s) => s.workflow))].sort();
  const summary =
    `If every segment is healthy, expect ${reverts.toFixed(3)} false reverts a day over ${guarded} guarded segment${guarded === 1 ? '' : 's'} ` +
    `(one every ${reverts > 0 ? `${(1 / reverts).toFixed(1)} days` : 'never, at today’s label volume'}); ` +
    `at most ${lastDay.toFixed(3)} of the last day's promotions, and ${pending.toFixed(3)} of the ${waiting} pending steps, were taken on a segment that was not better than its target` +
    (shareControlled.length > 0 ? `; in ${shareControlled.join(', ')} the share of false promotions among a stage's promotions is also bounded (e-BH).` : '.');
  return {
    falseRevertsPerDay: reverts,
    falsePromotionsLastDay: lastDay,
    falsePromotionsPending: pending,
    segments,
    shareControlledWorkflows: shareControlled,
    summary,
  };
}

/** Whether a segment's guard counts toward false reverts: armed, on a stage above shadow. */
export function guardCounts<S extends Pick<SegmentState, 'stage' | 'guardParams'>>(s: S): s is S & { guardParams: GuardParams } {
  return s.stage !== 'shadow' && s.guardParams !== null;
}

/**
 * What a segment's risk is computed from: the gate of the step it waits on (none while paused or
 * at the top), the gates its steps of the last day passed (a step into a stage without a gate
 * counts at confidence 1: no risk of its own), and its armed guard's ARL₀ (stored with its
 * baseline, else computed at the baseline's lower bound) beside the blind labels its arm got in
 * the last day.
 */
export function segmentRiskInput(
  s: Pick<SegmentState, 'workflow' | 'segment' | 'stage' | 'trafficPct' | 'paused' | 'guardParams' | 'baseline'>,
  rollout: Pick<WorkflowDefinition['rollout'], 'gates' | 'steps' | 'falsePromotionControl'>,
  promotionsLastDay: ReadonlyArray<{ workflow: string; segment: string; toStage: string }>,
  blindLastDay: number,
): SegmentRiskInput {
  const gateOf = (stage: string) => (stage === 'supervised' || stage === 'confidence-routed' ? rollout.gates[stage].confidence : null);
  const target = s.paused ? null : nextStep({ stage: s.stage, trafficPct: s.trafficPct }, rollout.steps);
  const guard = guardCounts(s) ? { arl0: s.baseline?.arl0 ?? guardArl(s.baseline?.lower ?? s.guardParams.p0, s.guardParams), blindLastDay } : null;
  return {
    workflow: s.workflow,
    segment: s.segment,
    stage: s.stage,
    pendingGateConfidence: target ? gateOf(target.stage) : null,
    promotionsLastDay: promotionsLastDay.filter((p) => p.workflow === s.workflow && p.segment === s.segment).map((p) => gateOf(p.toStage) ?? 1),
    guard,
    falsePromotionControl: rollout.falsePromotionControl,
  };
}
