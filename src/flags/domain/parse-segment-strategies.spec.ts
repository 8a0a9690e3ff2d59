import { asStoredByUnleash } from '../../../test/factories/unleash-strategies';
import { parseSegmentStrategies } from './parse-segment-strategies';
import { FALLBACK_STRATEGY_SORT_ORDER, UnleashStrategy, buildFallbackStrategy, buildSegmentStrategy } from './unleash-strategy';

describe('parseSegmentStrategies', () => {
  const flag = 'understudy.w';
  const fallback = asStoredByUnleash(buildFallbackStrategy(flag), 'fb');

  it('reads segment strategies and the fallback written by Understudy', () => {
    const a = asStoredByUnleash(buildSegmentStrategy(flag, 'a', { stage: 'supervised', trafficPct: 25 }), 'sa', 0);
    const b = asStoredByUnleash(buildSegmentStrategy(flag, 'b', { stage: 'confidence-routed', trafficPct: 100 }), 'sb', 1);
    const parsed = parseSegmentStrategies([fallback, b, a], flag);
    expect(parsed.segments).toEqual([
      { segment: 'a', strategyId: 'sa', split: { stage: 'supervised', trafficPct: 25 } },
      { segment: 'b', strategyId: 'sb', split: { stage: 'confidence-routed', trafficPct: 100 } },
    ]);
    expect(parsed.fallback).toEqual({ strategyId: 'fb', split: { stage: 'shadow', trafficPct: 100 } });
    expect(parsed.others).toEqual([]);
    expect(fallback.sortOrder).toBe(FALLBACK_STRATEGY_SORT_ORDER);
  });

  it('flags what an operator may have done without throwing', () => {
    const base = asStoredByUnleash(buildSegmentStrategy(flag, 'a', { stage: 'supervised', trafficPct: 50 }), 'a1', 0);
    const strategies: UnleashStrategy[] = [
      { ...base, parameters: { ...base.parameters, rollout: '40', groupId: 'other' } },
      { ...base, id: 'a2', sortOrder: 1 },
      { ...base, id: 'dis', disabled: true },
      { ...base, id: 'env', constraints: [{ contextName: 'environment', operator: 'IN', values: ['x'] }] },
      { ...base, id: 'not', constraints: [{ contextName: 'segment', operator: 'NOT_IN', values: ['c'] }] },
      {
        ...base,
        id: 'multi',
        sortOrder: 2,
        constraints: [{ contextName: 'segment', operator: 'IN', values: ['m1', 'm2'] }],
        variants: [{ name: 'purple', weight: 1000, stickiness: 'itemId' }],
      },
      {
        id: 'dflt',
        name: 'flexibleRollout',
        sortOrder: 3,
        parameters: { rollout: '100', stickiness: 'default', groupId: flag },
        constraints: [],
        variants: [],
      },
      { ...base, id: 'late', sortOrder: 4, constraints: [{ contextName: 'segment', operator: 'IN', values: ['late'] }] },
      { ...fallback, id: 'fb2', sortOrder: 5 },
    ];
    const parsed = parseSegmentStrategies(strategies, flag);

    const bySegment = Object.fromEntries(parsed.segments.map((s) => [s.segment, s]));
    expect(bySegment.a.strategyId).toBe('a1');
    expect(bySegment.a.irregular).toMatch(/rollout 40/);
    expect(bySegment.a.irregular).toMatch(/groupId other/);
    expect(bySegment.a.irregular).toMatch(/another strategy for this segment \(a2\)/);
    expect(bySegment.m1.irregular).toMatch(/one strategy for 2 segments/);
    expect(bySegment.m1.irregular).toMatch(/unknown variant purple/);
    expect(bySegment.m2.strategyId).toBe('multi');
    expect(bySegment.late.irregular).toMatch(/after the catch-all strategy dflt/);

    expect(parsed.fallback?.strategyId).toBe('dflt');
    expect(parsed.fallback?.irregular).toMatch(/no variants/);

    const reasons = Object.fromEntries(parsed.others.map((o) => [o.strategyId, o.reason]));
    expect(reasons.a2).toMatch(/duplicate for segment a/);
    expect(reasons.dis).toMatch(/disabled/);
    expect(reasons.env).toMatch(/not constrained on segment/);
    expect(reasons.not).toMatch(/NOT_IN|not a single/);
    expect(reasons.fb2).toMatch(/unreachable/);
  });

  it('tolerates an empty or missing list', () => {
    expect(parseSegmentStrategies(undefined)).toEqual({ segments: [], fallback: null, others: [] });
    expect(parseSegmentStrategies([])).toEqual({ segments: [], fallback: null, others: [] });
  });
});
