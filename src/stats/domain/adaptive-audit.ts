import { confidenceSequence, priorCentredOn, sequenceExcludes } from './confidence-sequence';
import type { GuardBatch, GuardParams } from './regression-guard';

/*
 * Adaptive audits: where labels are scarce (confidence-routed, a 5 % blind audit share), an alarm of
 * a label-free monitor (drift-monitor.ts) raises the segment's audit share, so the regression guard
 * gets the blind labels it needs to confirm or clear a drop while it matters — the guard itself is
 * unchanged, it only hears more.
 *
 * Raised: base share × factor, at most the cap; the default is × 8 up to 40 %. The guard, armed on a
 * week of blind labels, needs about 550 of them to confirm a drop from 0.92 to 0.86 (its ARL at
 * 0.86). At 700 items a day the base 5 % brings 35 a day — two weeks — and the monitor alarms about
 * two thirds of a day after the drift, so a revert within 3 days needs a share of about a third
 * from then on: in early-warning-simulation.ts (1,000 runs) × 4 (20 %) reverts in a median 4.3 days,
 * × 8 (40 %) in 2.6, the fixed 5 % in 14.5. A false alarm costs the raised share until the all-clear
 * — a median 0.8 days, ~200 extra audits at 700 items a day — and the monitor promises at most 1.4
 * false alarms per 1,000 segment-days at that traffic: well under one extra audit per segment-day,
 * against the 35 the base share spends.
 *
 * All-clear (back to the base share): the blind labels since the raise put a confidence sequence's
 * lower bound (anytime-valid, confidence-sequence.ts) at or above the rate the guard is tuned to
 * catch (its p1): the drop worth reverting for is ruled out. A real drop instead ends in the guard's
 * revert, which the caller handles. After an all-clear the distribution has moved while quality has
 * not, so the caller re-takes the monitor's reference from recent items; otherwise the same shift
 * raises the share again.
 */

export interface AdaptiveAuditPolicy {
  baseShare: number;
  factor: number;
  cap: number;
  /** Confidence of the sequence whose lower bound must clear the guard's p1. */
  clearConfidence: number;
}

export const DEFAULT_AUDIT_POLICY: AdaptiveAuditPolicy = { baseShare: 0.05, factor: 8, cap: 0.4, clearConfidence: 0.95 };

export interface AdaptiveAuditState {
  raised: boolean;
  /** Blind labels (and agreements) since the share was raised. */
  n: number;
  agree: number;
}

export interface AdaptiveAuditUpdate {
  state: AdaptiveAuditState;
  share: number;
  /** The raised share went back to the base share with this batch. */
  cleared: boolean;
}

export function initialAuditState(): AdaptiveAuditState {
  return { raised: false, n: 0, agree: 0 };
}

export function auditShare(policy: AdaptiveAuditPolicy, state: AdaptiveAuditState): number {
  assertPolicy(policy);
  return state.raised ? Math.max(policy.baseShare, Math.min(policy.cap, policy.baseShare * policy.factor)) : policy.baseShare;
}

/** A monitor alarmed: the share is raised, and the all-clear counts labels from now on. */
export function raiseAudits(): AdaptiveAuditState {
  return { raised: true, n: 0, agree: 0 };
}

/** Blind labels of items decided since the raise; the all-clear when they rule out the guard's drop. */
export function observeAudits(state: AdaptiveAuditState, batch: GuardBatch, policy: AdaptiveAuditPolicy, guard: GuardParams): AdaptiveAuditUpdate {
  if (!state.raised) return { state, share: auditShare(policy, state), cleared: false };
  if (!(Number.isInteger(batch.n) && Number.isInteger(batch.agree) && batch.agree >= 0 && batch.agree <= batch.n)) {
    throw new RangeError(`observeAudits: batch must have integer 0 ≤ agree ≤ n, got ${batch.agree} of ${batch.n}`);
  }
  const next = { raised: true, n: state.n + batch.n, agree: state.agree + batch.agree };
  // The lower bound is at or above p1 exactly when the sequence excludes p1 from above: one evaluation.
  if (next.n > 0 && next.agree / next.n > guard.p1 && sequenceExcludes(next.agree, next.n, guard.p1, policy.clearConfidence, priorCentredOn(guard.p0))) {
    const base = initialAuditState();
    return { state: base, share: auditShare(policy, base), cleared: true };
  }
  return { state: next, share: auditShare(policy, next), cleared: false };
}

/** The numbers behind the all-clear: the lower bound on blind agreement since the raise, and the rate it must reach. */
export function allClearBound(
  state: AdaptiveAuditState,
  policy: AdaptiveAuditPolicy,
  guard: GuardParams,
): { n: number; agree: number; lowerBound: number | null; needed: number } {
  const lowerBound = state.raised && state.n > 0 ? confidenceSequence(state.agree, state.n, policy.clearConfidence, priorCentredOn(guard.p0)).lower : null;
  return { n: state.n, agree: state.agree, lowerBound, needed: guard.p1 };
}

function assertPolicy(p: AdaptiveAuditPolicy): void {
  if (!(p.baseShare > 0 && p.baseShare <= 1 && p.cap >= p.baseShare && p.cap <= 1 && p.factor >= 1)) {
    throw new RangeError(`adaptive audit policy needs 0 < baseShare ≤ cap ≤ 1 and factor ≥ 1, got ${JSON.stringify(p)}`);
  }
}
