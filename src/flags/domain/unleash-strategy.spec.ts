import { selectVariantDefinition } from 'unleash-client/lib/variant';
import { asStoredByUnleash } from '../../../test/factories/unleash-strategies';
import { variantsToSplit } from './segment-split';
import { UnleashStrategy, buildSegmentStrategy } from './unleash-strategy';

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
