import { lnGamma } from './confidence-sequence';

/*
 * Pearson's chi-square test of homogeneity: are two samples of a categorical variable drawn from the
 * same distribution? It is a fixed-sample test — valid for one look at one pair of samples. Re-run on
 * a sliding window every few minutes it is the naive drift check the drift monitor replaces
 * (drift-monitor.ts), kept here so the benchmark can show what that costs in false alarms.
 *
 * The chi-square tail is the regularised upper incomplete gamma function, Q(df/2, x/2), by its
 * power series below a + 1 and Lentz's continued fraction above (Numerical Recipes 3rd ed. §6.2).
 */

/** Q(a, x) = Γ(a, x)/Γ(a), the regularised upper incomplete gamma function, for a > 0 and x ≥ 0. */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0)) throw new RangeError(`regularizedGammaQ: a must be positive, got ${a}`);
  if (!(x >= 0)) throw new RangeError(`regularizedGammaQ: x must be non-negative, got ${x}`);
  if (x === 0) return 1;
  const logPrefix = a * Math.log(x) - x - lnGamma(a);
  if (x < a + 1) {
    // P(a, x) = e^{-x} x^a / Γ(a + 1) · Σ x^n / ((a + 1) … (a + n))
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  // Q(a, x) = e^{-x} x^a / Γ(a) · 1/(x + 1 − a − 1·(1 − a)/(x + 3 − a − …)), modified Lentz.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(logPrefix) * h;
}

/** P(X ≥ x) for X ~ chi-square with df degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`chiSquareSurvival: df must be positive, got ${df}`);
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}

export interface HomogeneityTest {
  statistic: number;
  df: number;
  pValue: number;
}

/**
 * Pearson's chi-square test that two samples (counts per category) share one distribution: the
 * 2 × K contingency table's statistic Σ (observed − expected)² / expected, with K − 1 degrees of
 * freedom over the categories seen in either sample.
 */
export function homogeneityTest(a: readonly number[], b: readonly number[]): HomogeneityTest {
  if (a.length !== b.length) throw new RangeError(`homogeneityTest: ${a.length} categories against ${b.length}`);
  const na = a.reduce((s, v) => s + v, 0);
  const nb = b.reduce((s, v) => s + v, 0);
  if (na === 0 || nb === 0) throw new RangeError('homogeneityTest: both samples need items');
  const n = na + nb;
  let statistic = 0;
  let seen = 0;
  for (let k = 0; k < a.length; k++) {
    const column = a[k] + b[k];
    if (column === 0) continue;
    seen++;
    const ea = (column * na) / n;
    const eb = (column * nb) / n;
    statistic += (a[k] - ea) ** 2 / ea + (b[k] - eb) ** 2 / eb;
  }
  const df = Math.max(1, seen - 1);
  return { statistic, df, pValue: chiSquareSurvival(statistic, df) };
}
