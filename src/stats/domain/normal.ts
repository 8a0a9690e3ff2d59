/**
 * The standard normal distribution: CDF and its inverse.
 *
 * Every interval in this module needs a z value (1.959963984540054 for 95 %), and the McNemar
 * chi-square needs a tail probability. Both must be accurate to near machine precision, because
 * verdicts compare numbers shown to people at 3–4 decimals and tests compare against published
 * tables at the same precision.
 */

const SQRT_2PI = 2.5066282746310002; // √(2π)

/**
 * Φ(x) = P(Z ≤ x) for a standard normal Z.
 *
 * For |x| < 3, Hart's (1968) double-precision rational approximation as given by West (2005),
 * "Better approximations to cumulative normal functions", Wilmott Magazine (relative error < 2e-14
 * there). Beyond 3, the tail is φ(x) times Mills' ratio from Laplace's continued fraction, which
 * converges quickly there and keeps full *relative* accuracy: a chi-square p-value of 1e-20 is
 * still right to 15 digits, because nothing is ever computed as 1 − (something close to 1).
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const tail = normalTailBelow(Math.abs(x)); // P(Z ≤ −|x|)
  return x > 0 ? 1 - tail : tail;
}

/** P(Z > x), computed without the cancellation of 1 − Φ(x) for large x. */
export function normalUpperTail(x: number): number {
  return normalCdf(-x);
}

/** P(Z ≤ −a) for a ≥ 0. */
function normalTailBelow(a: number): number {
  if (a > 38.5) return 0; // below the smallest positive double
  const exponential = Math.exp((-a * a) / 2);
  if (a < 3) return (exponential * horner(HART_NUMERATOR, a)) / horner(HART_DENOMINATOR, a);
  return (exponential / SQRT_2PI) * millsRatio(a);
}

/**
 * Mills' ratio (1 − Φ(a))/φ(a) = 1/(a + 1/(a + 2/(a + 3/(a + …)))) (Laplace's continued fraction),
 * evaluated with the modified Lentz method; ~50 terms at a = 3, fewer further out.
 */
function millsRatio(a: number): number {
  const tiny = 1e-300;
  let value = a;
  let c = a;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    d = a + k * d;
    d = 1 / (d === 0 ? tiny : d);
    c = a + k / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    value *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 / value;
}

// Hart (1968) coefficients, highest degree first.
const HART_NUMERATOR = [
  3.52624965998911e-2, 0.700383064443688, 6.37396220353165, 33.912866078383, 112.079291497871, 221.213596169931, 220.206867912376,
] as const;
const HART_DENOMINATOR = [
  8.83883476483184e-2, 1.75566716318264, 16.064177579207, 86.7807322029461, 296.564248779674, 637.333633378831, 793.826512519948, 440.413735824752,
] as const;

/**
 * Φ⁻¹(p): the z with P(Z ≤ z) = p.
 *
 * Wichura (1988), Algorithm AS 241 "The percentage points of the normal distribution" (PPND16),
 * Applied Statistics 37(3):477–484 — relative accuracy about 1e-16, which is why it is the algorithm
 * behind R's qnorm and Python's statistics.NormalDist.inv_cdf. p = 0 and p = 1 give ∓Infinity.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) {
    throw new RangeError(`normalQuantile: p must be within [0, 1], got ${p}`);
  }
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;

  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    // Central region: a rational function of r = 0.180625 − q².
    const r = 0.180625 - q * q;
    return (q * horner(AS241_CENTRAL_NUMERATOR, r)) / horner(AS241_CENTRAL_DENOMINATOR, r);
  }
  // Tails: rational functions of r = √(−ln(min(p, 1 − p))).
  const r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  const z =
    r <= 5
      ? horner(AS241_NEAR_NUMERATOR, r - 1.6) / horner(AS241_NEAR_DENOMINATOR, r - 1.6)
      : horner(AS241_FAR_NUMERATOR, r - 5) / horner(AS241_FAR_DENOMINATOR, r - 5);
  return q < 0 ? -z : z;
}

// AS 241 (PPND16) coefficients, highest degree first.
const AS241_CENTRAL_NUMERATOR = [
  2509.0809287301226727, 33430.575583588128105, 67265.770927008700853, 45921.953931549871457, 13731.693765509461125, 1971.5909503065514427,
  133.14166789178437745, 3.387132872796366608,
] as const;
const AS241_CENTRAL_DENOMINATOR = [
  5226.495278852854561, 28729.085735721942674, 39307.89580009271061, 21213.794301586595867, 5394.1960214247511077, 687.1870074920579083, 42.313330701600911252,
  1,
] as const;
const AS241_NEAR_NUMERATOR = [
  7.7454501427834140764e-4, 0.0227238449892691845833, 0.24178072517745061177, 1.27045825245236838258, 3.64784832476320460504, 5.7694972214606914055,
  4.6303378461565452959, 1.42343711074968357734,
] as const;
const AS241_NEAR_DENOMINATOR = [
  1.05075007164441684324e-9, 5.475938084995344946e-4, 0.0151986665636164571966, 0.14810397642748007459, 0.68976733498510000455, 1.6763848301838038494,
  2.05319162663775882187, 1,
] as const;
const AS241_FAR_NUMERATOR = [
  2.01033439929228813265e-7, 2.71155556874348757815e-5, 0.0012426609473880784386, 0.026532189526576123093, 0.29656057182850489123, 1.7848265399172913358,
  5.4637849111641143699, 6.6579046435011037772,
] as const;
const AS241_FAR_DENOMINATOR = [
  2.04426310338993978564e-15, 1.4215117583164458887e-7, 1.8463183175100546818e-5, 7.868691311456132591e-4, 0.0148753612908506148525, 0.13692988092273580531,
  0.59983220655588793769, 1,
] as const;

/** Evaluates a polynomial given its coefficients from the highest degree down. */
function horner(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (const coefficient of coefficients) value = value * x + coefficient;
  return value;
}

/**
 * The two-sided critical value for a confidence level: z such that P(|Z| ≤ z) = confidence
 * (1.959963984540054 for 0.95).
 */
export function zForConfidence(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be strictly between 0 and 1, got ${confidence}`);
  }
  return normalQuantile(1 - (1 - confidence) / 2);
}
