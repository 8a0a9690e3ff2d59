import { guardArl } from '../../stats/domain';
import type { WorkflowDefinition } from '../../workflows/domain/workflow-definition';
import { guardCounts, rolloutRisk, SegmentRiskInput, segmentRiskInput } from './rollout-risk';

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

describe("a segment's share of the risk, from its state and its workflow's rollout", () => {
  const rollout = {
    steps: [25, 100],
    gates: { supervised: { confidence: 0.95 }, 'confidence-routed': { confidence: 0.99 } },
    falsePromotionControl: 'per-segment',
  } as unknown as WorkflowDefinition['rollout'];
  const params = { p0: 0.92, p1: 0.86, h: 4 };
  const state = (over: object = {}) => ({
    workflow: 'triage',
    segment: 'email|eu',
    stage: 'supervised' as const,
    trafficPct: 25,
    paused: false,
    guardParams: params,
    baseline: { lower: 0.9, arl0: 400_000 } as never,
    ...over,
  });

  it('carries the gate of the step it waits on, none while paused or at the top', () => {
    expect(segmentRiskInput(state(), rollout, [], 0).pendingGateConfidence).toBe(0.95);
    expect(segmentRiskInput(state({ trafficPct: 100 }), rollout, [], 0).pendingGateConfidence).toBe(0.99);
    expect(segmentRiskInput(state({ paused: true }), rollout, [], 0).pendingGateConfidence).toBeNull();
    expect(segmentRiskInput(state({ stage: 'confidence-routed', trafficPct: 100 }), rollout, [], 0).pendingGateConfidence).toBeNull();
  });

  it("counts the last day's steps of this segment only, each at its gate's confidence, a step without a gate at 1", () => {
    const promotions = [
      { workflow: 'triage', segment: 'email|eu', toStage: 'supervised' },
      { workflow: 'triage', segment: 'email|eu', toStage: 'confidence-routed' },
      { workflow: 'triage', segment: 'chat|us', toStage: 'supervised' },
      { workflow: 'triage', segment: 'email|eu', toStage: 'shadow' },
    ];
    expect(segmentRiskInput(state(), rollout, promotions, 0).promotionsLastDay).toEqual([0.95, 0.99, 1]);
  });

  it("counts an armed guard above shadow, at its stored ARL₀ or else one computed at the baseline's lower bound", () => {
    expect(segmentRiskInput(state(), rollout, [], 1800).guard).toEqual({ arl0: 400_000, blindLastDay: 1800 });
    expect(segmentRiskInput(state({ baseline: { lower: 0.9 } }), rollout, [], 10).guard).toEqual({ arl0: guardArl(0.9, params), blindLastDay: 10 });
    expect(segmentRiskInput(state({ baseline: null }), rollout, [], 10).guard).toEqual({ arl0: guardArl(0.92, params), blindLastDay: 10 });
    expect(guardCounts(state({ stage: 'shadow' }))).toBe(false);
    expect(segmentRiskInput(state({ stage: 'shadow' }), rollout, [], 10).guard).toBeNull();
    expect(segmentRiskInput(state({ guardParams: null }), rollout, [], 10).guard).toBeNull();
  });
});
