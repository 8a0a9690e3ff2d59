import type { GuardParams } from '../../src/stats/domain/regression-guard';
import { initialGuardState, updateGuard } from '../../src/stats/domain/regression-guard';
import { seededRandom, Random } from '../../src/stats/domain/random';
import { wilsonInterval } from '../../src/stats/domain/wilson-interval';
import { zForConfidence } from '../../src/stats/domain/normal';
import { quantile } from './stats';

/**
 * The regression guard's judgement, by simulation, configured exactly as the controller configures
 * it: when a segment is promoted, its baseline is the Wilson lower bound (at the workflow's
 * guard.baselineConfidence) of the agreement that passed the gate, and its parameters come from
 * `guardParamsFor` (src/rollout/segment-transitions.ts: defaultGuardParams with the workflow's
 * minDetectableDrop and targetArl0). The baseline's own estimation is simulated too: each
 * segment-day is promoted on evidence of 300–1,000 comparisons drawn at the true rate.
 *
 * The naive baseline is what people usually write: every 100 comparisons, a one-sided z-test of
 * those 100 against the same baseline at 5 %, revert when it says "lower". Each test alone is fine;
 * repeating it all day is not (it peeks twenty times a day).
 */
export interface GuardBenchOptions {
  /** The controller's parameters for a baseline (guardParamsFor bound to the workflow's champion). */
  paramsFor: (baselineLower: number) => GuardParams | null;
  baselineConfidence: number;
  trueRate: number;
  droppedRate: number;
  segmentDays: number;
  comparisonsPerDay: number;
  detectionRuns: number;
  baselineSample: [number, number];
  /** Comparisons the guard sees per controller cycle. */
  batchSize: number;
  seed: number;
  naiveWindow?: number;
  naiveAlpha?: number;
  /** Shared between runs with the same paramsFor. */
  cache?: Map<string, Promoted>;
}

export interface GuardBenchResult {
  batchSize: number;
  /** Baselines (Wilson lower bounds) the segment-days were promoted with. */
  baseline: { p50: number; min: number; max: number };
  thresholdH: { p50: number; min: number; max: number };
  guard: { falseReverts: number; falseRevertShare: number; delayP50: number | null; delayP95: number | null; missed: number };
  naive: { falseReverts: number; falseRevertShare: number; delayP50: number | null; delayP95: number | null; missed: number };
}

export interface Promoted {
  lower: number;
  params: GuardParams | null;
}

export function simulateGuardBench(o: GuardBenchOptions): GuardBenchResult {
  const window = o.naiveWindow ?? 100;
  if (o.batchSize !== 1 && window % o.batchSize !== 0) throw new RangeError('the naive window must be a whole number of batches');
  const random = seededRandom(o.seed);
  const cache = o.cache ?? new Map<string, Promoted>();
  const zCrit = zForConfidence(1 - 2 * (o.naiveAlpha ?? 0.05)); // one-sided
  const lowers: number[] = [];
  const hs: number[] = [];

  const promote = (): Promoted => {
    const n = random.integer(o.baselineSample[0], o.baselineSample[1]);
    const agree = random.binomial(n, o.trueRate);
    // The baseline to 0.001: its threshold h takes ~0.1 s to compute (Brook & Evans' Markov chain),
    // and a baseline moves h by less than its 0.01 rounding within 0.001.
    const lower = Math.round(wilsonInterval(agree, n, o.baselineConfidence).lower * 1000) / 1000;
    const key = lower.toFixed(3);
    let p = cache.get(key);
    if (!p) {
      p = { lower, params: o.paramsFor(lower) };
      cache.set(key, p);
    }
    lowers.push(p.lower);
    if (p.params) hs.push(p.params.h);
    return p;
  };
  const draw = (size: number, rate: number) => ({ n: size, agree: random.binomial(size, rate) });

  /** The naive test: revert when the last full window's agreement is significantly below the baseline. */
  const naiveBreach = (agree: number, p0: number) => (agree / window - p0) / Math.sqrt((p0 * (1 - p0)) / window) < -zCrit;

  // False reverts: a healthy segment for one day (stage promoted in the morning, watched all day).
  let guardFalse = 0;
  let naiveFalse = 0;
  for (let day = 0; day < o.segmentDays; day++) {
    const p = promote();
    let state = initialGuardState();
    let guardAlarm = false;
    let naiveAlarm = false;
    let windowAgree = 0;
    let windowN = 0;
    for (let done = 0; done < o.comparisonsPerDay && !(guardAlarm && naiveAlarm); done += o.batchSize) {
      const size = Math.min(o.batchSize, o.comparisonsPerDay - done);
      const b = draw(size, o.trueRate);
      if (p.params && !guardAlarm) {
        const u = updateGuard(state, b, p.params);
        state = u.state;
        if (u.breached) guardAlarm = true;
      }
      // The naive test runs on every full window (batches are cut at window edges by drawing one at a time).
      for (let i = 0; i < b.n && !naiveAlarm; i++) {
        windowN++;
        if (i < b.agree) windowAgree++;
        if (windowN === window) {
          if (naiveBreach(windowAgree, p.lower)) naiveAlarm = true;
          windowN = 0;
          windowAgree = 0;
        }
      }
    }
    if (guardAlarm) guardFalse++;
    if (naiveAlarm) naiveFalse++;
  }

  // Detection: promoted, healthy for a random while (0–1,000 comparisons), then agreement drops.
  const guardDelays: number[] = [];
  const naiveDelays: number[] = [];
  let guardMissed = 0;
  let naiveMissed = 0;
  const maxDelay = 20_000;
  for (let run = 0; run < o.detectionRuns; run++) {
    const p = promote();
    const warmup = random.integer(0, 1000);
    const gd = detect(random, p, warmup, o, maxDelay);
    if (gd === null) guardMissed++;
    else guardDelays.push(gd);
    const nd = detectNaive(random, p.lower, warmup, o, window, naiveBreach, maxDelay);
    if (nd === null) naiveMissed++;
    else naiveDelays.push(nd);
  }
  guardDelays.sort((a, b) => a - b);
  naiveDelays.sort((a, b) => a - b);
  const summary = (v: number[]) => ({ p50: quantile(v, 0.5) ?? NaN, min: Math.min(...v), max: Math.max(...v) });
  return {
    batchSize: o.batchSize,
    baseline: summary(lowers),
    thresholdH: summary(hs),
    guard: { falseReverts: guardFalse, falseRevertShare: guardFalse / o.segmentDays, delayP50: quantile(guardDelays, 0.5), delayP95: quantile(guardDelays, 0.95), missed: guardMissed },
    naive: { falseReverts: naiveFalse, falseRevertShare: naiveFalse / o.segmentDays, delayP50: quantile(naiveDelays, 0.5), delayP95: quantile(naiveDelays, 0.95), missed: naiveMissed },
  };
}

/**
 * Comparisons from the drop to the end of the batch that raised the alarm; null when missed (or
 * nothing is guarded). A false alarm during the healthy warm-up reverts and restarts the guard (as
 * after a person resumes), as in simulateGuard.
 */
function detect(random: Random, p: Promoted, warmup: number, o: GuardBenchOptions, maxDelay: number): number | null {
  const params = p.params;
  if (!params) return null;
  const step = (state: ReturnType<typeof initialGuardState>, rate: number) => updateGuard(state, { n: o.batchSize, agree: random.binomial(o.batchSize, rate) }, params);
  let state = initialGuardState();
  for (let done = 0; done < warmup; done += o.batchSize) {
    const u = step(state, o.trueRate);
    state = u.breached ? initialGuardState() : u.state;
  }
  for (let delay = o.batchSize; delay <= maxDelay; delay += o.batchSize) {
    const u = step(state, o.droppedRate);
    state = u.state;
    if (u.breached) return delay;
  }
  return null;
}

function detectNaive(
  random: Random,
  p0: number,
  warmup: number,
  o: GuardBenchOptions,
  window: number,
  breach: (agree: number, p0: number) => boolean,
  maxDelay: number,
): number | null {
  // Windows are counted from the promotion, so the drop lands anywhere inside one.
  let windowN = 0;
  let windowAgree = 0;
  for (let i = 0; i < warmup + maxDelay; i++) {
    const rate = i < warmup ? o.trueRate : o.droppedRate;
    windowN++;
    if (random.next() < rate) windowAgree++;
    if (windowN === window) {
      if (breach(windowAgree, p0) && i >= warmup) return i - warmup + 1;
      windowN = 0;
      windowAgree = 0;
    }
  }
  return null;
}
