import { samplesNeeded, wilsonInterval } from './wilson-interval';

describe('wilsonInterval', () => {
  // Newcombe RG (1998) "Two-sided confidence intervals for the single proportion: comparison of
  // seven methods", Statistics in Medicine 17:857–872, Table II, method 3 (score, no continuity
  // correction), 95 %.
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0.0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('Newcombe (1998) example %p/%p → [%p, %p]', (successes, n, lower, upper) => {
    const interval = wilsonInterval(successes, n);
    expect(interval.rate).toBeCloseTo(successes / n, 12);
    expect(interval.lower).toBeCloseTo(lower, 4);
    expect(interval.upper).toBeCloseTo(upper, 4);
  });

  it('has no rate and the whole unit interval when nothing was observed', () => {
    expect(wilsonInterval(0, 0)).toEqual({ n: 0, successes: 0, rate: null, lower: 0, upper: 1, confidence: 0.95 });
  });

  it('ends exactly at 0 and 1 when none or all agree, and is not degenerate there', () => {
    const none = wilsonInterval(0, 50);
    expect(none.lower).toBe(0);
    expect(none.upper).toBeGreaterThan(0.05);
    const all = wilsonInterval(50, 50);
    expect(all.upper).toBe(1);
    expect(all.lower).toBeLessThan(0.95);
    expect(all.lower).toBeCloseTo(1 - none.upper, 12); // symmetry x ↔ n − x
  });

  it('narrows as n grows at a fixed rate and widens with confidence', () => {
    let previousWidth = Infinity;
    for (const n of [10, 40, 160, 640, 2560]) {
      const interval = wilsonInterval(0.9 * n, n);
      const width = interval.upper - interval.lower;
      expect(width).toBeLessThan(previousWidth);
      expect(interval.lower).toBeLessThan(0.9);
      expect(interval.upper).toBeGreaterThan(0.9);
      previousWidth = width;
    }
    const at95 = wilsonInterval(45, 50, 0.95);
    const at99 = wilsonInterval(45, 50, 0.99);
    expect(at99.lower).toBeLessThan(at95.lower);
    expect(at99.upper).toBeGreaterThan(at95.upper);
  });

  it('moves up with the number of successes', () => {
    for (let x = 1; x <= 30; x++) {
      expect(wilsonInterval(x, 30).lower).toBeGreaterThan(wilsonInterval(x - 1, 30).lower);
      expect(wilsonInterval(x, 30).upper).toBeGreaterThan(wilsonInterval(x - 1, 30).upper);
    }
  });

  it('refuses impossible counts', () => {
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 10, 1.5)).toThrow(RangeError);
  });
});

describe('samplesNeeded', () => {
  it('solves n ≥ z²·t(1 − t)/(rate − t)² (95 % rate, 90 % target → 139)', () => {
    // 1.959964² × 0.9 × 0.1 / 0.05² = 138.29…
    expect(samplesNeeded(0.95, 0.9)).toBe(139);
  });

  it('is the smallest n whose Wilson lower bound reaches the target', () => {
    for (const [rate, target] of [
      [0.95, 0.9],
      [0.97, 0.95],
      [0.6, 0.5],
      [1, 0.99],
      [0.91, 0.9],
    ]) {
      const n = samplesNeeded(rate, target)!;
      // Whole-number successes at that n only exist for some rates, so check the bound directly.
      const lowerAt = (m: number) => {
        const z = 1.959963984540054;
        const d = 1 + (z * z) / m;
        const centre = (rate + (z * z) / (2 * m)) / d;
        return centre - (z / d) * Math.sqrt((rate * (1 - rate)) / m + (z * z) / (4 * m * m));
      };
      expect(lowerAt(n)).toBeGreaterThanOrEqual(target);
      expect(lowerAt(n - 1)).toBeLessThan(target);
    }
  });

  it('agrees with wilsonInterval when the projected successes are whole', () => {
    const n = samplesNeeded(0.95, 0.9)!;
    expect(wilsonInterval(Math.round(0.95 * 140), 140).lower).toBeGreaterThanOrEqual(0.9);
    expect(n).toBeLessThanOrEqual(140);
  });

  it('grows as the rate approaches the target and as confidence rises', () => {
    expect(samplesNeeded(0.92, 0.9)!).toBeGreaterThan(samplesNeeded(0.95, 0.9)!);
    expect(samplesNeeded(0.95, 0.9, 0.99)!).toBeGreaterThan(samplesNeeded(0.95, 0.9, 0.95)!);
  });

  it('is null when the rate is not above the target: more data at this rate cannot pass', () => {
    expect(samplesNeeded(0.9, 0.9)).toBeNull();
    expect(samplesNeeded(0.85, 0.9)).toBeNull();
  });

  it('needs one sample for a target of zero', () => {
    expect(samplesNeeded(0.5, 0)).toBe(1);
  });
});
