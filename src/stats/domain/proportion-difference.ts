import { zForConfidence } from './normal';
import { wilsonBounds } from './wilson-interval';

/** A difference of two proportions with its confidence interval. */
export interface ProportionDifference {
  /** p1 − p2. */
  difference: number;
  lower: number;
  upper: number;
  confidence: number;
  method: 'newcombe-hybrid-score' | 'newcombe-paired-score';
}

/**
 * Difference p1 − p2 of two INDEPENDENT proportions (e.g. AI-vs-human agreement against the
 * human-vs-human baseline measured on other items), with Newcombe's hybrid score interval
 * ("square-and-add" of the two Wilson intervals): method 10 of Newcombe (1998), "Interval estimation
 * for the difference between independent proportions: comparison of eleven methods", Statistics in
 * Medicine 17:873–890. It inherits the Wilson interval's good behaviour near 0 and 1, where the Wald
 * interval for a difference fails. Returns null when either group is empty.
 */
export function independentProportionDifference(
  successes1: number,
  n1: number,
  successes2: number,
  n2: number,
  confidence = 0.95,
): ProportionDifference | null {
  assertCount(successes1, n1, 'group 1');
  assertCount(successes2, n2, 'group 2');
  if (n1 === 0 || n2 === 0) return null;
  const z = zForConfidence(confidence);
  const p1 = successes1 / n1;
  const p2 = successes2 / n2;
  const w1 = exactEnds(successes1, n1, wilsonBounds(p1, n1, z));
  const w2 = exactEnds(successes2, n2, wilsonBounds(p2, n2, z));
  const difference = p1 - p2;
  return {
    difference,
    lower: difference - Math.hypot(p1 - w1.lower, w2.upper - p2),
    upper: difference + Math.hypot(w1.upper - p1, p2 - w2.lower),
    confidence,
    method: 'newcombe-hybrid-score',
  };
}

/** Counts of a paired 2×2 table: both methods judged on the same items. */
export interface PairedCounts {
  /** Both right (a). */
  bothRight: number;
  /** First right, second wrong (b). */
  onlyFirstRight: number;
  /** First wrong, second right (c). */
  onlySecondRight: number;
  /** Both wrong (d). */
  bothWrong: number;
}

/**
 * Difference p1 − p2 of two PAIRED proportions, p1 = (a + b)/n and p2 = (a + c)/n, with Newcombe's
 * square-and-add interval for paired data: method 10 of Newcombe (1998), "Improved confidence
 * intervals for the difference between binomial proportions based on paired data", Statistics in
 * Medicine 17:2635–2650. It combines the two Wilson intervals and corrects for the correlation φ
 * between the paired proportions (φ with Newcombe's continuity correction: positive φ is reduced by
 * n/2 in its numerator, down to 0). Fagerland, Lydersen & Laake (2014, Statistics in Medicine
 * 33:2850–2875) recommend it among the paired-difference intervals. Returns null when n = 0.
 */
export function pairedProportionDifference(counts: PairedCounts, confidence = 0.95): ProportionDifference | null {
  const { bothRight: a, onlyFirstRight: b, onlySecondRight: c, bothWrong: d } = counts;
  for (const [name, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
  const n = a + b + c + d;
  if (n === 0) return null;
  const z = zForConfidence(confidence);
  const p1 = (a + b) / n;
  const p2 = (a + c) / n;
  const w1 = exactEnds(a + b, n, wilsonBounds(p1, n, z));
  const w2 = exactEnds(a + c, n, wilsonBounds(p2, n, z));

  const marginProduct = (a + b) * (c + d) * (a + c) * (b + d);
  let phi = 0;
  if (marginProduct > 0) {
    const cross = a * d - b * c;
    // Newcombe's corrected φ: a positive association only counts beyond n/2.
    const corrected = cross > n / 2 ? cross - n / 2 : cross >= 0 ? 0 : cross;
    phi = corrected / Math.sqrt(marginProduct);
  }

  const difference = p1 - p2;
  const below1 = p1 - w1.lower;
  const above1 = w1.upper - p1;
  const below2 = p2 - w2.lower;
  const above2 = w2.upper - p2;
  return {
    difference,
    lower: difference - Math.sqrt(Math.max(0, below1 * below1 - 2 * phi * below1 * above2 + above2 * above2)),
    upper: difference + Math.sqrt(Math.max(0, above1 * above1 - 2 * phi * above1 * below2 + below2 * below2)),
    confidence,
    method: 'newcombe-paired-score',
  };
}

/** Wilson bounds with exact 0 / 1 at the ends, as in wilsonInterval. */
function exactEnds(successes: number, n: number, bounds: { lower: number; upper: number }) {
  return { lower: successes === 0 ? 0 : bounds.lower, upper: successes === n ? 1 : bounds.upper };
}

function assertCount(successes: number, n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what}: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`${what}: successes must be an integer within [0, n], got ${successes} of ${n}`);
  }
}
