import { selectVariantDefinition } from 'unleash-client/lib/variant';
import {
  FALLBACK_STRATEGY_SORT_ORDER,
  SegmentSplit,
  UnleashStrategy,
  UnleashStrategyPayload,
  buildFallbackStrategy,
  buildSegmentStrategy,
  normalizeSplit,
  parseSegmentStrategies,
  splitToVariants,
  variantsToSplit,
} from './segment-split';

/** What Unleash 6.10 stores for a strategy write: fixVariantWeights, then sort by name. */
function asStoredByUnleash(payload: UnleashStrategyPayload, id: string, sortOrder = 0): UnleashStrategy {
  const variable = payload.variants.filter((v) => v.weightType === 'variable');
  const fixed = payload.variants.filter((v) => v.weightType === 'fix');
  const rest = 1000 - fixed.reduce((a, v) => a + v.weight, 0);
  const share = Math.floor(rest / variable.length);
  let remainder = rest % variable.length;
  const adjusted = variable.map((v) => ({ ...v, weight: share + (remainder-- > 0 ? 1 : 0) }));
  const variants = [...adjusted, ...fixed].sort((a, b) => a.name.localeCompare(b.name));
  return { ...payload, id, sortOrder: payload.sortOrder ?? sortOrder, variants };
}

function stageOf(strategy: UnleashStrategy, itemId: string): string | undefined {
  const variants = (strategy.variants ?? []).map((v) => ({
    name: v.name,
    weight: v.weight,
    stickiness: v.stickiness ?? 'default',
    weightType: v.weightType as 'fix' | 'variable',
  }));
  return (
    selectVariantDefinition(strategy.parameters!.groupId, variants[0].stickiness, variants, {
      properties: { itemId },
    })?.name ?? undefined
  );
}

describe('splitToVariants', () => {
  it('puts trafficPct % (in per-mille) at the stage and the rest one stage below, higher stage first', () => {
    expect(splitToVariants({ stage: 'supervised', trafficPct: 25 })).toEqual([
      { name: 'supervised', weight: 250 },
      { name: 'shadow', weight: 750 },
    ]);
    expect(splitToVariants({ stage: 'confidence-routed', trafficPct: 10 })).toEqual([
      { name: 'confidence-routed', weight: 100 },
      { name: 'supervised', weight: 900 },
    ]);
  });

  it('leaves zero weights out and keeps shadow at 100 %', () => {
    expect(splitToVariants({ stage: 'supervised', trafficPct: 100 })).toEqual([{ name: 'supervised', weight: 1000 }]);
    expect(splitToVariants({ stage: 'supervised', trafficPct: 0 })).toEqual([{ name: 'shadow', weight: 1000 }]);
    expect(splitToVariants({ stage: 'confidence-routed', trafficPct: 0 })).toEqual([{ name: 'supervised', weight: 1000 }]);
    expect(splitToVariants({ stage: 'shadow', trafficPct: 40 })).toEqual([{ name: 'shadow', weight: 1000 }]);
  });

  it('rounds to Unleash resolution (0.1 %) and always sums to 1000', () => {
    for (const pct of [0.04, 0.05, 1, 12.34, 33.33, 50, 66.666, 99.95, 99.96]) {
      const v = splitToVariants({ stage: 'supervised', trafficPct: pct });
      expect(v.reduce((a, x) => a + x.weight, 0)).toBe(1000);
      expect(v.every((x) => Number.isInteger(x.weight) && x.weight > 0)).toBe(true);
    }
    expect(splitToVariants({ stage: 'supervised', trafficPct: 12.34 })[0]).toEqual({ name: 'supervised', weight: 123 });
  });

  it('refuses splits that cannot be written', () => {
    expect(() => splitToVariants({ stage: 'supervised', trafficPct: -1 })).toThrow(RangeError);
    expect(() => splitToVariants({ stage: 'supervised', trafficPct: 100.1 })).toThrow(RangeError);
    expect(() => splitToVariants({ stage: 'supervised', trafficPct: Number.NaN })).toThrow(RangeError);
    expect(() => splitToVariants({ stage: 'auto' as never, trafficPct: 10 })).toThrow(/stage must be one of/);
  });
});

describe('variantsToSplit', () => {
  const splits: SegmentSplit[] = [
    { stage: 'shadow', trafficPct: 100 },
    { stage: 'supervised', trafficPct: 10 },
    { stage: 'supervised', trafficPct: 25 },
    { stage: 'supervised', trafficPct: 100 },
    { stage: 'confidence-routed', trafficPct: 0.1 },
    { stage: 'confidence-routed', trafficPct: 50 },
    { stage: 'confidence-routed', trafficPct: 99.9 },
    { stage: 'confidence-routed', trafficPct: 100 },
    { stage: 'supervised', trafficPct: 0 },
    { stage: 'supervised', trafficPct: 33.333 },
  ];

  it.each(splits)('round-trips %p to its normal form, with nothing irregular', (split) => {
    const back = variantsToSplit(splitToVariants(split));
    expect(back).toEqual({ split: normalizeSplit(split) });
  });

  it('does not care about the order Unleash stores the variants in', () => {
    expect(
      variantsToSplit([
        { name: 'shadow', weight: 750 },
        { name: 'supervised', weight: 250 },
      ]),
    ).toEqual({ split: { stage: 'supervised', trafficPct: 25 } });
  });

  it('reports unknown names instead of throwing, counting them as shadow', () => {
    const r = variantsToSplit([
      { name: 'supervised', weight: 500 },
      { name: 'blue', weight: 500 },
    ]);
    expect(r.split).toEqual({ stage: 'supervised', trafficPct: 50 });
    expect(r.irregular).toMatch(/unknown variant blue \(50 %\).*treated as shadow/);
  });

  it('reports odd weights, skipped stages, duplicates and empty lists', () => {
    expect(variantsToSplit([]).irregular).toMatch(/no variants/);
    expect(variantsToSplit(undefined).split).toEqual({ stage: 'shadow', trafficPct: 100 });

    const skewed = variantsToSplit([
      { name: 'supervised', weight: 300 },
      { name: 'shadow', weight: 300 },
    ]);
    expect(skewed.split).toEqual({ stage: 'supervised', trafficPct: 50 });
    expect(skewed.irregular).toMatch(/sum to 600/);

    const skip = variantsToSplit([
      { name: 'confidence-routed', weight: 200 },
      { name: 'shadow', weight: 800 },
    ]);
    expect(skip.split).toEqual({ stage: 'confidence-routed', trafficPct: 20 });
    expect(skip.irregular).toMatch(/skipping the stage between/);

    const three = variantsToSplit([
      { name: 'confidence-routed', weight: 100 },
      { name: 'supervised', weight: 100 },
      { name: 'shadow', weight: 800 },
    ]);
    expect(three.split).toEqual({ stage: 'confidence-routed', trafficPct: 10 });
    expect(three.irregular).toMatch(/all three stages/);

    expect(
      variantsToSplit([
        { name: 'supervised', weight: 500 },
        { name: 'supervised', weight: 500 },
      ]).irregular,
    ).toMatch(/more than once/);
    expect(variantsToSplit([{ name: 'supervised', weight: 0 }]).irregular).toMatch(/all weights are 0/);
    expect(variantsToSplit([{ name: 'supervised', weight: -5 } as never, { name: 'shadow', weight: 1000 }]).irregular).toMatch(
      /invalid weight/,
    );
  });
});

describe('buildSegmentStrategy', () => {
  it('builds the flexibleRollout payload of the contract', () => {
    expect(buildSegmentStrategy('understudy.support-triage', 'email|eu', { stage: 'supervised', trafficPct: 25 })).toEqual({
      name: 'flexibleRollout',
      title: 'segment:email|eu',
      disabled: false,
      parameters: { rollout: '100', stickiness: 'itemId', groupId: 'understudy.support-triage' },
      constraints: [{ contextName: 'segment', operator: 'IN', values: ['email|eu'], caseInsensitive: false, inverted: false }],
      // Unleash replaces `variable` weights by an even share: only the last (remainder) is variable.
      variants: [
        { name: 'supervised', weight: 250, weightType: 'fix', stickiness: 'itemId' },
        { name: 'shadow', weight: 750, weightType: 'variable', stickiness: 'itemId' },
      ],
      segments: [],
    });
  });

  it('keeps the exact weights once Unleash has applied its weight fixing', () => {
    const stored = asStoredByUnleash(buildSegmentStrategy('f', 's', { stage: 'supervised', trafficPct: 12.5 }), 'id');
    expect(stored.variants!.map((v) => [v.name, v.weight])).toEqual([
      ['shadow', 875],
      ['supervised', 125],
    ]);
    expect(variantsToSplit(stored.variants).split).toEqual({ stage: 'supervised', trafficPct: 12.5 });
  });

  it('refuses an empty segment', () => {
    expect(() => buildSegmentStrategy('f', '', { stage: 'shadow', trafficPct: 100 })).toThrow(RangeError);
  });
});

describe('stickiness under unleash-client bucketing', () => {
  const flag = 'understudy.stickiness-check';
  const items = Array.from({ length: 4000 }, (_, i) => `item-${i}`);

  function supervisedAt(pct: number, stage: 'supervised' | 'confidence-routed' = 'supervised'): Set<string> {
    const strategy = asStoredByUnleash(buildSegmentStrategy(flag, 'seg', { stage, trafficPct: pct }), 'x');
    return new Set(items.filter((id) => stageOf(strategy, id) === stage));
  }

  it('moves about trafficPct % of the items and keeps them up as the weight grows', () => {
    const steps = [10, 25, 50, 75, 100];
    const sets = steps.map((pct) => supervisedAt(pct));
    steps.forEach((pct, i) => {
      expect(Math.abs(sets[i].size / items.length - pct / 100)).toBeLessThan(0.03);
      if (i > 0) for (const id of sets[i - 1]) expect(sets[i].has(id)).toBe(true);
    });
  });

  it('holds for confidence-routed ramps too (stored order confidence-routed, supervised)', () => {
    const a = supervisedAt(10, 'confidence-routed');
    const b = supervisedAt(40, 'confidence-routed');
    expect(a.size).toBeGreaterThan(0);
    for (const id of a) expect(b.has(id)).toBe(true);
  });
});

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
      { id: 'dflt', name: 'flexibleRollout', sortOrder: 3, parameters: { rollout: '100', stickiness: 'default', groupId: flag }, constraints: [], variants: [] },
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
