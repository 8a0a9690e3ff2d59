import { evidence, segmentFacts, segmentState, testRollout } from '../../../test/factories/segments';
import { rolloutSchema } from '../../workflows/domain/workflow-definition';
import { crossSegmentControl, promotionCandidate } from './cross-segment';
import { evaluateStep, StepEvidence } from './evaluate-segment';
import { decideCycle } from './segment-machine';

describe('a segment’s claim to its next step', () => {
  it('is judged against the gate of the stage it would enter, and there is none at the top', () => {
    const shadow = promotionCandidate(segmentState(), { n: 400, agree: 390 }, testRollout);
    expect(shadow).toMatchObject({ segment: 'email|eu', stage: 'supervised' });
    expect(shadow!.eValue).toBeGreaterThan(20);
    expect(promotionCandidate(segmentState({ stage: 'supervised', trafficPct: 100 }), { n: 0, agree: 0 }, testRollout)).toMatchObject({
      stage: 'confidence-routed',
      eValue: 1,
    });
    expect(promotionCandidate(segmentState({ stage: 'confidence-routed', trafficPct: 100 }), { n: 400, agree: 390 }, testRollout)).toBeNull();
  });
});

describe('e-BH across a workflow’s segments', () => {
  it('judges each stage’s candidates as one family at that gate’s α, stricter than each gate alone', () => {
    const m = crossSegmentControl(
      [
        { segment: 'a', stage: 'supervised', eValue: 500 },
        { segment: 'b', stage: 'supervised', eValue: 25 },
        { segment: 'c', stage: 'supervised', eValue: 1 },
        { segment: 'd', stage: 'confidence-routed', eValue: 25 },
      ],
      testRollout,
    );
    // Supervised: K = 3, α = 0.05: the largest needs 60, two need 30 each; b (25) clears its own gate (20) but not e-BH.
    expect(m.get('a')).toMatchObject({ promoted: true, family: 3, discoveries: 1, threshold: expect.closeTo(60, 9), alpha: expect.closeTo(0.05, 12) });
    expect(m.get('b')).toMatchObject({ promoted: false });
    expect(m.get('c')).toMatchObject({ promoted: false });
    // Alone in its family, d needs only what its gate needs.
    expect(m.get('d')).toMatchObject({ promoted: true, family: 1 });
  });
});

describe('the gate with criteria judged beside it', () => {
  const withParity = rolloutSchema.parse({
    steps: [50, 100],
    gates: {
      supervised: { minSample: 100, minDwellMinutes: 10, agreementTarget: 0.85, humanParityMargin: 0.05 },
      'confidence-routed': { minSample: 100, minDwellMinutes: 10, agreementTarget: 0.85 },
    },
  });
  const strong: StepEvidence = { blind: { n: 400, agree: 390 }, anchored: { n: 0, overridden: 0 }, aiCalls: 400, aiFailures: 0 };
  const base = {
    current: { stage: 'shadow' as const, trafficPct: 100 },
    evidence: strong,
    dwellMs: 3_600_000,
    budgetOk: true,
    approvedStep: null,
    threshold: null,
  };
  const pairs = (n: number, ai: number, human: number) => Array.from({ length: n }, (_, i) => ({ ai: i < ai, human: i < human }));

  it('waits for human parity when the gate asks for it, and passes once the AI is shown no worse than people by the margin', () => {
    const none = evaluateStep({ ...base, rollout: withParity, parityPairs: null });
    expect(none.verdict).toBe('inconclusive');
    expect(none.gate!.criteria.find((c) => c.name === 'human-parity')).toMatchObject({
      holds: null,
      detail: expect.stringMatching(/No blind double-labelled items/),
    });
    // 600 items: the AI agrees with the first person on 560, a second person on 540.
    const shown = evaluateStep({ ...base, rollout: withParity, parityPairs: pairs(600, 560, 540) });
    expect(shown.verdict).toBe('pass');
    expect(shown.gate!.criteria.find((c) => c.name === 'human-parity')).toMatchObject({ holds: true, actual: expect.closeTo(20 / 600, 12), required: -0.05 });
    const behind = evaluateStep({ ...base, rollout: withParity, parityPairs: pairs(600, 480, 560) });
    expect(behind.gate!.criteria.find((c) => c.name === 'human-parity')).toMatchObject({ holds: null });
    expect(behind.verdict).toBe('inconclusive');
  });

  it('has no parity criterion when the gate does not ask for one', () => {
    expect(evaluateStep({ ...base, rollout: testRollout, parityPairs: pairs(10, 0, 10) }).gate!.criteria.map((c) => c.name)).not.toContain('human-parity');
  });

  it('holds a gate that passes alone while e-BH has not promoted the segment', () => {
    const crossSegment = { eValue: 30, family: 10, discoveries: 0, threshold: Infinity, alpha: 0.05, promoted: false };
    const held = evaluateStep({ ...base, rollout: testRollout, crossSegment });
    expect(held.verdict).toBe('inconclusive');
    expect(held.gate!.criteria.find((c) => c.name === 'cross-segment')).toMatchObject({
      holds: null,
      required: 200,
      detail: expect.stringMatching(/not yet among/),
    });
    expect(evaluateStep({ ...base, rollout: testRollout, crossSegment: { ...crossSegment, promoted: true, discoveries: 1, threshold: 200 } }).verdict).toBe(
      'pass',
    );
  });

  it('the controller’s cycle promotes only what e-BH promoted', () => {
    const f = segmentFacts({ stepEvidence: evidence(400, 390), stageTotals: { ...segmentFacts().stageTotals, aiCalls: 400 } });
    const ctx = { live: { exists: true, enabled: true }, hasStrategy: true, killSwitchOn: false, budget: { ok: true } };
    const crossSegment = { eValue: 30, family: 10, discoveries: 0, threshold: Infinity, alpha: 0.05, promoted: false };
    expect(decideCycle(segmentState(), f, { ...ctx, crossSegment }).state.stage).toBe('shadow');
    expect(decideCycle(segmentState(), f, { ...ctx, crossSegment: { ...crossSegment, promoted: true } }).state.stage).toBe('supervised');
  });
});
