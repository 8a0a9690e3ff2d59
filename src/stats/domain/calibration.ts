import { wilsonInterval } from './wilson-interval';

/**
 * Calibration: does "confidence 0.9" from the model mean it agrees with people 90 % of the time?
 *
 * Confidence is summarised in equal-width bins on [0, 1] (rollups store per-bin counts, not every
 * score). Bin i covers [i/B, (i + 1)/B), the last bin also holds 1.0. The routing threshold is a
 * bin's lower edge, so rollups, the threshold and the router must all bin with the same function:
 * `confidenceBinIndex`.
 */
export function confidenceBinIndex(confidence: number, binCount: number): number {
  if (!Number.isInteger(binCount) || binCount < 1) {
    throw new RangeError(`binCount must be a positive integer, got ${binCount}`);
  }
  if (!(confidence >= 0 && confidence <= 1)) throw new RangeError(`confidence must be within [0, 1], got ${confidence}`);
  return Math.min(binCount - 1, Math.floor(confidence * binCount));
}

export interface CalibrationInput {
  /** n[i]: items whose confidence fell in bin i. */
  n: readonly number[];
  /** agree[i]: of those, how many agreed with the human (or were judged correct). */
  agree: readonly number[];
  /**
   * Optional sum of the confidence scores in each bin. With it, each bin is compared with its mean
   * confidence; without it, with the bin's midpoint (the best available guess, off by at most half
   * a bin width).
   */
  confidenceSum?: readonly number[];
  /** Confidence level of each bin's Wilson interval; default 0.95. */
  confidence?: number;
}

export interface CalibrationBin {
  index: number;
  /** The bin covers [from, to); the last bin includes 1. */
  from: number;
  to: number;
  n: number;
  agree: number;
  /** Observed agreement in the bin with its Wilson interval; rate null when the bin is empty. */
  rate: number | null;
  lower: number;
  upper: number;
  /** Mean stated confidence in the bin (or the midpoint, see `confidenceSource`). */
  meanConfidence: number;
  /** rate − meanConfidence: negative means over-confident. Null when the bin is empty. */
  gap: number | null;
}

export interface CalibrationResult {
  bins: CalibrationBin[];
  n: number;
  agree: number;
  /**
   * Expected calibration error, ECE = Σᵢ (nᵢ/N)·|rateᵢ − confidenceᵢ| (Naeini, Cooper & Hauskrecht
   * 2015; Guo et al. 2017 "On calibration of modern neural networks"). Null with no items.
   */
  expectedCalibrationError: number | null;
  /** Maximum calibration error, the largest |gap| over non-empty bins. Null with no items. */
  maxCalibrationError: number | null;
  confidenceSource: 'mean' | 'midpoint';
}

/** Per-bin agreement with Wilson intervals, ECE and MCE, from per-bin counts. */
export function calibration(input: CalibrationInput): CalibrationResult {
  const { n, agree, confidenceSum } = input;
  const level = input.confidence ?? 0.95;
  const binCount = n.length;
  if (binCount === 0) throw new RangeError('calibration: at least one bin is needed');
  if (agree.length !== binCount) {
    throw new RangeError(`calibration: ${binCount} bin counts but ${agree.length} agreement counts`);
  }
  if (confidenceSum && confidenceSum.length !== binCount) {
    throw new RangeError(`calibration: ${binCount} bin counts but ${confidenceSum.length} confidence sums`);
  }

  const total = n.reduce((s, v) => s + v, 0);
  let weightedGap = 0;
  let maxGap: number | null = null;
  const bins = n.map((count, index): CalibrationBin => {
    const interval = wilsonInterval(agree[index], count, level);
    const from = index / binCount;
    const to = (index + 1) / binCount;
    const meanConfidence = confidenceSum && count > 0 ? confidenceSum[index] / count : (from + to) / 2;
    const gap = interval.rate === null ? null : interval.rate - meanConfidence;
    if (gap !== null) {
      weightedGap += (count / total) * Math.abs(gap);
      maxGap = Math.max(maxGap ?? 0, Math.abs(gap));
    }
    const { rate, lower, upper } = interval;
    return { index, from, to, n: count, agree: agree[index], rate, lower, upper, meanConfidence, gap };
  });

  return {
    bins,
    n: total,
    agree: agree.reduce((s, v) => s + v, 0),
    expectedCalibrationError: total === 0 ? null : weightedGap,
    maxCalibrationError: maxGap,
    confidenceSource: confidenceSum ? 'mean' : 'midpoint',
  };
}
