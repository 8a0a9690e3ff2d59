import { defaultGuardParams, guardArl, GuardParams, guardParamsForEstimate, wilsonInterval } from '../../stats/domain';
import type { GuardConfig } from '../../workflows/domain/workflow-definition';

export type GuardedStage = 'supervised' | 'confidence-routed';

/** What a guard defends, and where that number came from. */
export interface GuardBaseline {
  /** The stage whose evidence the guard watches: a guard armed for another stage is re-armed. */
  stage: GuardedStage;
  /** measured: blind agreement of the same kind the guard watches; target: too little of it, the stage's target is defended. */
  source: 'measured' | 'target';
  n: number;
  agree: number;
  rate: number;
  /** The lower bound the guard's false-revert rate is guaranteed at (the rate itself for a target). */
  lower: number;
  /** Expected blind labels between false reverts if the true rate were only `lower` (the rollout's risk adds these up). */
  arl0: number;
  at: string;
  detail: string;
}

export interface ArmGuardInput {
  stage: GuardedStage;
  /**
   * Blind labels of the kind the guard will watch: at supervised, blind agreement over all items
   * (the blind share samples every item); at confidence-routed, blind accuracy above the threshold
   * in force (audits sample only items at or above it). Null when there are none.
   */
  measured: { n: number; agree: number } | null;
  /** What the stage promises when nothing is measured: the gate's agreement target (supervised) or the threshold's accuracy target. */
  target: number;
  guard: GuardConfig;
  at: Date;
}

/** Fewer blind labels than this are no baseline: the stage's target is defended instead. */
export const MIN_BASELINE_LABELS = 100;

/**
 * Arms the regression guard of a stage above shadow — after a promotion, an operator's move in
 * Unleash, a manual rollback or a revert alike. The baseline is estimated from the same kind of
 * blind evidence the guard then watches, and its estimation error is paid for in the threshold
 * (guardParamsForEstimate), never in false reverts. With too little evidence, or evidence too
 * uncertain to tell from the drop, the guard defends the stage's target.
 */
export function armGuard(i: ArmGuardInput): { params: GuardParams; baseline: GuardBaseline } {
  const options = { drop: i.guard.minDetectableDrop, targetArl0: i.guard.targetArl0 };
  const withThreshold = (p: GuardParams): GuardParams => (i.guard.threshold ? { ...p, h: i.guard.threshold } : p);
  const at = i.at.toISOString();
  const m = i.measured;
  if (m && m.n >= MIN_BASELINE_LABELS) {
    const ci = wilsonInterval(m.agree, m.n, i.guard.baselineConfidence);
    const rate = ci.rate ?? 0;
    try {
      const params = withThreshold(guardParamsForEstimate(rate, ci.lower, options));
      return {
        params,
        baseline: {
          stage: i.stage,
          source: 'measured',
          n: m.n,
          agree: m.agree,
          rate,
          lower: ci.lower,
          arl0: guardArl(ci.lower, params),
          at,
          detail: `blind agreement ${m.agree}/${m.n} = ${rate.toFixed(3)} (lower bound ${ci.lower.toFixed(3)} at ${i.guard.baselineConfidence})`,
        },
      };
    } catch {
      // Too uncertain to tell from the drop, or too low to drop further: defend the target.
    }
  }
  const params = withThreshold(defaultGuardParams(i.target, options));
  return {
    params,
    baseline: {
      stage: i.stage,
      source: 'target',
      n: m?.n ?? 0,
      agree: m?.agree ?? 0,
      rate: i.target,
      lower: i.target,
      arl0: guardArl(i.target, params),
      at,
      detail: `${m?.n ?? 0} blind labels are too few for a baseline: the stage's target ${i.target} is defended`,
    },
  };
}

/** Whether a segment at `stage` needs its guard (re-)armed: above shadow, and unarmed or armed for another stage. */
export function needsArming(stage: string, params: GuardParams | null, baseline: { stage?: string } | null): stage is GuardedStage {
  if (stage !== 'supervised' && stage !== 'confidence-routed') return false;
  return !params || !baseline || baseline.stage !== stage;
}

/**
 * The start of a re-review window: the earliest AI decision the guard's evidence covers. The
 * evidence since the CUSUM left zero arrived from that time on, but its labels can be about items
 * the AI decided earlier (people label late): every `auto` decision from the earliest of those on
 * is re-reviewed.
 */
export function rereviewFrom(windowStartedAt: Date, earliestDecisionLabelledInWindow: Date | null): Date {
  if (!earliestDecisionLabelledInWindow) return windowStartedAt;
  return earliestDecisionLabelledInWindow < windowStartedAt ? earliestDecisionLabelledInWindow : windowStartedAt;
}
