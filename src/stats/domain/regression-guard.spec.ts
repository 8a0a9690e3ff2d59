import { seededRandom } from './random';
import {
  DEFAULT_GUARD_DROP,
  DEFAULT_GUARD_TARGET_ARL0,
  defaultGuardParams,
  guardParamsForEstimate,
  falseAlarmProbability,
  GuardParams,
  GuardState,
  guardArl,
  guardIncrements,
  guardThresholdFor,
  initialGuardState,
  updateGuard,
} from './regression-guard';

const params: GuardParams = { p0: 0.92, p1: 0.86, h: 8 };
const inc = { agree: Math.log(0.86 / 0.92), disagree: Math.log(0.14 / 0.08) };

describe('updateGuard', () => {
  it('adds the log-likelihood ratio of each comparison', () => {
    expect(guardIncrements(params).agree).toBeCloseTo(-0.0674413, 6); // ln(0.86/0.92)
    expect(guardIncrements(params).disagree).toBeCloseTo(0.5596158, 6); // ln(1.75)
    const update = updateGuard(initialGuardState(), { n: 10, agree: 7 }, params);
    expect(update.batchEvidence).toBeCloseTo(7 * inc.agree + 3 * inc.disagree, 12);
    expect(update.statistic).toBeCloseTo(7 * inc.agree + 3 * inc.disagree, 12);
    expect(update.breached).toBe(false);
    expect(update).toMatchObject({ threshold: 8, baseline: 0.92, alternative: 0.86 });
    expect(update.state).toMatchObject({ n: 10, agree: 7 });
  });

  it('floors the statistic at zero: good news does not bank credit against later trouble', () => {
    const good = updateGuard(initialGuardState(), { n: 500, agree: 500 }, params);
    expect(good.statistic).toBe(0);
    const bad = updateGuard(good.state, { n: 2, agree: 0 }, params);
    expect(bad.statistic).toBeCloseTo(2 * inc.disagree, 12);
  });

  it('opens a window when the statistic leaves zero, extends it, and closes it at zero', () => {
    let state: GuardState = initialGuardState();
    state = updateGuard(state, { n: 100, agree: 100 }, params).state; // stays at 0
    expect(state).toMatchObject({ s: 0, windowStartIndex: 100, windowN: 0 });
    let update = updateGuard(state, { n: 10, agree: 6 }, params); // leaves zero: window starts at index 100
    expect(update.window).toEqual({ startIndex: 100, n: 10, agree: 6, rate: 0.6 });
    update = updateGuard(update.state, { n: 10, agree: 8 }, params);
    expect(update.window).toEqual({ startIndex: 100, n: 20, agree: 14, rate: 0.7 });
    update = updateGuard(update.state, { n: 200, agree: 200 }, params); // back to zero
    expect(update.statistic).toBe(0);
    expect(update.window).toEqual({ startIndex: 320, n: 0, agree: 0, rate: null });
  });

  it('breaches at h and reports the regressed window beside the baseline', () => {
    const state = updateGuard(initialGuardState(), { n: 1000, agree: 920 }, params).state;
    const windowStart = state.s === 0 ? state.n : state.windowStartIndex;
    let update = updateGuard(state, { n: 50, agree: 40 }, params);
    let batches = 1;
    while (!update.breached) {
      update = updateGuard(update.state, { n: 50, agree: 40 }, params);
      batches++;
    }
    expect(update.statistic).toBeGreaterThanOrEqual(8);
    expect(update.window.startIndex).toBe(windowStart);
    expect(update.window.n).toBe(update.state.n - windowStart);
    expect(update.window.rate!).toBeLessThan(0.86);
    expect(update.baseline).toBe(0.92);
    // 50 comparisons at 80 % add 40·ln(0.86/0.92) + 10·ln(1.75) = 2.90 each batch.
    expect(batches).toBeLessThanOrEqual(Math.ceil(8 / (40 * inc.agree + 10 * inc.disagree)) + 1);
  });

  it('matches one-at-a-time updates when the statistic never touches zero inside the batch', () => {
    let single = updateGuard(initialGuardState(), { n: 1, agree: 0 }, params).state;
    for (const agreed of [1, 0, 1, 1, 0]) single = updateGuard(single, { n: 1, agree: agreed }, params).state;
    let batched = updateGuard(initialGuardState(), { n: 1, agree: 0 }, params).state;
    batched = updateGuard(batched, { n: 5, agree: 3 }, params).state;
    expect(batched.s).toBeCloseTo(single.s, 12);
    expect(batched).toMatchObject({ n: single.n, agree: single.agree, windowStartIndex: 0, windowN: 6 });
  });

  it('keeps its state as plain JSON', () => {
    const update = updateGuard(initialGuardState(), { n: 30, agree: 20 }, params);
    const restored = JSON.parse(JSON.stringify(update.state)) as GuardState;
    expect(restored).toEqual(update.state);
    expect(updateGuard(restored, { n: 5, agree: 5 }, params)).toEqual(updateGuard(update.state, { n: 5, agree: 5 }, params));
  });

  it('ignores an empty batch', () => {
    const state = updateGuard(initialGuardState(), { n: 10, agree: 5 }, params).state;
    expect(updateGuard(state, { n: 0, agree: 0 }, params).state).toEqual(state);
  });

  it('refuses impossible batches and parameters', () => {
    expect(() => updateGuard(initialGuardState(), { n: 5, agree: 6 }, params)).toThrow(RangeError);
    expect(() => updateGuard(initialGuardState(), { n: 1.5, agree: 1 }, params)).toThrow(RangeError);
    expect(() => updateGuard(initialGuardState(), { n: 5, agree: 5 }, { ...params, p1: 0.95 })).toThrow(RangeError);
    expect(() => updateGuard(initialGuardState(), { n: 5, agree: 5 }, { ...params, h: 0 })).toThrow(RangeError);
  });
});

describe('guardArl (Brook & Evans Markov chain)', () => {
  it('is exact when the increments are ±1 steps: the reflected random walk', () => {
    // p0 = 0.6, p1 = 0.4 makes the increments ±ln 1.5, so S/ln 1.5 is a random walk on 0, 1, 2, …
    // reflected at 0 and absorbed at H. Its expected time from 0 follows from first-step analysis
    // (Feller, An Introduction to Probability Theory, vol. 1, ch. XIV): the time Tₖ to climb from k to
    // k + 1 is T₀ = 1/q and Tₖ = (1 + p·Tₖ₋₁)/q, with q = P(up) = 1 − rate; ARL = Σ Tₖ.
    const walk: GuardParams = { p0: 0.6, p1: 0.4, h: 5 * Math.log(1.5) };
    for (const rate of [0.6, 0.5, 0.4]) {
      const p = rate;
      const q = 1 - rate;
      let climb = 1 / q;
      let expected = climb;
      for (let k = 1; k < 5; k++) {
        climb = (1 + p * climb) / q;
        expected += climb;
      }
      expect(guardArl(rate, walk) / expected).toBeCloseTo(1, 9);
    }
  });

  it("respects Lorden's bound ARL₀ ≥ e^h and falls as agreement drops", () => {
    for (const h of [3, 5, 8]) {
      const p = { ...params, h };
      expect(guardArl(0.92, p)).toBeGreaterThanOrEqual(Math.exp(h));
      expect(guardArl(0.9, p)).toBeLessThan(guardArl(0.92, p));
      expect(guardArl(0.82, p)).toBeLessThan(guardArl(0.9, p));
    }
  });

  it('agrees with simulation of the one-comparison-at-a-time guard', () => {
    const small: GuardParams = { p0: 0.92, p1: 0.86, h: 4 };
    const random = seededRandom(99);
    const runLength = (rate: number) => {
      let s = 0;
      for (let t = 1; ; t++) {
        s = Math.max(0, s + (random.next() < rate ? inc.agree : inc.disagree));
        if (s >= small.h) return t;
      }
    };
    const mean = (rate: number, runs: number) => {
      let total = 0;
      for (let i = 0; i < runs; i++) total += runLength(rate);
      return total / runs;
    };
    // In control the run length is roughly exponential: 600 runs give a ~4 % standard error.
    expect(Math.abs(mean(0.92, 600) / guardArl(0.92, small) - 1)).toBeLessThan(0.12);
    expect(Math.abs(mean(0.82, 3000) / guardArl(0.82, small) - 1)).toBeLessThan(0.05);
  });
});

describe('guardThresholdFor and the defaults', () => {
  it('finds the smallest h (to 0.01) whose ARL₀ reaches the target', () => {
    const h = guardThresholdFor(0.92, 0.86, 100_000);
    expect(guardArl(0.92, { p0: 0.92, p1: 0.86, h })).toBeGreaterThanOrEqual(100_000);
    expect(guardArl(0.92, { p0: 0.92, p1: 0.86, h: h - 0.1 })).toBeLessThan(100_000);
    expect(h).toBeLessThan(Math.log(100_000)); // tighter than Lorden's bound
    expect(guardThresholdFor(0.92, 0.86, 1_000_000)).toBeGreaterThan(h);
  });

  it('derives p1 and h from the baseline', () => {
    const defaults = defaultGuardParams(0.92);
    expect(defaults.p0).toBe(0.92);
    expect(defaults.p1).toBe(0.86);
    expect(DEFAULT_GUARD_DROP).toBe(0.06);
    expect(defaults.h).toBeGreaterThan(8);
    expect(defaults.h).toBeLessThan(10);
    const arl0 = guardArl(0.92, defaults);
    expect(arl0).toBeGreaterThanOrEqual(DEFAULT_GUARD_TARGET_ARL0);
    // A segment-day of 2,000 comparisons then has well under a 1 % chance of a false revert.
    expect(falseAlarmProbability(arl0, 2000)).toBeLessThan(0.005);
    expect(guardArl(0.82, defaults)).toBeLessThan(250);
  });

  it('caps a perfect baseline and refuses one too low for the drop', () => {
    expect(defaultGuardParams(1).p0).toBe(0.999);
    expect(() => defaultGuardParams(0.05)).toThrow(RangeError);
    expect(() => guardThresholdFor(0.9, 0.95, 1000)).toThrow(RangeError);
    expect(() => guardThresholdFor(0.9, 0.8, 1)).toThrow(RangeError);
  });
});

describe('falseAlarmProbability', () => {
  it('is 1 − exp(−m/ARL₀)', () => {
    expect(falseAlarmProbability(500_000, 2000)).toBeCloseTo(1 - Math.exp(-0.004), 15);
    expect(falseAlarmProbability(1000, 0)).toBe(0);
  });
});

describe('guard parameters for an estimated baseline', () => {
  it('keeps the false-revert rate at the baseline lower bound, at some cost in speed', () => {
    const exact = defaultGuardParams(0.92, { drop: 0.06, targetArl0: 500_000 });
    const estimated = guardParamsForEstimate(0.92, 0.91, { drop: 0.06, targetArl0: 500_000 });
    expect(estimated).toMatchObject({ p0: 0.92, p1: 0.86 });
    expect(estimated.h).toBeGreaterThan(exact.h);
    // The tuned-for baseline's ARL at the lower bound reaches the target; the exact one's does not.
    expect(guardArl(0.91, estimated)).toBeGreaterThanOrEqual(500_000 * 0.97);
    expect(guardArl(0.91, exact)).toBeLessThan(100_000);
    // A drop to 0.86 is still caught within a few hundred comparisons.
    expect(guardArl(0.86, estimated)).toBeLessThan(1.6 * guardArl(0.86, exact));
  });

  it('is the plain guard when the baseline is known', () => {
    expect(guardParamsForEstimate(0.92, 0.92)).toEqual(defaultGuardParams(0.92));
  });

  it('refuses to guard on a baseline too uncertain to tell from the drop', () => {
    expect(() => guardParamsForEstimate(0.92, 0.85, { drop: 0.06 })).toThrow(/too few labels/);
  });
});
