import { SegmentSplit, normalizeSplit, splitToVariants, variantsToSplit } from './segment-split';

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
    expect(variantsToSplit([{ name: 'supervised', weight: -5 } as never, { name: 'shadow', weight: 1000 }]).irregular).toMatch(/invalid weight/);
  });
});
