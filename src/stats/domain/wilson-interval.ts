import { zForConfidence } from './normal';

/**
 * A proportion with its Wilson score interval.
 *
 * With no observations there is no rate: `rate` is null and the interval is the whole of [0, 1],
 * which is the honest statement "anything is possible" and can never satisfy a gate.
 */
export type WilsonInterval =
  | { n: 0; successes: 0; rate: null; lower: 0; upper: 1; confidence: number }
  | { n: number; successes: number; rate: number; lower: number; upper: number; confidence: number };

/**
 * Wilson (1927) score interval for a binomial proportion.
 *
 * Chosen over the textbook Wald interval p ± z·√(p(1−p)/n) because agreement rates live near 1,
 * where Wald collapses to zero width (99/100 → upper bound above 1, 100/100 → [1, 1]) and its
 * coverage is poor; Newcombe (1998, Statistics in Medicine 17:857–872) found the score interval
 * among the best of seven methods, with coverage close to nominal even for small n and extreme p.
 * Bounds at 0 and n are exact 0 and 1 rather than 1e-17 rounding noise.
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): WilsonInterval {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`wilsonInterval: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: successes must be an integer within [0, n], got ${successes} of ${n}`);
  }
  const z = zForConfidence(confidence);
  if (n === 0) return { n: 0, successes: 0, rate: null, lower: 0, upper: 1, confidence };
  const { lower, upper } = wilsonBounds(successes / n, n, z);
  return {
    n,
    successes,
    rate: successes / n,
    lower: successes === 0 ? 0 : lower,
    upper: successes === n ? 1 : upper,
    confidence,
  };
}

/**
 * The Wilson bounds for an observed rate over n trials at a given z — also for a rate that is not
 * a whole number of successes (used to project "what if the current rate holds at a larger n").
 * The interval is the set of π with (rate − π)² ≤ z²·π(1 − π)/n, i.e. the roots of a quadratic.
 */
export function wilsonBounds(rate: number, n: number, z: number): { lower: number; upper: number } {
  const z2n = (z * z) / n;
  const denominator = 1 + z2n;
  const centre = (rate + z2n / 2) / denominator;
  const halfWidth = (z / denominator) * Math.sqrt((rate * (1 - rate)) / n + (z * z) / (4 * n * n));
  return { lower: Math.max(0, centre - halfWidth), upper: Math.min(1, centre + halfWidth) };
}

/**
 * The smallest n at which the Wilson lower bound reaches `target`, if the observed `rate` holds.
 *
 * This is what lets a program manager read "about 140 comparisons are needed" instead of
 * "inconclusive". Because the Wilson interval is {π : (rate − π)² ≤ z²π(1 − π)/n}, a target below the
 * rate is at or under the lower bound exactly when n ≥ z²·t(1 − t)/(rate − t)², which gives the
 * answer in closed form. Returns null when rate ≤ target: no amount of data at this rate can show
 * the target is met.
 *
 * It is a projection, not a promise: the rate will move as data arrives.
 */
export function samplesNeeded(rate: number, target: number, confidence = 0.95): number | null {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`samplesNeeded: rate must be within [0, 1], got ${rate}`);
  if (!(target >= 0 && target <= 1)) throw new RangeError(`samplesNeeded: target must be within [0, 1], got ${target}`);
  if (rate <= target) return null;
  const z = zForConfidence(confidence);
  let n = Math.max(1, Math.ceil((z * z * target * (1 - target)) / ((rate - target) * (rate - target))));
  // Guard the closed form against floating-point rounding at an exact integer boundary.
  while (n > 1 && wilsonBounds(rate, n - 1, z).lower >= target) n -= 1;
  while (wilsonBounds(rate, n, z).lower < target) n += 1;
  return n;
}
