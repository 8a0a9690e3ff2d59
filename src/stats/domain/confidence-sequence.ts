/*
 * Confidence sequences for a proportion: intervals that stay valid however often anyone looks.
 *
 * The controller re-reads a segment's counts every cycle, forever. A fixed-sample interval (Wilson,
 * Clopper–Pearson) re-computed on every look is crossed by noise sooner or later: with the true
 * agreement exactly at a 0.9 target, a 95 % Wilson lower bound reaches the target at least once
 * within 20,000 comparisons in about a quarter of the runs. A confidence sequence holds at all
 * times at once: P(∃ t: p ∉ CS_t) ≤ α.
 *
 * The one used here is the beta-binomial mixture (Robbins 1970; Howard, Ramdas, McAuliffe & Sekhon
 * 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Statist. 49:1055,
 * §3.3 and the conjugate mixture of their Table 2). For S successes in t Bernoulli trials and a
 * candidate rate p,
 *
 *   M_t(p) = ∫ q^S (1 − q)^(t − S) dBeta(q; a, b) / (p^S (1 − p)^(t − S))
 *          = B(a + S, b + t − S) / B(a, b) / (p^S (1 − p)^(t − S)),
 *
 * is a nonnegative martingale with M_0 = 1 when p is the true rate, so by Ville's inequality
 * P(∃ t: M_t(p) ≥ 1/α) ≤ α, and CS_t = { p : M_t(p) < 1/α } is a (1 − α) confidence sequence. Its
 * lower end alone is a one-sided bound at level α (conservative: the whole α is spent on both
 * sides). ln M_t is convex in p, so the set is an interval and each end is found by bisection.
 *
 * The prior only shapes where the sequence is tightest; any prior gives a valid sequence, as long
 * as it is fixed before the data (here: centred on the target the bound is compared with, a
 * configuration value, with the weight of `DEFAULT_PRIOR_WEIGHT` observations).
 */

export const DEFAULT_PRIOR_WEIGHT = 20;

export interface BetaPrior {
  a: number;
  b: number;
}

export interface ConfidenceSequenceBound {
  n: number;
  successes: number;
  rate: number | null;
  lower: number;
  upper: number;
  /** 1 − α: the probability that the rate stays inside the sequence at every look. */
  confidence: number;
  prior: BetaPrior;
}

/** A Beta prior with mean `centre` (clamped into [0.01, 0.99]) worth `weight` observations. */
export function priorCentredOn(centre: number, weight = DEFAULT_PRIOR_WEIGHT): BetaPrior {
  if (!(weight > 0)) throw new RangeError(`priorCentredOn: weight must be positive, got ${weight}`);
  if (!(centre >= 0 && centre <= 1)) throw new RangeError(`priorCentredOn: centre must be within [0, 1], got ${centre}`);
  const m = Math.min(0.99, Math.max(0.01, centre));
  return { a: weight * m, b: weight * (1 - m) };
}

/**
 * ln M_t(p), the log of the mixture martingale at p after `successes` of `n` (successes may be a
 * non-integer for projections). It is the log of an e-value against "the rate is p".
 */
export function logMixtureMartingale(successes: number, n: number, p: number, prior: BetaPrior): number {
  const failures = n - successes;
  const likelihood = (successes > 0 ? successes * Math.log(p) : 0) + (failures > 0 ? failures * Math.log1p(-p) : 0);
  return lnBeta(prior.a + successes, prior.b + failures) - lnBeta(prior.a, prior.b) - likelihood;
}

/**
 * The (1 − α) beta-binomial confidence sequence for a proportion after `successes` of `n`: valid
 * at every n at once. With no observations it is [0, 1].
 */
export function confidenceSequence(successes: number, n: number, confidence = 0.95, prior: BetaPrior = priorCentredOn(0.5)): ConfidenceSequenceBound {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`confidenceSequence: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`confidenceSequence: successes must be an integer within [0, n], got ${successes} of ${n}`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidenceSequence: confidence must be strictly between 0 and 1, got ${confidence}`);
  if (!(prior.a > 0 && prior.b > 0)) throw new RangeError(`confidenceSequence: prior a and b must be positive, got ${prior.a}, ${prior.b}`);
  if (n === 0) return { n, successes, rate: null, lower: 0, upper: 1, confidence, prior };
  const { lower, upper } = bounds(successes, n, confidence, prior);
  return { n, successes, rate: successes / n, lower, upper, confidence, prior };
}

/**
 * Whether the sequence after `successes` of `n` excludes the rate p: a cheap test (one evaluation
 * of the mixture) for "the lower bound is above p" when the observed rate is above p, and "the
 * upper bound is below p" when it is below.
 */
export function sequenceExcludes(successes: number, n: number, p: number, confidence: number, prior: BetaPrior): boolean {
  if (n === 0 || p <= 0 || p >= 1) return false;
  return logMixtureMartingale(successes, n, p, prior) >= Math.log(1 / (1 - confidence));
}

/**
 * The smallest n at which the sequence's lower bound reaches `target` if the observed `rate`
 * holds, or null when rate ≤ target (no amount of data at this rate shows the target is met).
 * A projection for people ("about 600 more comparisons"), not a promise.
 */
export function sequenceSamplesNeeded(rate: number, target: number, confidence: number, prior: BetaPrior): number | null {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`sequenceSamplesNeeded: rate must be within [0, 1], got ${rate}`);
  if (rate <= target) return null;
  // The lower bound is at or above the target exactly when the sequence excludes the target.
  const level = Math.log(1 / (1 - confidence));
  const reaches = (n: number) => logMixtureMartingale(rate * n, n, target, prior) >= level;
  let high = 1;
  while (!reaches(high)) {
    high *= 2;
    if (high > 1e9) return null;
  }
  let low = Math.floor(high / 2);
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (reaches(mid)) high = mid;
    else low = mid;
  }
  return high;
}

function bounds(successes: number, n: number, confidence: number, prior: BetaPrior): { lower: number; upper: number } {
  const level = Math.log(1 / (1 - confidence));
  const outside = (p: number) => logMixtureMartingale(successes, n, p, prior) >= level;
  const rate = successes / n;
  // ln M is convex in p with its minimum at the observed rate (where it is ≤ 0 < level), so each
  // side has one crossing; bisection to 1e-12 is ~40 steps.
  const lower = successes === 0 ? 0 : outside(0) ? bisect(outside, 0, rate, true) : 0;
  const upper = successes === n ? 1 : outside(1) ? bisect(outside, rate, 1, false) : 1;
  return { lower, upper };
}

/** The boundary between the outside and the inside of the sequence on [lo, hi]. */
function bisect(outside: (p: number) => boolean, lo: number, hi: number, outsideIsLow: boolean): number {
  let a = lo;
  let b = hi;
  while (b - a > 1e-12) {
    const mid = (a + b) / 2;
    if (outside(mid) === outsideIsLow) a = mid;
    else b = mid;
  }
  // Round towards the inside, so the reported bound is never tighter than the sequence.
  return outsideIsLow ? a : b;
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function lnBeta(a: number, b: number): number {
  return lnGamma(a) + lnGamma(b) - lnGamma(a + b);
}

// Lanczos approximation, g = 7, n = 9 (Numerical Recipes 3rd ed. §6.1; the coefficients of
// Godfrey's table): relative error under 1e-15 for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LN_2PI = 0.91893853320467274178;

/** ln Γ(x) for x > 0. */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma: x must be positive, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return HALF_LN_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}
