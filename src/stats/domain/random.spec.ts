import { mulberry32, seededRandom } from './random';

describe('mulberry32', () => {
  it('is reproducible for a seed and differs between seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const first = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(first);
  });

  it('stays in [0, 1) and is uniform (chi-square over 20 cells, 100,000 draws)', () => {
    const next = mulberry32(7);
    const cells = new Array<number>(20).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const u = next();
      expect(u >= 0 && u < 1).toBe(true);
      cells[Math.floor(u * 20)]++;
    }
    const expected = 100_000 / 20;
    const chiSquare = cells.reduce((s, observed) => s + (observed - expected) ** 2 / expected, 0);
    // 19 degrees of freedom: the 99.9th percentile is 43.8.
    expect(chiSquare).toBeLessThan(43.8);
  });
});

describe('seededRandom draws', () => {
  const draws = 50_000;
  const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
  const variance = (values: number[]) => {
    const m = mean(values);
    return values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1);
  };

  it('bernoulli and binomial have the right mean', () => {
    const random = seededRandom(1);
    const shares = Array.from({ length: draws }, () => (random.bernoulli(0.3) ? 1 : 0));
    expect(mean(shares)).toBeCloseTo(0.3, 2);
    const counts = Array.from({ length: 5_000 }, () => random.binomial(40, 0.25));
    expect(mean(counts)).toBeCloseTo(10, 0);
    expect(variance(counts)).toBeCloseTo(7.5, 0);
  });

  it('normal has mean and variance as asked', () => {
    const random = seededRandom(2);
    const values = Array.from({ length: draws }, () => random.normal(3, 2));
    expect(mean(values)).toBeCloseTo(3, 1);
    expect(variance(values)).toBeCloseTo(4, 1);
  });

  it('gamma and beta have the textbook moments, including shapes below one', () => {
    const random = seededRandom(3);
    for (const shape of [0.5, 2, 9]) {
      const values = Array.from({ length: draws }, () => random.gamma(shape));
      expect(mean(values) / shape).toBeCloseTo(1, 1);
      expect(variance(values) / shape).toBeCloseTo(1, 1);
    }
    const betas = Array.from({ length: draws }, () => random.beta(5, 2));
    expect(mean(betas)).toBeCloseTo(5 / 7, 2);
    expect(variance(betas)).toBeCloseTo((5 * 2) / (49 * 8), 3);
    expect(betas.every((v) => v > 0 && v < 1)).toBe(true);
  });

  it('integer covers both ends and uniform stays inside its range', () => {
    const random = seededRandom(4);
    const seen = new Set(Array.from({ length: 1_000 }, () => random.integer(1, 6)));
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    for (let i = 0; i < 1_000; i++) {
      const u = random.uniform(-2, 5);
      expect(u >= -2 && u < 5).toBe(true);
    }
  });

  it('refuses a non-positive gamma shape', () => {
    expect(() => seededRandom(5).gamma(0)).toThrow(RangeError);
  });
});
