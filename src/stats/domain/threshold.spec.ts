import { binomialUpperTail } from './binomial';
import { confidenceBinIndex } from './calibration';
import { seededRandom } from './random';
import { recommendThreshold } from './threshold';

describe('recommendThreshold: the procedure (one look, exact binomial test)', () => {
  // Ten bins; only the top three hold labels. Worked by hand:
  //   λ = 0.9: 49/50 correct, p = P(Bin(50, 0.9) ≥ 49) = 50·0.9⁴⁹·0.1 + 0.9⁵⁰ = 0.0338 → rejected;
  //   λ = 0.8: 95/100,        p = P(Bin(100, 0.9) ≥ 95) = 0.0576 (binomial tables)  → rejected;
  //   λ = 0.7: 135/150,       p = P(Bin(150, 0.9) ≥ 135) > 0.5                       → stop.
  const n = [0, 0, 0, 0, 0, 0, 0, 50, 50, 50];
  const correct = [0, 0, 0, 0, 0, 0, 0, 40, 46, 49];

  it('tests from the top down, stops at the first non-rejection and picks the lowest rejected edge', () => {
    const result = recommendThreshold({ n, correct, target: 0.9, delta: 0.1, test: 'fixed-sample' });
    expect(result.status).toBe('certified');
    expect(result.threshold).toBe(0.8);
    expect(result.binIndex).toBe(8);
    expect(result.tested.map((c) => c.threshold)).toEqual([0.9, 0.8, 0.7]);
    expect(result.tested[0].pValue).toBeCloseTo(50 * 0.9 ** 49 * 0.1 + 0.9 ** 50, 12);
    expect(result.tested[0].pValue).toBeCloseTo(0.0338, 4);
    expect(result.tested[1].pValue).toBeCloseTo(0.0576, 4);
    expect(result.tested[2].pValue).toBeGreaterThan(0.5);
    expect(result.tested.map((c) => c.rejected)).toEqual([true, true, false]);
    expect(result).toMatchObject({ nAbove: 100, correctAbove: 95, accuracyAbove: 0.95, coverage: 100 / 150, target: 0.9, delta: 0.1, test: 'fixed-sample' });
    expect(result.accuracyLower!).toBeLessThan(0.95);
    expect(result.reason).toContain('0.8');
  });

  it('never goes below the first non-rejection, even if a lower candidate would pass', () => {
    // Bin 6 is a perfect 100/100, so λ = 0.6 alone would pass; but λ = 0.7 failed first.
    const result = recommendThreshold({
      n: [0, 0, 0, 0, 0, 0, 100, 50, 50, 50],
      correct: [0, 0, 0, 0, 0, 0, 100, 40, 46, 49],
      target: 0.9,
      delta: 0.1,
      test: 'fixed-sample',
    });
    expect(result.threshold).toBe(0.8);
    expect(result.tested).toHaveLength(3);
  });

  it('is stricter with a smaller δ', () => {
    const result = recommendThreshold({ n, correct, target: 0.9, delta: 0.05, test: 'fixed-sample' });
    expect(result.threshold).toBe(0.9);
    expect(result.tested.map((c) => c.rejected)).toEqual([true, false]);
  });

  it('skips candidates with fewer than minCount items above them, and empty bins', () => {
    const result = recommendThreshold({ n, correct, target: 0.9, delta: 0.1, minCount: 60, test: 'fixed-sample' });
    expect(result.tested.map((c) => c.threshold)).toEqual([0.8, 0.7]);
    expect(result.threshold).toBe(0.8);
  });

  it('says why when nothing is certified', () => {
    const noLabels = recommendThreshold({ n: [0, 0], correct: [0, 0], target: 0.9, delta: 0.1, test: 'fixed-sample' });
    expect(noLabels).toMatchObject({ status: 'no-labels', threshold: null, coverage: null, tested: [] });
    expect(noLabels.reason).toMatch(/no review or audit labels/);

    const tooFew = recommendThreshold({ n: [5, 5], correct: [5, 5], target: 0.9, delta: 0.1, test: 'fixed-sample' });
    expect(tooFew.status).toBe('too-few-labels');
    expect(tooFew.reason).toMatch(/at least 30/);

    const notCertified = recommendThreshold({ n: [0, 40], correct: [0, 37], target: 0.9, delta: 0.1, test: 'fixed-sample' });
    expect(notCertified.status).toBe('not-certified');
    expect(notCertified.threshold).toBeNull();
    expect(notCertified.tested).toHaveLength(1);
    expect(notCertified.tested[0].pValue).toBeCloseTo(binomialUpperTail(37, 40, 0.9), 14);
    expect(notCertified.reason).toMatch(/37\/40/);
  });

  it('certifies everything when every label is correct and there are enough of them', () => {
    const result = recommendThreshold({ n: [10, 10, 10, 10], correct: [10, 10, 10, 10], target: 0.9, delta: 0.1, test: 'fixed-sample' });
    expect(result.threshold).toBe(0);
    expect(result.coverage).toBe(1);
  });

  it('refuses malformed input', () => {
    expect(() => recommendThreshold({ n: [1], correct: [2], target: 0.9, delta: 0.1, test: 'fixed-sample' })).toThrow(RangeError);
    expect(() => recommendThreshold({ n: [1, 1], correct: [1], target: 0.9, delta: 0.1, test: 'fixed-sample' })).toThrow(RangeError);
    expect(() => recommendThreshold({ n: [1], correct: [1], target: 1, delta: 0.1, test: 'fixed-sample' })).toThrow(RangeError);
    expect(() => recommendThreshold({ n: [1], correct: [1], target: 0.9, delta: 0 })).toThrow(RangeError);
    expect(() => recommendThreshold({ n: [1], correct: [1], target: 0.9, delta: 0.1, minCount: 0 })).toThrow(RangeError);
  });
});

describe('recommendThreshold: the one-look guarantee, by simulation', () => {
  const bins = 20;
  const target = 0.9;
  const delta = 0.1;
  const runs = 1000;
  const labelsPerRun = 2000;
  // Allow three Monte-Carlo standard errors above δ.
  const tolerance = 3 * Math.sqrt((delta * (1 - delta)) / runs);

  /**
   * Draws calibration sets from a known model: confidence C ~ Uniform(0, 1) and
   * P(correct | C = c) = accuracy(c). Returns, per run, the chosen λ by the certified procedure and by
   * the naive rule "lowest edge whose observed accuracy above it is ≥ target".
   */
  function simulate(accuracy: (c: number) => number, seed: number) {
    const random = seededRandom(seed);
    const chosen: Array<{ certified: number | null; naive: number | null }> = [];
    for (let run = 0; run < runs; run++) {
      const n = new Array<number>(bins).fill(0);
      const correct = new Array<number>(bins).fill(0);
      for (let i = 0; i < labelsPerRun; i++) {
        const c = random.next();
        const bin = confidenceBinIndex(c, bins);
        n[bin]++;
        if (random.bernoulli(accuracy(c))) correct[bin]++;
      }
      const certified = recommendThreshold({ n, correct, target, delta, test: 'fixed-sample' }).threshold;
      let naive: number | null = null;
      let itemsAbove = 0;
      let correctAbove = 0;
      for (let bin = bins - 1; bin >= 0; bin--) {
        itemsAbove += n[bin];
        correctAbove += correct[bin];
        if (itemsAbove >= 30 && correctAbove / itemsAbove >= target) naive = bin / bins;
      }
      chosen.push({ certified, naive });
    }
    return chosen;
  }

  // Figures with these seeds: certified 2.6 % failures (naive rule 31 %), 93 % of runs certify a
  // threshold; with no valid threshold, certified 5.5 % of runs (naive rule 75 %).
  it('keeps P(true accuracy above the chosen threshold < target) ≤ δ when accuracy rises with confidence', () => {
    // accuracy(c) = 0.55 + 0.43c, so the true accuracy above λ is 0.55 + 0.43(1 + λ)/2:
    // 0.894 at λ = 0.60 (below target), 0.905 at λ = 0.65 (above). Any choice ≤ 0.6 is a failure.
    const trueAccuracyAbove = (lambda: number) => 0.55 + (0.43 * (1 + lambda)) / 2;
    const results = simulate((c) => 0.55 + 0.43 * c, 20240611);
    const failureShare = (pick: 'certified' | 'naive') => results.filter((r) => r[pick] !== null && trueAccuracyAbove(r[pick]!) < target).length / runs;

    expect(failureShare('certified')).toBeLessThanOrEqual(delta + tolerance);
    // Power: the procedure is not trivially safe by never certifying anything.
    expect(results.filter((r) => r.certified !== null).length / runs).toBeGreaterThan(0.85);
    // And the check can fail: the naive rule breaks the same promise far more often than δ.
    expect(failureShare('naive')).toBeGreaterThan(delta + tolerance);
  });

  it('certifies nothing more than δ of the time when no threshold meets the target', () => {
    // Every item is right with probability 0.895 whatever its confidence: every H₀ is true.
    const results = simulate(() => 0.895, 7);
    const certifiedShare = results.filter((r) => r.certified !== null).length / runs;
    expect(certifiedShare).toBeLessThanOrEqual(delta + tolerance);
    expect(results.filter((r) => r.naive !== null).length / runs).toBeGreaterThan(delta + tolerance);
  });
});

describe('recommendThreshold: recomputed as labels arrive (the controller does it every cycle)', () => {
  const bins = 20;
  const target = 0.9;
  const delta = 0.1;
  const runs = 200;
  const looks = 100;
  const labelsPerLook = 100;
  // accuracy(c) = 0.55 + 0.43c as above: any certified λ ≤ 0.6 is a failure.
  const trueAccuracyAbove = (lambda: number) => 0.55 + (0.43 * (1 + lambda)) / 2;

  /** Per run: whether any look certified a wrong threshold, and the threshold in force at the end. */
  function simulate(test: 'anytime' | 'fixed-sample', seed: number) {
    const random = seededRandom(seed);
    const out: Array<{ everWrong: boolean; last: number | null }> = [];
    for (let run = 0; run < runs; run++) {
      const n = new Array<number>(bins).fill(0);
      const correct = new Array<number>(bins).fill(0);
      let everWrong = false;
      let last: number | null = null;
      for (let look = 0; look < looks; look++) {
        for (let i = 0; i < labelsPerLook; i++) {
          const c = random.next();
          const bin = confidenceBinIndex(c, bins);
          n[bin]++;
          if (random.bernoulli(0.55 + 0.43 * c)) correct[bin]++;
        }
        last = recommendThreshold({ n, correct, target, delta, test }).threshold;
        if (last !== null && trueAccuracyAbove(last) < target) everWrong = true;
      }
      out.push({ everWrong, last });
    }
    return out;
  }

  // Figures with this seed: anytime 0.5 % of runs ever wrong, 100 % certify by the end; the
  // one-look test re-run at every look 20 %.
  it('keeps P(ever certifying a threshold whose true accuracy is below target) ≤ δ over 100 looks', () => {
    const results = simulate('anytime', 11);
    const tolerance = 3 * Math.sqrt((delta * (1 - delta)) / runs);
    expect(results.filter((r) => r.everWrong).length / runs).toBeLessThanOrEqual(delta + tolerance);
    // Power: by 10,000 labels it certifies a threshold in most runs.
    expect(results.filter((r) => r.last !== null).length / runs).toBeGreaterThan(0.8);
  });

  it('where the one-look test, re-run at every look, breaks its promise far more often', () => {
    const results = simulate('fixed-sample', 11);
    expect(results.filter((r) => r.everWrong).length / runs).toBeGreaterThan(delta + 2 * Math.sqrt((delta * (1 - delta)) / runs));
  });
});
