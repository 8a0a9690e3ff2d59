import { rolloutRisk, SegmentRiskInput } from './rollout-risk';

const segment = (over: Partial<SegmentRiskInput> = {}): SegmentRiskInput => ({
  workflow: 'triage',
  segment: 'email|eu',
  stage: 'supervised',
  pendingGateConfidence: 0.95,
  promotionsLastDay: [],
  guard: { arl0: 500_000, blindLastDay: 2000 },
  falsePromotionControl: 'per-segment',
  ...over,
});

describe('the risk of the rollout as a whole', () => {
  it('adds up the expected false reverts of healthy segments: blind labels a day over ARL₀', () => {
    // 100 segments of 2,000 blind labels a day at ARL₀ 500,000: 0.4 false reverts a day, one every 2.5 days.
    const r = rolloutRisk(Array.from({ length: 100 }, (_, i) => segment({ segment: `s${i}` })));
    expect(r.falseRevertsPerDay).toBeCloseTo(0.4, 12);
    expect(r.summary).toContain('one every 2.5 days');
  });

  it('bounds false promotions by α per step, taken or pending', () => {
    const r = rolloutRisk([
      segment({ promotionsLastDay: [0.95, 0.95] }),
      segment({ segment: 'chat|us', pendingGateConfidence: 0.99, promotionsLastDay: [0.99] }),
      segment({ segment: 'top', stage: 'confidence-routed', pendingGateConfidence: null }),
    ]);
    expect(r.falsePromotionsLastDay).toBeCloseTo(0.05 + 0.05 + 0.01, 12);
    expect(r.falsePromotionsPending).toBeCloseTo(0.05 + 0.01, 12);
    expect(r.segments.find((s) => s.segment === 'top')!.falsePromotionPending).toBe(0);
  });

  it('names the workflows where the share of false promotions is bounded too (e-BH)', () => {
    const r = rolloutRisk([
      segment(),
      segment({ workflow: 'invoice', falsePromotionControl: 'e-bh' }),
      segment({ workflow: 'invoice', segment: 'b', falsePromotionControl: 'e-bh' }),
    ]);
    expect(r.shareControlledWorkflows).toEqual(['invoice']);
    expect(r.summary).toMatch(/in invoice the share of false promotions among a stage's promotions is also bounded \(e-BH\)\.$/);
    expect(rolloutRisk([segment()]).summary).not.toMatch(/e-BH/);
  });

  it('counts no false reverts where no guard is armed (shadow)', () => {
    const r = rolloutRisk([segment({ stage: 'shadow', guard: null })]);
    expect(r.falseRevertsPerDay).toBe(0);
    expect(r.summary).toContain('never');
  });

  it('refuses an impossible ARL', () => {
    expect(() => rolloutRisk([segment({ guard: { arl0: 0, blindLastDay: 1 } })])).toThrow(/ARL₀ must be positive/);
  });
});
