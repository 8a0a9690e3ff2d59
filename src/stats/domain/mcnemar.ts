import { binomialCdf, binomialPmf } from './binomial';
import { normalUpperTail } from './normal';
import { pairedProportionDifference, ProportionDifference } from './proportion-difference';

/**
 * Two model versions (A, e.g. the champion, and B, the challenger) judged on the SAME items.
 * Only the discordant items (one right, the other wrong) carry information about which is better;
 * that is why the comparison is paired instead of two independent agreement rates, which would
 * waste the pairing and give intervals that are far too wide.
 */
export interface PairedComparisonCounts {
  /** Items both versions got right. */
  bothRight: number;
  /** b: A right, B wrong. */
  onlyARight: number;
  /** c: A wrong, B right. */
  onlyBRight: number;
  /** Items both versions got wrong. */
  bothWrong: number;
}

export type McNemarVerdict = 'A better' | 'B better' | 'no significant difference';

export interface McNemarResult {
  n: number;
  /** b + c: the only items that tell the versions apart. */
  discordant: number;
  accuracyA: number | null;
  accuracyB: number | null;
  /**
   * accuracyA − accuracyB = (b − c)/n with Newcombe's (1998) paired score interval (method 10);
   * null when n = 0.
   */
  difference: ProportionDifference | null;
  /**
   * Exact conditional two-sided p-value: 2·P(X ≤ min(b, c)) for X ~ Binomial(b + c, ½), capped at 1.
   * Never anti-conservative, which is why it decides the verdict.
   */
  exactPValue: number;
  /**
   * Mid-p version: the exact p-value minus P(X = min(b, c)). Fagerland, Lydersen & Laake (2013,
   * BMC Medical Research Methodology 13:91) recommend it as closer to nominal; reported for analysts.
   */
  midPValue: number;
  /** Edwards' continuity-corrected statistic max(0, |b − c| − 1)²/(b + c); null when b + c = 0. */
  chiSquareCorrected: number | null;
  /** P(χ²₁ ≥ chiSquareCorrected); null when b + c = 0. */
  chiSquareCorrectedPValue: number | null;
  /** McNemar's original statistic (b − c)²/(b + c), the one most textbooks print; null when b + c = 0. */
  chiSquare: number | null;
  /** P(χ²₁ ≥ chiSquare); null when b + c = 0. */
  chiSquarePValue: number | null;
  alpha: number;
  /** Decided by the exact p-value at alpha; the direction is the sign of b − c. */
  verdict: McNemarVerdict;
}

/**
 * McNemar's test for two model versions on the same items (McNemar 1947, Psychometrika 12:153–157).
 *
 * Under H0 (equal accuracy) each discordant item is equally likely to favour A or B, so b given
 * b + c is Binomial(b + c, ½) — the exact test needs no large-sample approximation, which matters
 * when two versions disagree on only a handful of items.
 */
export function mcnemarTest(counts: PairedComparisonCounts, alpha = 0.05): McNemarResult {
  for (const [name, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`mcnemarTest: ${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`mcnemarTest: alpha must be strictly between 0 and 1, got ${alpha}`);

  const { bothRight, onlyARight: b, onlyBRight: c, bothWrong } = counts;
  const n = bothRight + b + c + bothWrong;
  const discordant = b + c;
  const smaller = Math.min(b, c);

  // P(X ≤ min(b, c)) for X ~ Binomial(b + c, ½), doubled for two sides.
  const lowerTail = discordant === 0 ? 1 : binomialCdf(smaller, discordant, 0.5);
  const exactPValue = Math.min(1, 2 * lowerTail);
  const midPValue = discordant === 0 ? 1 : Math.min(1, 2 * (lowerTail - 0.5 * binomialPmf(smaller, discordant, 0.5)));

  const chiSquareCorrected = discordant === 0 ? null : Math.max(0, Math.abs(b - c) - 1) ** 2 / discordant;
  const chiSquare = discordant === 0 ? null : (b - c) ** 2 / discordant;

  const verdict: McNemarVerdict = exactPValue <= alpha && b !== c ? (b > c ? 'A better' : 'B better') : 'no significant difference';

  return {
    n,
    discordant,
    accuracyA: n === 0 ? null : (bothRight + b) / n,
    accuracyB: n === 0 ? null : (bothRight + c) / n,
    difference: pairedProportionDifference({ bothRight, onlyFirstRight: b, onlySecondRight: c, bothWrong }, 1 - alpha),
    exactPValue,
    midPValue,
    chiSquareCorrected,
    chiSquareCorrectedPValue: chiSquareOneDfPValue(chiSquareCorrected),
    chiSquare,
    chiSquarePValue: chiSquareOneDfPValue(chiSquare),
    alpha,
    verdict,
  };
}

/** P(χ²₁ ≥ x): χ²₁ is the square of a standard normal, so this is 2·P(Z ≥ √x). */
function chiSquareOneDfPValue(x: number | null): number | null {
  return x === null ? null : Math.min(1, 2 * normalUpperTail(Math.sqrt(x)));
}
