/*
 * The confidence threshold for `auto`, with a stated guarantee.
 *
 * Picking "the lowest threshold whose observed accuracy meets the target" from the same labels
 * overfits: among many candidates, some clear the bar by luck, and the true accuracy above the
 * chosen one falls short far more often than people assume (31 % of the time in the simulated
 * case of threshold.spec.ts, where 10 % was intended). Instead each candidate λ is a hypothesis
 * test, as in "Learn then Test" (Angelopoulos, Bates, Candès, Jordan & Lei 2021) and "Trust or
 * Escalate" (Jung, Brahman & Choi 2024):
 *
 *   H₀(λ): accuracy among items with confidence ≥ λ is below the target α,
 *   p(λ) = P(Binomial(n_λ, α) ≥ correct_λ)   (exact, valid given n_λ).
 *
 * Candidates are tested in a fixed order, from the highest bin edge down (fixed-sequence testing):
 * each rejected at level δ, stopping at the first that is not. Fixed-sequence testing controls the
 * family-wise error at δ without any multiplicity correction, so with probability at least 1 − δ
 * every certified threshold — in particular the lowest one, which we choose — really has
 * accuracy ≥ α above it (on items like the calibration labels: fresh review and audit outcomes).
 *
 * Looked at again and again. The controller recomputes the threshold every cycle on a growing set
 * of labels. A fixed-sample p-value re-tested on every look certifies a wrong threshold sooner or
 * later (0.45 % at one look, ~12 % over 200 looks in the simulated case of the spec). So by default
 * (`test: 'anytime'`) each p(λ) is the anytime-valid p-value of the beta-binomial mixture
 * (confidence-sequence.ts): p(λ) = min(1, 1/M(α)) when the observed accuracy is above α, else 1.
 * P(p(λ) ever ≤ δ | accuracy above λ ≤ α) ≤ δ by Ville's inequality, so fixed-sequence testing keeps
 * its guarantee at every look at once: certifying λ means its sequence's lower bound is above α.
 * `test: 'fixed-sample'` keeps the exact binomial test, valid for a single look (a one-off report).
 *
 * What the guarantee assumes: the labelled items are a sample of the traffic in which every bin is
 * represented in proportion — e.g. shadow comparisons (every item has an independent human
 * decision), or audits drawn at the same rate in every bin. Pooling fully reviewed low bins with
 * sparsely audited high bins weights the bins wrongly; pass one representative source instead.
 */

import { binomialUpperTail } from './binomial';
import { logMixtureMartingale, priorCentredOn } from './confidence-sequence';
import { wilsonInterval } from './wilson-interval';

export interface ThresholdInput {
  /** n[i]: labelled items whose confidence fell in bin i (equal-width bins on [0, 1]). */
  n: readonly number[];
  /** correct[i]: of those, how many the AI got right. */
  correct: readonly number[];
  /** α: the accuracy that must hold above the threshold, e.g. 0.9. */
  target: number;
  /** δ: the accepted probability that the guarantee fails, e.g. 0.1. */
  delta: number;
  /**
   * Candidates with fewer labelled items above them are skipped, not tested (default 30). Skipping
   * depends only on counts, never on outcomes, so the guarantee is unaffected; it keeps a lucky run
   * of 5/5 at the very top from being the first test.
   */
  minCount?: number;
  /** Confidence level of the Wilson interval shown for the accuracy above the threshold (default 0.95). */
  confidence?: number;
  /** 'anytime' (default): valid however often it is recomputed; 'fixed-sample': the exact binomial test of one look. */
  test?: ThresholdTest;
}

export type ThresholdTest = 'anytime' | 'fixed-sample';

export interface ThresholdCandidate {
  /** λ, the lower edge of bin `binIndex`. */
  threshold: number;
  binIndex: number;
  /** Labelled items with confidence ≥ λ, and how many were correct. */
  n: number;
  correct: number;
  accuracy: number;
  /**
   * How surprising this many correct would be if accuracy were only α: anytime-valid (1/M(α), see
   * above) or, for a single look, P(Binomial(n, target) ≥ correct).
   */
  pValue: number;
  rejected: boolean;
}

export type ThresholdStatus = 'certified' | 'no-labels' | 'too-few-labels' | 'not-certified';

export interface ThresholdRecommendation {
  status: ThresholdStatus;
  /** The lowest certified λ, or null: no threshold is certified yet (see `reason`). */
  threshold: number | null;
  binIndex: number | null;
  /** Share of labelled items at or above the threshold: how much would go `auto`. */
  coverage: number | null;
  nAbove: number | null;
  correctAbove: number | null;
  accuracyAbove: number | null;
  /** Wilson bounds of the accuracy above the threshold at `confidence` (for reading; the guarantee comes from the test). */
  accuracyLower: number | null;
  accuracyUpper: number | null;
  confidence: number;
  /** The guarantee: P(accuracy above the threshold ≥ target) ≥ 1 − delta. */
  target: number;
  delta: number;
  minCount: number;
  test: ThresholdTest;
  /** Total labelled items. */
  n: number;
  /** Every candidate that was tested, from the highest down, with its p-value. */
  tested: ThresholdCandidate[];
  /** One sentence a program manager can read. */
  reason: string;
}

/**
 * The lowest confidence threshold certified to keep accuracy ≥ target above it with probability
 * ≥ 1 − delta, from per-bin label counts; or null with the reason none is certified yet.
 */
export function recommendThreshold(input: ThresholdInput): ThresholdRecommendation {
  const { n, correct, target, delta } = input;
  const minCount = input.minCount ?? 30;
  const confidence = input.confidence ?? 0.95;
  const test = input.test ?? 'anytime';
  validate(input, minCount);
  const prior = priorCentredOn(target);
  const pValueOf = (k: number, m: number): number => {
    if (test === 'fixed-sample') return binomialUpperTail(k, m, target);
    if (k / m <= target) return 1;
    return Math.min(1, Math.exp(-logMixtureMartingale(k, m, target, prior)));
  };

  const binCount = n.length;
  const total = n.reduce((s, v) => s + v, 0);
  const tested: ThresholdCandidate[] = [];
  let chosen: ThresholdCandidate | null = null;
  let itemsAbove = 0;
  let correctAbove = 0;

  for (let bin = binCount - 1; bin >= 0; bin--) {
    itemsAbove += n[bin];
    correctAbove += correct[bin];
    // An empty bin adds no evidence; lowering λ into it would certify a region never observed.
    if (n[bin] === 0 || itemsAbove < minCount) continue;
    const pValue = pValueOf(correctAbove, itemsAbove);
    const candidate: ThresholdCandidate = {
      threshold: bin / binCount,
      binIndex: bin,
      n: itemsAbove,
      correct: correctAbove,
      accuracy: correctAbove / itemsAbove,
      pValue,
      rejected: pValue <= delta,
    };
    tested.push(candidate);
    if (!candidate.rejected) break; // fixed-sequence testing stops at the first non-rejection
    chosen = candidate;
  }

  const base = { confidence, target, delta, minCount, test, n: total, tested };
  if (chosen) {
    const interval = wilsonInterval(chosen.correct, chosen.n, confidence);
    return {
      ...base,
      status: 'certified',
      threshold: chosen.threshold,
      binIndex: chosen.binIndex,
      coverage: chosen.n / total,
      nAbove: chosen.n,
      correctAbove: chosen.correct,
      accuracyAbove: chosen.accuracy,
      accuracyLower: interval.lower,
      accuracyUpper: interval.upper,
      reason:
        `Confidence ≥ ${chosen.threshold} is certified: accuracy ${chosen.correct}/${chosen.n} above it, ` +
        `${test === 'anytime' ? 'anytime-valid ' : ''}p = ${formatP(chosen.pValue)} ≤ δ = ${delta} against accuracy < ${target}; ` +
        `covers ${chosen.n} of ${total} labelled items.`,
    };
  }

  const none = {
    ...base,
    threshold: null,
    binIndex: null,
    coverage: null,
    nAbove: null,
    correctAbove: null,
    accuracyAbove: null,
    accuracyLower: null,
    accuracyUpper: null,
  };
  if (total === 0) {
    return { ...none, status: 'no-labels', reason: 'No threshold is certified yet: there are no review or audit labels.' };
  }
  if (tested.length === 0) {
    return {
      ...none,
      status: 'too-few-labels',
      reason: `No threshold is certified yet: ${total} labelled items in all, ` + `at least ${minCount} are needed above a threshold to test it.`,
    };
  }
  const first = tested[0];
  return {
    ...none,
    status: 'not-certified',
    reason:
      `No threshold is certified yet: at the highest testable threshold, confidence ≥ ${first.threshold}, ` +
      `accuracy is ${first.correct}/${first.n}, p = ${formatP(first.pValue)} > δ = ${delta} against accuracy < ${target}.`,
  };
}

function formatP(p: number): string {
  return p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}

function validate(input: ThresholdInput, minCount: number): void {
  const { n, correct, target, delta } = input;
  if (n.length === 0) throw new RangeError('recommendThreshold: at least one bin is needed');
  if (correct.length !== n.length) {
    throw new RangeError(`recommendThreshold: ${n.length} bin counts but ${correct.length} correct counts`);
  }
  n.forEach((count, i) => {
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(correct[i]) || correct[i] < 0 || correct[i] > count) {
      throw new RangeError(`recommendThreshold: bin ${i} has ${correct[i]} correct of ${count}`);
    }
  });
  if (!(target > 0 && target < 1)) {
    throw new RangeError(`recommendThreshold: target must be strictly between 0 and 1, got ${target}`);
  }
  if (!(delta > 0 && delta < 1)) {
    throw new RangeError(`recommendThreshold: delta must be strictly between 0 and 1, got ${delta}`);
  }
  if (input.test !== undefined && input.test !== 'anytime' && input.test !== 'fixed-sample') {
    throw new RangeError(`recommendThreshold: test must be 'anytime' or 'fixed-sample', got ${String(input.test)}`);
  }
  if (!Number.isInteger(minCount) || minCount < 1) {
    throw new RangeError(`recommendThreshold: minCount must be a positive integer, got ${minCount}`);
  }
}
