/**
 * Binomial probabilities, exact and numerically stable for n up to ~1e7.
 *
 * The threshold certification ("Learn then Test") and McNemar's exact test turn binomial tails into
 * decisions, so the tails must be right both near 0.5 and at 1e-12. The naive ways fail here:
 * C(n, k)·pᵏ·qⁿ⁻ᵏ overflows long before n = 1e6, and log-gamma differences lose ~9 digits at that size
 * because ln n! ≈ 1.3e7. We therefore use:
 *  - Loader's (2000) saddle-point form of the binomial probability ("Fast and accurate computation of
 *    binomial probabilities", the algorithm behind R's dbinom), accurate to a few ulps at any n;
 *  - then sum the tail that lies away from the mode, starting at its largest term and walking
 *    outwards with the exact term ratio until the terms no longer change the sum. The terms fall
 *    off like a Gaussian, so this needs about 10 standard deviations of terms: ~5,000 for n = 1e6.
 */

/** P(X = k) for X ~ Binomial(n, p). */
export function binomialPmf(k: number, n: number, p: number): number {
  assertArguments(k, n, p, 'binomialPmf');
  if (k < 0 || k > n) return 0;
  return pmf(k, n, p, 1 - p);
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  assertArguments(k, n, p, 'binomialCdf');
  // P(X ≤ k) = P(n − X ≥ n − k) and n − X ~ Binomial(n, 1 − p); passing q = p exactly keeps full
  // precision for small p instead of recomputing it as 1 − (1 − p).
  return upperTail(n - k, n, 1 - p, p);
}

/** P(X ≥ k) for X ~ Binomial(n, p): the one-sided exact p-value of "k or more successes". */
export function binomialUpperTail(k: number, n: number, p: number): number {
  assertArguments(k, n, p, 'binomialUpperTail');
  return upperTail(k, n, p, 1 - p);
}

/** P(X ≥ k) with success probability p and failure probability q = 1 − p given separately. */
function upperTail(k: number, n: number, p: number, q: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p === 0) return 0; // X is always 0 and k ≥ 1
  if (q === 0) return 1; // X is always n and k ≤ n
  if (k > n * p) {
    // k lies at or above the mode: the terms from k upwards only decrease.
    return sumOutwards(k, +1, n, p, q);
  }
  // k − 1 lies below the mode: sum the lower tail downwards and take the complement.
  return 1 - sumOutwards(k - 1, -1, n, p, q);
}

/**
 * Σ P(X = j) for j = start, start + step, … (step ±1) until the terms stop mattering.
 * The caller guarantees that the terms decrease in that direction, so the first term is the
 * largest and the loop can stop as soon as a term is below the sum's last bit.
 */
function sumOutwards(start: number, step: 1 | -1, n: number, p: number, q: number): number {
  let term = pmf(start, n, p, q);
  let sum = term;
  const odds = p / q;
  for (let j = start; term > sum * 1e-17; j += step) {
    if (step === 1) {
      if (j >= n) break;
      term *= ((n - j) / (j + 1)) * odds; // P(j + 1) / P(j)
    } else {
      if (j <= 0) break;
      term *= j / (n - j + 1) / odds; // P(j − 1) / P(j)
    }
    sum += term;
  }
  return sum;
}

const LN_2PI = 1.8378770664093454835606594728112;

/** Loader's dbinom_raw: P(X = x) computed as exp of a sum of small, accurately computed terms. */
function pmf(x: number, n: number, p: number, q: number): number {
  if (p === 0) return x === 0 ? 1 : 0;
  if (q === 0) return x === n ? 1 : 0;
  if (x === 0) {
    if (n === 0) return 1;
    return Math.exp(p < 0.1 ? -deviance(n, n * q) - n * p : n * Math.log(q));
  }
  if (x === n) {
    return Math.exp(q < 0.1 ? -deviance(n, n * p) - n * q : n * Math.log(p));
  }
  const logCore = stirlingError(n) - stirlingError(x) - stirlingError(n - x) - deviance(x, n * p) - deviance(n - x, n * q);
  const logScale = LN_2PI + Math.log(x) + Math.log1p(-x / n);
  return Math.exp(logCore - 0.5 * logScale);
}

/**
 * bd0(x, m) = x·ln(x/m) + m − x, the "deviance" term, computed by a series when x ≈ m where the
 * direct formula would cancel catastrophically (Loader 2000).
 */
function deviance(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let sum = (x - m) * v;
    let term = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      term *= v;
      const next = sum + term / (2 * j + 1);
      if (next === sum) return next;
      sum = next;
    }
    return sum;
  }
  return x * Math.log(x / m) + m - x;
}

/**
 * stirlerr(n) = ln n! − ln(√(2πn)·(n/e)ⁿ), the error of Stirling's formula.
 * Small n: a table computed with 40-digit arithmetic; larger n: its asymptotic series.
 */
function stirlingError(n: number): number {
  if (n <= 15) return STIRLING_ERROR_TABLE[n];
  const nn = n * n;
  const S0 = 1 / 12;
  const S1 = 1 / 360;
  const S2 = 1 / 1260;
  const S3 = 1 / 1680;
  const S4 = 1 / 1188;
  if (n > 500) return (S0 - S1 / nn) / n;
  if (n > 80) return (S0 - (S1 - S2 / nn) / nn) / n;
  if (n > 35) return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
  return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
}

const STIRLING_ERROR_TABLE: readonly number[] = [
  0, // n = 0 never reaches the table (x = 0 and x = n are handled separately)
  0.08106146679532725822,
  0.041340695955409294094,
  0.027677925684998339149,
  0.020790672103765093112,
  0.016644691189821192163,
  0.013876128823070747999,
  0.011896709945891770095,
  0.010411265261972096497,
  0.0092554621827127329177,
  0.0083305634333628712565,
  0.007573675487951840795,
  0.0069428401072095298657,
  0.0064089941880042070684,
  0.0059513701127588477356,
  0.005554733551962801371,
];

function assertArguments(k: number, n: number, p: number, name: string): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name}: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k)) throw new RangeError(`${name}: k must be an integer, got ${k}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name}: p must be within [0, 1], got ${p}`);
}
