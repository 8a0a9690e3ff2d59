import { confidenceBin, latencyBucket, minuteOf, RollupAccumulator, rollupRange } from './rollup';

const at = new Date('2026-11-23T10:15:42.123Z');
const base = {
  workflow: 'support-triage',
  segment: 'email|eu',
  version: 1,
  at,
  aiDecidedAt: at,
  routeStage: null,
  routeThreshold: null,
  humanKind: 'independent' as const,
  verdict: null,
  routeAction: null,
  confidence: 0.93,
  fields: { category: true, priority: true },
  aiLabel: 'billing',
  humanLabel: 'billing',
};

describe('RollupAccumulator', () => {
  it('adds comparisons into one row per minute with bins, fields and confusion cells', () => {
    const acc = new RollupAccumulator();
    acc.addComparison({ ...base, agree: true });
    acc.addComparison({
      ...base,
      agree: false,
      at: new Date('2026-11-23T10:15:59Z'),
      confidence: 0.41,
      fields: { category: false, priority: true },
      aiLabel: 'billing',
      humanLabel: 'account',
    });
    acc.addComparison({ ...base, agree: false, humanKind: 'review', verdict: 'overridden', fields: { category: true, priority: false } });
    acc.addComparison({ ...base, agree: true, routeAction: 'audit', confidence: null });
    const { rows, confusion } = acc.result();
    expect(rows).toHaveLength(1);
    const r = rows[0];
    expect(r.minute.toISOString()).toBe('2026-11-23T10:15:00.000Z');
    expect([r.n, r.agree, r.nIndependent, r.agreeIndependent, r.nReview, r.agreeReview, r.nOverridden, r.nAudit, r.agreeAudit]).toEqual([
      4, 2, 3, 2, 1, 0, 1, 1, 1,
    ]);
    expect(r.confN[18]).toBe(2);
    expect(r.confAgree[18]).toBe(1);
    expect(r.confN[8]).toBe(1);
    expect(r.confN.reduce((a, b) => a + b)).toBe(3);
    expect(r.fieldAgree).toEqual({ category: 3, priority: 3 });
    expect(confusion).toEqual([
      expect.objectContaining({ aiLabel: 'billing', humanLabel: 'account', n: 1, day: '2026-11-23' }),
      expect.objectContaining({ aiLabel: 'billing', humanLabel: 'billing', n: 3 }),
    ]);
  });

  it('counts comparisons of items routed to review apart (the guard leaves them out)', () => {
    const acc = new RollupAccumulator();
    acc.addComparison({ ...base, agree: false, humanKind: 'review', verdict: 'overridden', routeAction: 'review' });
    acc.addComparison({ ...base, agree: true, humanKind: 'review', verdict: 'accepted', routeAction: 'review' });
    acc.addComparison({ ...base, agree: true, humanKind: 'review', verdict: 'accepted', routeAction: 'suggest' });
    const [r] = acc.result().rows;
    expect([r.n, r.agree, r.nReview, r.nReviewRouted, r.agreeReviewRouted]).toEqual([3, 2, 3, 2, 1]);
  });

  it('keeps minutes, segments and versions apart', () => {
    const acc = new RollupAccumulator();
    acc.addComparison({ ...base, agree: true });
    acc.addComparison({ ...base, agree: true, at: new Date('2026-11-23T10:16:00Z') });
    acc.addComparison({ ...base, agree: true, segment: 'chat|us' });
    acc.addComparison({ ...base, agree: true, version: 2 });
    expect(acc.result().rows).toHaveLength(4);
  });

  it('orders version pairs and counts McNemar cells', () => {
    const acc = new RollupAccumulator();
    acc.addPair({ workflow: 'w', segment: 's', at, versionA: 2, agreeA: true, versionB: 1, agreeB: false });
    acc.addPair({ workflow: 'w', segment: 's', at, versionA: 1, agreeA: true, versionB: 2, agreeB: true });
    acc.addPair({ workflow: 'w', segment: 's', at, versionA: 1, agreeA: false, versionB: 2, agreeB: false });
    acc.addPair({ workflow: 'w', segment: 's', at, versionA: 1, agreeA: true, versionB: 1, agreeB: false });
    expect(acc.result().pairs).toEqual([
      { workflow: 'w', segment: 's', versionA: 1, versionB: 2, day: '2026-11-23', bothAgree: 1, aOnly: 0, bOnly: 1, neither: 1 },
    ]);
  });

  it('counts AI calls, tokens, cost, latency and routing actions', () => {
    const acc = new RollupAccumulator();
    const call = { workflow: 'w', segment: 's', version: 1, at, promptTokens: 100, completionTokens: 20, costUsd: 0.001, latencyMs: 120 };
    acc.addAiCall({ ...call, outcome: 'ok' });
    acc.addAiCall({ ...call, outcome: 'invalid', latencyMs: 40 });
    acc.addAiCall({ ...call, outcome: 'failed', promptTokens: 0, completionTokens: 0, costUsd: 0, latencyMs: null });
    acc.addAiCall({ ...call, outcome: 'skipped' });
    acc.addRouted({ workflow: 'w', segment: 's', version: 1, at, action: 'auto' });
    acc.addRouted({ workflow: 'w', segment: 's', version: 1, at, action: 'auto' });
    const [r] = acc.result().rows;
    expect([r.aiCalls, r.aiOk, r.aiInvalid, r.aiFailed, r.aiSkipped]).toEqual([3, 1, 1, 1, 1]);
    expect([r.promptTokens, r.completionTokens, r.latencySumMs]).toEqual([200, 40, 160]);
    expect(r.costUsd).toBeCloseTo(0.002, 10);
    expect(r.latencyHist[latencyBucket(120)]).toBe(1);
    expect(r.latencyHist[latencyBucket(40)]).toBe(1);
    expect(r.routed).toEqual({ auto: 2 });
  });

  it('bins confidence and latency at their edges', () => {
    expect(confidenceBin(0)).toBe(0);
    expect(confidenceBin(0.05)).toBe(1);
    expect(confidenceBin(1)).toBe(19);
    expect(confidenceBin(0.85)).toBe(17); // an edge belongs to the bin (and threshold) that starts there
    expect(latencyBucket(25)).toBe(0);
    expect(latencyBucket(26)).toBe(1);
    expect(latencyBucket(60_000)).toBe(10);
    expect(minuteOf(new Date('2026-01-01T00:00:59.999Z')).toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('rollupRange', () => {
  const t = (s: string) => new Date(s);

  it('reads whole hours from hourly rollups and the minutes at either end from per-minute ones', () => {
    const r = rollupRange(t('2026-11-16T10:15:42Z'), t('2026-11-23T10:15:42Z'));
    expect(r.minuteFrom).toEqual(t('2026-11-16T10:15:00Z'));
    expect(r.minuteTo).toEqual(t('2026-11-23T10:16:00Z')); // the minute 10:15 holds times before 10:15:42
    expect(r.hours).toEqual({ from: t('2026-11-16T11:00:00Z'), to: t('2026-11-23T10:00:00Z') });
  });

  it('keeps the minutes of a period exactly: floor-minute(from) ≤ m < to', () => {
    const r = rollupRange(t('2026-11-23T09:00:00Z'), t('2026-11-23T11:00:00Z'));
    expect(r).toEqual({
      minuteFrom: t('2026-11-23T09:00:00Z'),
      minuteTo: t('2026-11-23T11:00:00Z'),
      hours: { from: t('2026-11-23T09:00:00Z'), to: t('2026-11-23T11:00:00Z') },
    });
  });

  it('has no whole hour inside a short period', () => {
    expect(rollupRange(t('2026-11-23T09:10:00Z'), t('2026-11-23T10:05:00Z')).hours).toBeNull();
    expect(rollupRange(t('2026-11-23T09:10:00Z'), t('2026-11-23T09:50:00Z')).hours).toBeNull();
  });
});
