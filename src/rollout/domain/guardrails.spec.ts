import { LATENCY_BUCKETS_MS, latencyBucket } from '../../comparison/domain/rollup';
import { seededRandom, wilsonInterval } from '../../stats/domain';
import { evaluateGuardrails, GuardrailsConfig, GuardrailTotals, initialGuardrailState, restartGuardrail } from './guardrails';

const config = (over: Partial<GuardrailsConfig> = {}): GuardrailsConfig => ({ confidence: 0.99, minCalls: 200, ...over });
const totals = (over: Partial<GuardrailTotals> = {}): GuardrailTotals => ({
  aiCalls: 0,
  aiFailed: 0,
  aiInvalid: 0,
  costUsd: 0,
  latencyHist: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
  ...over,
});
/** A histogram with `count` calls at each of the given latencies (ms). */
const hist = (...calls: Array<[ms: number, count: number]>): number[] => {
  const h = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  for (const [ms, count] of calls) h[latencyBucket(ms)] += count;
  return h;
};

describe('the error rate is judged on an anytime-valid lower bound', () => {
  const errorOnly = config({ errorRate: { max: 0.05 } });

  it('judges nothing below minCalls, however bad the calls', () => {
    const { readings, breaches } = evaluateGuardrails(errorOnly, totals({ aiCalls: 199, aiFailed: 100 }), initialGuardrailState(), 'revert');
    expect(breaches).toEqual([]);
    expect(readings[0]).toMatchObject({ name: 'errorRate', n: 199, judged: false, bound: null, breached: false });
    expect(readings[0].detail).toMatch(/no judgement below 200 calls/);
    expect(evaluateGuardrails(errorOnly, totals({ aiCalls: 200, aiFailed: 100 }), {}, 'revert').breaches).toHaveLength(1);
  });

  it('breaches at a clearly high error rate, counting invalid answers as errors', () => {
    const { readings, breaches } = evaluateGuardrails(errorOnly, totals({ aiCalls: 400, aiFailed: 30, aiInvalid: 30 }), {}, 'pause');
    const reading = readings[0];
    expect(reading).toMatchObject({ n: 400, observed: 0.15, max: 0.05, limit: 0.05, confidence: 0.99, judged: true, breached: true, since: 'stage' });
    expect(reading.bound).toBeGreaterThan(0.05);
    expect(reading.bound).toBeLessThan(0.15);
    expect(reading.detail).toMatch(
      /^error rate: 60\/400 model calls failed or were invalid \(0\.150\), at least 0\.\d{3} \(0\.99 confidence sequence\).*: breached$/,
    );
    expect(breaches).toEqual([{ name: 'errorRate', policy: 'pause', reading }]);
  });

  it('does not breach on a rate above the maximum that the evidence cannot yet tell from it', () => {
    const { readings, breaches } = evaluateGuardrails(errorOnly, totals({ aiCalls: 400, aiFailed: 28 }), {}, 'revert');
    expect(readings[0].observed).toBe(0.07);
    expect(readings[0].bound).toBeLessThan(0.05);
    expect(breaches).toEqual([]);
  });

  it('stays quiet over 2,000 looks at a stable rate just below the maximum, where a fixed-sample bound re-computed at every look breaches', () => {
    // Seed 12 is a path on which the 0.99 Wilson lower bound crosses 0.05 at some look: the noise a per-look test mistakes for a breach.
    const random = seededRandom(12);
    const rate = 0.048;
    let aiCalls = 0;
    let aiFailed = 0;
    let state = initialGuardrailState();
    let breaches = 0;
    let wilsonCrossed = false;
    for (let look = 0; look < 2000; look++) {
      for (let call = 0; call < 5; call++) {
        aiCalls++;
        if (random.bernoulli(rate)) aiFailed++;
      }
      const t = totals({ aiCalls, aiFailed });
      const e = evaluateGuardrails(errorOnly, t, state, 'alert');
      if (e.breaches.length > 0) {
        breaches++;
        state = restartGuardrail(state, 'errorRate', t);
      }
      if (aiCalls >= 200 && wilsonInterval(aiFailed, aiCalls, 0.99).lower > 0.05) wilsonCrossed = true;
    }
    expect(wilsonCrossed).toBe(true);
    expect(breaches).toBe(0);
  });
});

describe('the p95 latency is judged on calls that are surely slower than the maximum', () => {
  it('never breaches on calls inside the bucket that holds the maximum, since they may be under it', () => {
    // 800 ms lies in the bucket (500, 1000]: all 1,000 calls there could be at 501 ms.
    const { readings, breaches } = evaluateGuardrails(
      config({ latencyP95Ms: { max: 800 } }),
      totals({ aiCalls: 1000, latencyHist: hist([900, 1000]) }),
      {},
      'revert',
    );
    expect(breaches).toEqual([]);
    expect(readings[0]).toMatchObject({ n: 1000, observed: 0, limit: 0.05, judged: true, latency: { judgedAboveMs: 1000 } });
    expect(readings[0].detail).toMatch(/0\/1000 timed calls took over 1000 ms \(the first bucket bound at or above the maximum of 800 ms\)/);
  });

  it('breaches when clearly more than 5 % of calls are beyond the bound judged', () => {
    const latencyHist = hist([900, 800], [2000, 200]);
    const { readings, breaches } = evaluateGuardrails(config({ latencyP95Ms: { max: 800 } }), totals({ aiCalls: 1000, latencyHist }), {}, 'revert');
    expect(readings[0]).toMatchObject({ observed: 0.2, breached: true });
    expect(readings[0].bound).toBeGreaterThan(0.05);
    expect(readings[0].latency?.p95Ms).toBeGreaterThan(1000);
    expect(breaches.map((b) => b.name)).toEqual(['latencyP95Ms']);
  });

  it('judges the maximum itself when it is a bucket bound', () => {
    const latencyHist = hist([900, 800], [2000, 200]);
    const { readings } = evaluateGuardrails(config({ latencyP95Ms: { max: 1000 } }), totals({ aiCalls: 1000, latencyHist }), {}, 'revert');
    expect(readings[0]).toMatchObject({ observed: 0.2, breached: true, latency: { judgedAboveMs: 1000 } });
    expect(readings[0].detail).not.toMatch(/first bucket bound/);
  });

  it('counts only timed calls, and says so when the maximum is beyond the histogram', () => {
    const latencyHist = hist([40_000, 300]);
    const under = evaluateGuardrails(config({ latencyP95Ms: { max: 1000 } }), totals({ aiCalls: 1000, latencyHist: hist([40_000, 150]) }), {}, 'revert');
    expect(under.readings[0]).toMatchObject({ n: 150, judged: false, breached: false });
    const beyond = evaluateGuardrails(config({ latencyP95Ms: { max: 60_000 } }), totals({ aiCalls: 300, latencyHist }), {}, 'revert');
    expect(beyond.readings[0]).toMatchObject({ judged: false, breached: false, latency: { judgedAboveMs: null } });
    expect(beyond.readings[0].detail).toMatch(/beyond the histogram's last bound \(30000 ms\)/);
  });
});

describe('the cost per call is its mean since the watermark', () => {
  const costOnly = config({ costPerItemUsd: { max: 0.01, policy: 'alert' } });

  it('breaches on a mean above the maximum, with its own policy', () => {
    const { readings, breaches } = evaluateGuardrails(costOnly, totals({ aiCalls: 200, costUsd: 2.2 }), {}, 'revert');
    expect(readings[0]).toMatchObject({ confidence: null, breached: true });
    expect(readings[0].observed).toBeCloseTo(0.011, 12);
    expect(readings[0].bound).toBe(readings[0].observed);
    expect(readings[0].detail).toBe('cost per model call: $0.011 mean over 200 calls against a maximum of $0.01: breached');
    expect(breaches).toEqual([expect.objectContaining({ name: 'costPerItemUsd', policy: 'alert' })]);
  });

  it('does not breach at or under the maximum, nor below minCalls', () => {
    expect(evaluateGuardrails(costOnly, totals({ aiCalls: 200, costUsd: 2 }), {}, 'revert').breaches).toEqual([]);
    expect(evaluateGuardrails(costOnly, totals({ aiCalls: 199, costUsd: 100 }), {}, 'revert').breaches).toEqual([]);
  });
});

describe('the false-breach chance is shared between the statistical guardrails', () => {
  it('holds each of two at half the allowed chance, and cost at none', () => {
    const all = config({ errorRate: { max: 0.05 }, latencyP95Ms: { max: 1000 }, costPerItemUsd: { max: 1 } });
    const { readings } = evaluateGuardrails(all, totals({ aiCalls: 400, aiFailed: 60, latencyHist: hist([100, 400]) }), {}, 'revert');
    expect(readings.map((r) => [r.name, r.confidence])).toEqual([
      ['errorRate', 0.995],
      ['latencyP95Ms', 0.995],
      ['costPerItemUsd', null],
    ]);
    expect(readings[0].detail).toMatch(/\(0\.995 confidence sequence\)/);
  });
});

describe('a restart moves one guardrail’s watermark, so the same evidence does not breach again', () => {
  const both = config({ errorRate: { max: 0.05 }, costPerItemUsd: { max: 0.01 } });
  const bad = totals({ aiCalls: 400, aiFailed: 60, costUsd: 8 });

  it('judges only the calls after the restart, and leaves the other guardrails where they were', () => {
    const first = evaluateGuardrails(both, bad, {}, 'pause');
    expect(first.breaches.map((b) => b.name)).toEqual(['errorRate', 'costPerItemUsd']);

    const state = restartGuardrail(initialGuardrailState(), 'errorRate', bad);
    const again = evaluateGuardrails(both, bad, state, 'pause');
    expect(again.readings[0]).toMatchObject({ name: 'errorRate', n: 0, judged: false, since: 'restart' });
    expect(again.breaches.map((b) => b.name)).toEqual(['costPerItemUsd']);

    const healthy = totals({ aiCalls: 600, aiFailed: 62, costUsd: 8 });
    expect(evaluateGuardrails(both, healthy, state, 'pause').readings[0]).toMatchObject({ n: 200, observed: 0.01, breached: false });

    const stillBad = totals({ aiCalls: 600, aiFailed: 100, costUsd: 8 });
    expect(evaluateGuardrails(both, stillBad, state, 'pause').readings[0]).toMatchObject({ n: 200, observed: 0.2, breached: true });
  });

  it('is plain JSON and does not share the totals it was given', () => {
    const t = totals({ aiCalls: 300, latencyHist: hist([100, 300]) });
    const state = restartGuardrail({}, 'latencyP95Ms', t);
    t.latencyHist[0] = 999;
    expect(JSON.parse(JSON.stringify(state))).toEqual({ latencyP95Ms: { ...t, latencyHist: hist([100, 300]) } });
  });

  it('refuses totals below the watermark: that state belongs to an earlier stage', () => {
    const state = restartGuardrail({}, 'errorRate', bad);
    expect(() => evaluateGuardrails(both, totals({ aiCalls: 10 }), state, 'revert')).toThrow(/below the errorRate watermark/);
  });
});
