import type { WorkflowFlagState } from '../../flags/flag-gateway';
import { rolloutSchema } from '../../workflows/domain/workflow-definition';
import { evaluateStep, StepEvidence } from './evaluate-segment';
import { detectOperatorChanges } from './reconcile';
import { since, ZERO_COUNTS } from './segment-counts';
import { describeSplit, entersStage, nextStep, revertTarget, sameSplit } from './steps';

const steps = [10, 25, 50, 100];

describe('the promotion ladder', () => {
  it('climbs one traffic step at a time, then into the next stage', () => {
    const ladder: string[] = [];
    let s: { stage: 'shadow' | 'supervised' | 'confidence-routed'; trafficPct: number } | null = { stage: 'shadow', trafficPct: 100 };
    while (s) {
      ladder.push(describeSplit(s));
      s = nextStep(s, steps);
    }
    expect(ladder).toEqual([
      'shadow',
      'supervised 10 %',
      'supervised 25 %',
      'supervised 50 %',
      'supervised 100 %',
      'confidence-routed 10 %',
      'confidence-routed 25 %',
      'confidence-routed 50 %',
      'confidence-routed 100 %',
    ]);
  });

  it('goes to the next configured step above an odd split an operator set', () => {
    expect(nextStep({ stage: 'supervised', trafficPct: 30 }, steps)).toEqual({ stage: 'supervised', trafficPct: 50 });
  });

  it('reverts one whole stage back, or to shadow', () => {
    expect(revertTarget({ stage: 'confidence-routed', trafficPct: 25 }, 'one-stage')).toEqual({ stage: 'supervised', trafficPct: 100 });
    expect(revertTarget({ stage: 'supervised', trafficPct: 100 }, 'one-stage')).toEqual({ stage: 'shadow', trafficPct: 100 });
    expect(revertTarget({ stage: 'confidence-routed', trafficPct: 100 }, 'to-shadow')).toEqual({ stage: 'shadow', trafficPct: 100 });
  });

  it('knows when a step enters a stage and compares splits at Unleash precision', () => {
    expect(entersStage({ stage: 'supervised', trafficPct: 100 }, { stage: 'confidence-routed', trafficPct: 10 })).toBe(true);
    expect(entersStage({ stage: 'supervised', trafficPct: 10 }, { stage: 'supervised', trafficPct: 25 })).toBe(false);
    expect(sameSplit({ stage: 'supervised', trafficPct: 25 }, { stage: 'supervised', trafficPct: 25.01 })).toBe(true);
    expect(sameSplit({ stage: 'shadow', trafficPct: 100 }, { stage: 'shadow', trafficPct: 40 })).toBe(true);
    expect(sameSplit(null, { stage: 'shadow', trafficPct: 100 })).toBe(false);
  });
});

describe('counts since a step began', () => {
  it('subtracts the base and never goes negative', () => {
    const totals = { ...ZERO_COUNTS, n: 500, agree: 450, reviews: 40, overridden: 3 };
    expect(since(totals, { ...ZERO_COUNTS, n: 200, agree: 190, reviews: 0, overridden: 0 })).toEqual({
      ...ZERO_COUNTS,
      n: 300,
      agree: 260,
      reviews: 40,
      overridden: 3,
    });
    expect(since({ ...ZERO_COUNTS, n: 5 }, { ...ZERO_COUNTS, n: 9 }).n).toBe(0);
  });
});

describe('evaluateStep', () => {
  const rollout = rolloutSchema.parse({
    steps: [50, 100],
    gates: {
      supervised: { minSample: 100, minDwellMinutes: 10, agreementTarget: 0.85, approval: false },
      'confidence-routed': { minSample: 100, minDwellMinutes: 10, agreementTarget: 0.85, maxOverrideRate: 0.2, approval: true },
    },
  });
  const base = { rollout, budgetOk: true, approvedStep: null, threshold: 0.8, dwellMs: 3_600_000 };
  const evidence = (n: number, agree: number, reviews = 0, overridden = 0): StepEvidence => ({
    blind: { n, agree },
    anchored: { n: reviews, overridden },
    aiCalls: n,
    aiFailures: 0,
  });

  it('passes into supervised on strong evidence', () => {
    const e = evaluateStep({ ...base, current: { stage: 'shadow', trafficPct: 100 }, evidence: evidence(400, 380) });
    expect(e.target).toEqual({ stage: 'supervised', trafficPct: 50 });
    expect(e.verdict).toBe('pass');
  });

  it('judges agreement on blind labels only: many accepted reviews do not make up for them', () => {
    const current = { stage: 'supervised' as const, trafficPct: 50 };
    const e = evaluateStep({ ...base, current, evidence: evidence(30, 29, 2000, 10) });
    expect(e.verdict).toBe('inconclusive');
    expect(e.gate!.criteria.find((c) => c.name === 'agreement')).toMatchObject({ actual: 29 / 30 });
  });

  it('is inconclusive on too little data and says how many more are needed', () => {
    const e = evaluateStep({ ...base, current: { stage: 'shadow', trafficPct: 100 }, evidence: evidence(40, 39) });
    expect(e.verdict).toBe('inconclusive');
    expect(e.gate!.moreSamplesNeeded).toBeGreaterThanOrEqual(60);
  });

  it('waits for approval when entering a stage that requires it, and passes once that step is approved', () => {
    const current = { stage: 'supervised' as const, trafficPct: 100 };
    const step = evidence(400, 380, 200, 10);
    expect(evaluateStep({ ...base, current, evidence: step }).verdict).toBe('awaiting-approval');
    expect(evaluateStep({ ...base, current, evidence: step, approvedStep: { stage: 'confidence-routed', trafficPct: 50 } }).verdict).toBe('pass');
    expect(evaluateStep({ ...base, current, evidence: step, approvedStep: { stage: 'confidence-routed', trafficPct: 100 } }).verdict).toBe('awaiting-approval');
  });

  it('holds confidence routing while no threshold is certified', () => {
    const current = { stage: 'supervised' as const, trafficPct: 100 };
    const step = evidence(400, 380, 200, 10);
    const e = evaluateStep({ ...base, current, evidence: step, threshold: null, approvedStep: { stage: 'confidence-routed', trafficPct: 50 } });
    expect(e.verdict).toBe('inconclusive');
    expect(e.gate!.criteria.find((c) => c.name === 'threshold')).toMatchObject({ holds: false });
  });

  it('fails on a clear override-rate breach of the suggestions', () => {
    const e = evaluateStep({ ...base, current: { stage: 'supervised', trafficPct: 100 }, evidence: evidence(400, 380, 300, 120) });
    expect(e.verdict).toBe('fail');
  });

  it('does not gate on the override rate of reviews chosen for low confidence', () => {
    const e = evaluateStep({ ...base, current: { stage: 'confidence-routed', trafficPct: 50 }, evidence: evidence(400, 380, 300, 270) });
    expect(e.gate!.criteria.map((c) => c.name)).not.toContain('override-rate');
    expect(e.verdict).toBe('pass');
  });

  it('says there is nothing above the top', () => {
    expect(evaluateStep({ ...base, current: { stage: 'confidence-routed', trafficPct: 100 }, evidence: evidence(0, 0) })).toMatchObject({
      target: null,
      verdict: 'top',
    });
  });
});

describe('detectOperatorChanges', () => {
  const live = (over: Partial<WorkflowFlagState> = {}): WorkflowFlagState => ({
    flagName: 'understudy.w',
    exists: true,
    enabled: true,
    segments: [
      { segment: 'a', strategyId: '1', split: { stage: 'supervised', trafficPct: 50 } },
      { segment: 'b', strategyId: '2', split: { stage: 'shadow', trafficPct: 100 } },
    ],
    ...over,
  });
  const known = [
    { segment: 'a', flagSplit: { stage: 'supervised' as const, trafficPct: 50 }, state: { stage: 'supervised' as const, trafficPct: 50 } },
    { segment: 'b', flagSplit: { stage: 'shadow' as const, trafficPct: 100 }, state: { stage: 'shadow' as const, trafficPct: 100 } },
    { segment: 'c', flagSplit: null, state: { stage: 'shadow' as const, trafficPct: 100 } },
  ];

  it('finds nothing when Unleash holds what the controller wrote', () => {
    expect(detectOperatorChanges(live(), true, known)).toEqual([]);
  });

  it('reports a disabled flag, a changed split and a removed strategy', () => {
    const changed = live({
      enabled: false,
      segments: [{ segment: 'a', strategyId: '1', split: { stage: 'shadow', trafficPct: 100 } }],
    });
    expect(detectOperatorChanges(changed, true, known)).toEqual([
      { kind: 'workflow-enabled', before: true, after: false },
      { kind: 'segment-split', segment: 'a', before: { stage: 'supervised', trafficPct: 50 }, after: { stage: 'shadow', trafficPct: 100 } },
      { kind: 'segment-removed', segment: 'b', before: { stage: 'shadow', trafficPct: 100 } },
    ]);
  });

  it('reports an irregular split even at the same headline numbers', () => {
    const odd = live({
      segments: [{ segment: 'a', strategyId: '1', split: { stage: 'supervised', trafficPct: 50 }, irregular: 'unknown variant x' }, live().segments[1]],
    });
    expect(detectOperatorChanges(odd, true, known)).toEqual([
      {
        kind: 'segment-split',
        segment: 'a',
        before: { stage: 'supervised', trafficPct: 50 },
        after: { stage: 'supervised', trafficPct: 50 },
        irregular: 'unknown variant x',
      },
    ]);
  });

  it('reports an adopted irregularity once, not again every cycle', () => {
    const odd = live({
      segments: [{ segment: 'a', strategyId: '1', split: { stage: 'supervised', trafficPct: 50 }, irregular: 'unknown variant x' }, live().segments[1]],
    });
    const adopted = [
      {
        segment: 'a',
        flagSplit: { stage: 'supervised' as const, trafficPct: 50, irregular: 'unknown variant x' },
        state: { stage: 'supervised' as const, trafficPct: 50 },
      },
      known[1],
    ];
    expect(detectOperatorChanges(odd, true, adopted)).toEqual([]);
  });

  it('does not mistake a move stored first for an operator’s change: owed to Unleash, or written after the flag was read', () => {
    const stale = live(); // still shows a at supervised 50 %
    const rolledBack = {
      segment: 'a',
      flagSplit: { stage: 'shadow' as const, trafficPct: 100, pending: true },
      state: { stage: 'shadow' as const, trafficPct: 100 },
    };
    expect(detectOperatorChanges(stale, true, [rolledBack, known[1]])).toEqual([]);
    const readAt = new Date('2026-11-30T12:00:00Z');
    const writtenAfter = { ...rolledBack, flagSplit: { stage: 'shadow' as const, trafficPct: 100, writtenAt: '2026-11-30T12:00:01Z' } };
    expect(detectOperatorChanges(stale, true, [writtenAfter, known[1]], readAt)).toEqual([]);
    // Written before the read: the flag should show it, so a difference is an operator's.
    const writtenBefore = { ...rolledBack, flagSplit: { stage: 'shadow' as const, trafficPct: 100, writtenAt: '2026-11-30T11:59:59Z' } };
    expect(detectOperatorChanges(stale, true, [writtenBefore, known[1]], readAt)).toHaveLength(1);
  });

  it('ignores a first reading of the switch', () => {
    expect(detectOperatorChanges(live({ enabled: false }), null, known)).toEqual([]);
  });

  it('adopts a strategy it never wrote when it says something else than the segment holds', () => {
    const preset = live({ segments: [...live().segments, { segment: 'c', strategyId: '3', split: { stage: 'confidence-routed', trafficPct: 100 } }] });
    expect(detectOperatorChanges(preset, true, known)).toEqual([
      { kind: 'segment-split', segment: 'c', before: { stage: 'shadow', trafficPct: 100 }, after: { stage: 'confidence-routed', trafficPct: 100 } },
    ]);
    const same = live({ segments: [...live().segments, { segment: 'c', strategyId: '3', split: { stage: 'shadow', trafficPct: 100 } }] });
    expect(detectOperatorChanges(same, true, known)).toEqual([]);
  });
});
