import { normalCdf, normalQuantile, normalUpperTail, zForConfidence } from './normal';

describe('normalCdf', () => {
  // Φ(x) as tabulated in Abramowitz & Stegun (1964), Table 26.1, and in every statistics text;
  // the tail values (x = −5, −10) to 16 significant digits from the same definition computed with
  // 40-digit arithmetic (mpmath ncdf).
  it.each([
    [0, 0.5],
    [0.5, 0.6914624612740131],
    [1, 0.8413447460685429],
    [-1, 0.15865525393145705],
    [-1.96, 0.024997895148220436],
    [2, 0.9772498680518208],
    [3, 0.9986501019683699],
    [-3, 0.0013498980316300945],
  ])('Φ(%p) = %p', (x, expected) => {
    expect(normalCdf(x)).toBeCloseTo(expected, 14);
  });

  it('keeps relative accuracy far in the tail, where 1 − Φ would be all rounding', () => {
    expect(normalCdf(-5) / 2.8665157187919391e-7).toBeCloseTo(1, 13);
    expect(normalCdf(-10) / 7.6198530241605261e-24).toBeCloseTo(1, 13);
    expect(normalUpperTail(10) / 7.6198530241605261e-24).toBeCloseTo(1, 13);
  });

  it('is symmetric and monotone', () => {
    for (let x = -8; x <= 8; x += 0.37) {
      expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 15);
      expect(normalCdf(x + 0.01)).toBeGreaterThan(normalCdf(x));
    }
  });
});

describe('normalQuantile (Wichura AS 241)', () => {
  // Standard critical values (e.g. 1.959963984540054 for 95 % two-sided) and far-tail points,
  // reference values from 40-digit root finding on Φ.
  it.each([
    [0.975, 1.959963984540054],
    [0.995, 2.5758293035489008],
    [0.95, 1.6448536269514727],
    [0.9, 1.2815515655446005],
    [0.75, 0.6744897501960817],
    [0.3, -0.5244005127080408],
    [0.001, -3.090232306167813],
    [1e-10, -6.361340902404056],
    [1e-20, -9.262340089798408],
    [1e-300, -37.0470962993612],
  ])('Φ⁻¹(%p) = %p', (p, expected) => {
    expect(normalQuantile(p) / expected).toBeCloseTo(1, 14);
  });

  it('is the inverse of normalCdf across the range', () => {
    for (let p = 0.0005; p < 1; p += 0.0173) {
      expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 14);
    }
  });

  it('returns infinities at 0 and 1 and refuses probabilities outside [0, 1]', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(0.5)).toBe(0);
    expect(() => normalQuantile(1.2)).toThrow(RangeError);
    expect(() => normalQuantile(Number.NaN)).toThrow(RangeError);
  });
});

describe('zForConfidence', () => {
  it('gives the two-sided critical value', () => {
    expect(zForConfidence(0.95)).toBeCloseTo(1.959963984540054, 14);
    expect(zForConfidence(0.99)).toBeCloseTo(2.5758293035489008, 14);
    expect(() => zForConfidence(1)).toThrow(RangeError);
    expect(() => zForConfidence(0)).toThrow(RangeError);
  });
});
