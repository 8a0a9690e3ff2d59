import { confidenceSequence, priorCentredOn } from '../../stats/domain';

/** Regaining a threshold right after losing one waits this long, so a segment at the edge does not flap. */
export const THRESHOLD_REGAIN_MS = 60_000;
/** Lowering a certified threshold (more `auto`) waits this long after its last change. */
export const THRESHOLD_LOWER_AFTER_MS = 5 * 60_000;

export interface ThresholdPolicyInput {
  /** The threshold in force and where it came from. */
  current: number | null;
  source: 'none' | 'computed' | 'fixed';
  /** When it last changed (null: never). */
  lastChangedAt: Date | null;
  /** What the calibration set certifies now (null: nothing). */
  certified: number | null;
  /**
   * Blind audits of items routed `auto`-eligible under the threshold in force, since it took
   * effect: the accuracy above it, watched continuously.
   */
  auditsAbove: { n: number; agree: number };
  /** The accuracy the threshold promises, and the allowed chance δ of breaking the promise. */
  target: number;
  delta: number;
  now: Date;
}

export type ThresholdMove =
  { kind: 'keep'; value: number | null; reason: string } | { kind: 'set'; value: number | null; reason: string; withdrawnByAudits: boolean };

/**
 * Which confidence threshold is in force after a look. Safety moves apply at once: losing the
 * certification, blind audits showing the accuracy above the threshold is below target (their
 * confidence sequence's upper bound under it, valid at every look), and raising the bar. Moves
 * that let more through wait: a first certification applies at once, regaining one waits
 * THRESHOLD_REGAIN_MS and lowering one THRESHOLD_LOWER_AFTER_MS. A fixed threshold is a person's
 * decision and is kept; the regression guard watches the stage it serves.
 */
export function nextThreshold(i: ThresholdPolicyInput): ThresholdMove {
  if (i.source === 'fixed') return { kind: 'keep', value: i.current, reason: 'a fixed threshold is set by a program manager' };
  if (i.current !== null && i.auditsAbove.n > 0) {
    const audits = confidenceSequence(i.auditsAbove.agree, i.auditsAbove.n, 1 - i.delta, priorCentredOn(i.target));
    if (audits.upper < i.target) {
      return {
        kind: 'set',
        value: null,
        withdrawnByAudits: true,
        reason:
          `blind audits above the threshold ${i.current}: ${i.auditsAbove.agree}/${i.auditsAbove.n} agreed, ` +
          `at most ${audits.upper.toFixed(3)} (${1 - i.delta} confidence sequence) against the target ${i.target}: withdrawn`,
      };
    }
  }
  if (i.certified === i.current) return { kind: 'keep', value: i.current, reason: 'unchanged' };
  const since = i.lastChangedAt ? i.now.getTime() - i.lastChangedAt.getTime() : Infinity;
  if (i.certified === null)
    return { kind: 'set', value: null, withdrawnByAudits: false, reason: 'the certification was lost: nothing goes auto until one is regained' };
  if (i.current === null) {
    if (i.lastChangedAt === null || since >= THRESHOLD_REGAIN_MS) return { kind: 'set', value: i.certified, withdrawnByAudits: false, reason: 'certified' };
    return { kind: 'keep', value: null, reason: `regaining a threshold waits ${THRESHOLD_REGAIN_MS / 1000} s after the last change` };
  }
  if (i.certified > i.current) return { kind: 'set', value: i.certified, withdrawnByAudits: false, reason: 'raised at once: fewer items go auto' };
  if (since >= THRESHOLD_LOWER_AFTER_MS) return { kind: 'set', value: i.certified, withdrawnByAudits: false, reason: 'lowered' };
  return { kind: 'keep', value: i.current, reason: `lowering a threshold waits ${THRESHOLD_LOWER_AFTER_MS / 60_000} min after the last change` };
}
