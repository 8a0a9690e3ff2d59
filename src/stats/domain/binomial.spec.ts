import { binomialCdf, binomialPmf, binomialUpperTail } from './binomial';

/** Exact P(X ≥ k) for X ~ Binomial(n, num/den) as a double, computed with BigInt rationals. */
function exactUpperTail(k: number, n: number, num: number, den: number): number {
  const p = BigInt(num);
  const q = BigInt(den - num);
  let coefficient = 1n; // C(n, j)
  let tail = 0n;
  for (let j = 0; j <= n; j++) {
    if (j > 0) coefficient = (coefficient * BigInt(n - j + 1)) / BigInt(j);
    if (j >= k) tail += coefficient * p ** BigInt(j) * q ** BigInt(n - j);
  }
  const total = BigInt(den) ** BigInt(n);
  // Scale to keep 18 significant digits before dropping to floating point.
  const scale = 10n ** 40n;
  return Number((tail * scale) / total) / 1e40;
}

describe('binomial tails against known values', () => {
  it('matches exact small cases', () => {
    // P(X ≥ 8) for Binomial(10, ½) = (45 + 10 + 1)/1024, the classic sign-test p-value.
    expect(binomialUpperTail(8, 10, 0.5)).toBeCloseTo(56 / 1024, 15);
    expect(binomialCdf(2, 10, 0.5)).toBeCloseTo(56 / 1024, 15);
    expect(binomialPmf(5, 10, 0.5)).toBeCloseTo(252 / 1024, 15);
  });

  it('matches cumulative binomial tables', () => {
    // Standard cumulative binomial table, n = 20, p = 0.3: P(X ≤ 9) = 0.9520.
    expect(binomialCdf(9, 20, 0.3)).toBeCloseTo(0.952, 4);
    // Same quantity to 16 digits (40-digit summation with mpmath).
    expect(binomialUpperTail(10, 20, 0.3)).toBeCloseTo(0.047961897331343476, 15);
    expect(binomialUpperTail(95, 100, 0.9)).toBeCloseTo(0.057576886487033808, 15);
  });

  it('agrees with exact rational arithmetic at n = 1000 to 12 significant digits, tails included', () => {
    for (const k of [0, 1, 250, 299, 300, 301, 330, 360, 400, 450]) {
      const exact = exactUpperTail(k, 1000, 3, 10);
      expect(binomialUpperTail(k, 1000, 0.3) / exact).toBeCloseTo(1, 12);
    }
  });

  it('stays accurate at n = 1,000,000 (reference: 40-digit summation with mpmath)', () => {
    const relative = (actual: number, expected: number) => Math.abs(actual / expected - 1);
    // P(X ≥ n/2) = ½ + ½·C(n, n/2)/2ⁿ = ½ + ½·(1/√(π·n/2))(1 − 1/(4n) + …) by Stirling's series.
    expect(relative(binomialUpperTail(500000, 1e6, 0.5), 0.50039894218066588)).toBeLessThan(1e-13);
    expect(relative(binomialUpperTail(501000, 1e6, 0.5), 0.022804149932691043)).toBeLessThan(1e-10);
    expect(relative(binomialUpperTail(502500, 1e6, 0.5), 2.881270818870302e-7)).toBeLessThan(1e-10);
    expect(relative(binomialUpperTail(505000, 1e6, 0.5), 7.6907775219536759e-24)).toBeLessThan(1e-10);
    expect(relative(binomialUpperTail(900500, 1e6, 0.9), 0.047877638462617632)).toBeLessThan(1e-10);
    expect(relative(binomialUpperTail(899000, 1e6, 0.9), 0.99956658279702101)).toBeLessThan(1e-13);
    expect(relative(binomialUpperTail(1, 1e6, 1e-6), 0.63212074276835491)).toBeLessThan(1e-10);
    expect(relative(binomialUpperTail(20, 1e6, 1e-6), 1.5872554442153433e-19)).toBeLessThan(1e-10);
    expect(relative(binomialUpperTail(1860, 2000, 0.9), 1.6598333058682273e-6)).toBeLessThan(1e-11);
  });

  it('is fast enough at n = 1,000,000 to sit inside a scheduled evaluation', () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 20; i++) binomialUpperTail(500000 + i, 1e6, 0.5);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(elapsedMs).toBeLessThan(1000);
  });
});

describe('binomial tail properties', () => {
  it('handles the edges exactly', () => {
    expect(binomialUpperTail(0, 10, 0.3)).toBe(1);
    expect(binomialUpperTail(-3, 10, 0.3)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.3)).toBe(0);
    expect(binomialUpperTail(1, 10, 0)).toBe(0);
    expect(binomialUpperTail(10, 10, 1)).toBe(1);
    expect(binomialUpperTail(10, 10, 0.5)).toBeCloseTo(1 / 1024, 16);
    expect(binomialUpperTail(0, 0, 0.5)).toBe(1);
    expect(binomialCdf(0, 0, 0.5)).toBe(1);
    expect(binomialCdf(-1, 5, 0.5)).toBe(0);
    expect(binomialCdf(5, 5, 0.5)).toBe(1);
    expect(binomialPmf(0, 10, 0)).toBe(1);
    expect(binomialPmf(11, 10, 0.5)).toBe(0);
  });

  it('is decreasing in k, increasing in p, and complements the CDF', () => {
    const n = 137;
    for (let k = 1; k <= n; k++) {
      expect(binomialUpperTail(k, n, 0.62)).toBeLessThanOrEqual(binomialUpperTail(k - 1, n, 0.62));
      expect(binomialUpperTail(k, n, 0.63)).toBeGreaterThanOrEqual(binomialUpperTail(k, n, 0.62));
      expect(binomialCdf(k - 1, n, 0.62) + binomialUpperTail(k, n, 0.62)).toBeCloseTo(1, 13);
    }
  });

  it('has probabilities that sum to one', () => {
    let total = 0;
    for (let k = 0; k <= 300; k++) total += binomialPmf(k, 300, 0.07);
    expect(total).toBeCloseTo(1, 13);
  });

  it('refuses invalid arguments', () => {
    expect(() => binomialUpperTail(1.5, 10, 0.5)).toThrow(RangeError);
    expect(() => binomialUpperTail(1, -1, 0.5)).toThrow(RangeError);
    expect(() => binomialUpperTail(1, 10, 1.5)).toThrow(RangeError);
    expect(() => binomialCdf(1, 10.5, 0.5)).toThrow(RangeError);
  });
});
