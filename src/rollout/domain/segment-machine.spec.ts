import { calibration, evidence, minutesAfter, segmentFacts, segmentState, T0, testRollout } from '../../../test/factories/segments';
import type { Actor } from '../../audit/domain/actor';
import { DomainError, ErrorCode } from '../../common/domain-error';
import {
  adoptOperatorChange,
  adoptWorkflowChange,
  approve,
  CycleContext,
  decideCycle,
  hold,
  observeGuard,
  promote,
  refreshThreshold,
  resume,
  rollback,
  setThreshold,
} from './segment-machine';
import type { SegmentState } from './segment-state';

const PM: Actor = { name: 'pat', kind: 'person' };
const NOW = minutesAfter(60);
const LIVE = { exists: true, enabled: true };
const CYCLE: CycleContext = { live: LIVE, hasStrategy: true, killSwitchOn: false, budget: { ok: true } };

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('the transition was not refused');
}

/** A segment whose guard is armed for its stage, as the machine arms it. */
function guarded(over: Partial<SegmentState>): SegmentState {
  const s = segmentState(over);
  const armed = observeGuard(s, segmentFacts({ now: s.stageStartedAt as Date }));
  return { ...s, ...armed.effects.patch, guardState: { s: 0, n: 0, agree: 0, windowStartIndex: 0, windowN: 0, windowAgree: 0, totalsN: 0, totalsAgree: 0 } };
}

/** A step whose blind evidence passes any gate here (the model answered every call). */
const strongStep = (anchoredN = 0, overridden = 0) => ({
  stepEvidence: evidence(400, 390, anchoredN, overridden),
  stageTotals: { ...segmentFacts().stageTotals, aiCalls: 400 },
});

const passedVerdict = (at: Date) => ({ verdict: 'pass', summary: 'gate passed', evaluatedAt: at.toISOString() });

describe('a program manager promoting a segment', () => {
  it('moves it one step up on a fresh passing verdict, writes the flag and arms the new stage’s guard', () => {
    const s = segmentState({ lastVerdict: passedVerdict(minutesAfter(30)) });
    const d = promote(s, PM, 'looks good', segmentFacts());
    expect(d.state).toMatchObject({ stage: 'supervised', trafficPct: 50, stepStartedAt: NOW, stageStartedAt: NOW, lastVerdict: null });
    expect(d.effects.flagWrite).toEqual({ stage: 'supervised', trafficPct: 50 });
    expect(d.state.guardParams).not.toBeNull();
    expect(d.state.baseline).toMatchObject({ stage: 'supervised', source: 'target' });
    expect(d.effects.audit).toEqual([
      expect.objectContaining({
        actor: 'pat',
        action: 'stage.promoted',
        reason: 'looks good',
        details: expect.objectContaining({ manual: true, toText: 'supervised 50 %' }),
      }),
    ]);
  });

  it('keeps the stage’s start, guard and its watermark when the step stays within the stage', () => {
    const s = guarded({ stage: 'supervised', trafficPct: 50, lastVerdict: passedVerdict(minutesAfter(30)) });
    const d = promote(s, PM, 'next step', segmentFacts());
    expect(d.state).toMatchObject({ stage: 'supervised', trafficPct: 100, stageStartedAt: T0, guardParams: s.guardParams, guardState: s.guardState });
  });

  it('is refused at the top, while paused, on a failing verdict and on a verdict from before the step began', () => {
    const top = segmentState({ stage: 'confidence-routed', trafficPct: 100 });
    expect(refusal(() => promote(top, PM, 'x', segmentFacts())).message).toMatch(/already at the top/);
    const paused = segmentState({ paused: true, pauseKind: 'hold', lastVerdict: passedVerdict(minutesAfter(30)) });
    expect(refusal(() => promote(paused, PM, 'x', segmentFacts())).message).toMatch(/paused \(hold\)/);
    const failing = segmentState({ lastVerdict: { verdict: 'fail', summary: 'agreement too low', evaluatedAt: minutesAfter(30).toISOString() } });
    expect(refusal(() => promote(failing, PM, 'x', segmentFacts()))).toMatchObject({
      code: ErrorCode.InvalidTransition,
      message: expect.stringMatching(/does not hold: agreement too low/),
    });
    const stale = segmentState({ stepStartedAt: minutesAfter(40), lastVerdict: passedVerdict(minutesAfter(30)) });
    expect(refusal(() => promote(stale, PM, 'x', segmentFacts())).message).toMatch(/not evaluated yet for this step/);
  });
});

describe('approving a step', () => {
  it('records the approval of the pending step; the controller takes it at its next cycle', () => {
    const pending = { stage: 'confidence-routed' as const, trafficPct: 50 };
    const d = approve(segmentState({ stage: 'supervised', pendingStep: pending }), PM, 'ok');
    expect(d.state.approvedStep).toEqual(pending);
    expect(d.effects.audit[0]).toMatchObject({ action: 'segment.approved', details: { step: pending } });
    expect(d.effects.flagWrite).toBeNull();
  });

  it('is refused when nothing waits for an approval', () => {
    expect(refusal(() => approve(segmentState(), PM, 'ok')).message).toMatch(/not waiting for an approval/);
  });
});

describe('holding and resuming', () => {
  it('a hold pauses promotion where the segment is, and a second hold is a conflict', () => {
    const d = hold(segmentState({ stage: 'supervised' }), PM, 'quarter close', NOW);
    expect(d.state).toMatchObject({ paused: true, pauseKind: 'hold', pauseReason: 'quarter close', pausedBy: 'pat', pausedAt: NOW, stage: 'supervised' });
    expect(d.effects.audit[0]).toMatchObject({ action: 'segment.held' });
    expect(refusal(() => hold(d.state, PM, 'again', NOW)).code).toBe(ErrorCode.Conflict);
  });

  it('a resume restarts the step and the guard from the stage’s evidence, and is a conflict when nothing is paused', () => {
    const s = guarded({ stage: 'supervised', trafficPct: 100, paused: true, pauseKind: 'guard', pauseReason: 'breach' });
    const d = resume(s, PM, 'fixed the prompt', segmentFacts({ stageEvidence: evidence(120, 100) }));
    expect(d.state).toMatchObject({ paused: false, pauseKind: null, stepStartedAt: NOW, lastVerdict: null, guardWindowStartedAt: null });
    expect(d.state.guardState).toMatchObject({ s: 0, totalsN: 120, totalsAgree: 100 });
    expect(d.effects.audit[0]).toMatchObject({ action: 'segment.resumed', details: { was: { kind: 'guard', reason: 'breach' } } });
    expect(refusal(() => resume(d.state, PM, 'again', segmentFacts())).code).toBe(ErrorCode.Conflict);
  });
});

describe('rolling back', () => {
  it('goes one stage down, held, alerted, and the stage it lands on is guarded', () => {
    const s = guarded({ stage: 'confidence-routed', trafficPct: 50, threshold: 0.8, thresholdSource: 'fixed' });
    const d = rollback(
      s,
      PM,
      'complaints',
      false,
      segmentFacts({
        minuteEvidence: { shadow: { blindN: 0, blindAgree: 0 }, supervised: { blindN: 7, blindAgree: 6 }, 'confidence-routed': { blindN: 0, blindAgree: 0 } },
      }),
    );
    expect(d.state).toMatchObject({ stage: 'supervised', trafficPct: 100, paused: true, pauseKind: 'hold', stageStartedAt: NOW });
    expect(d.state.baseline).toMatchObject({ stage: 'supervised' });
    expect(d.state.guardState).toMatchObject({ totalsN: 7, totalsAgree: 6 });
    expect(d.effects.flagWrite).toEqual({ stage: 'supervised', trafficPct: 100 });
    expect(d.effects.alerts[0]).toMatchObject({ kind: 'stage.rolled-back', segment: 'email|eu' });
  });

  it('to shadow leaves nothing to guard, and is refused in shadow', () => {
    const d = rollback(guarded({ stage: 'confidence-routed', trafficPct: 100 }), PM, 'stop', true, segmentFacts());
    expect(d.state).toMatchObject({ stage: 'shadow', guardParams: null, baseline: null });
    expect(refusal(() => rollback(d.state, PM, 'again', false, segmentFacts())).message).toMatch(/already in shadow/);
  });
});

describe('a program manager fixing the threshold', () => {
  it('sets a fixed threshold or returns to the computed one, and refuses one outside [0, 1]', () => {
    const fixed = setThreshold(segmentState({ threshold: 0.7, thresholdSource: 'computed' }), 0.9, PM, 'policy', NOW);
    expect(fixed.state).toMatchObject({ threshold: 0.9, thresholdSource: 'fixed', thresholdUpdatedAt: NOW });
    expect(fixed.effects.audit[0].details).toMatchObject({ before: 0.7, beforeSource: 'computed', after: 0.9, source: 'fixed' });
    expect(setThreshold(fixed.state, null, PM, 'back', NOW).state).toMatchObject({ threshold: null, thresholdSource: 'none' });
    expect(refusal(() => setThreshold(fixed.state, 1.5, PM, 'typo', NOW)).code).toBe(ErrorCode.Validation);
  });
});

describe('adopting an operator’s change in Unleash', () => {
  it('makes a new stage the segment’s state, guarded, held for a person, without writing the flag back', () => {
    const after = { stage: 'supervised' as const, trafficPct: 25 };
    const d = adoptOperatorChange(
      segmentState(),
      { kind: 'segment-split', segment: 'email|eu', before: { stage: 'shadow', trafficPct: 100 }, after },
      segmentFacts(),
    );
    expect(d.state).toMatchObject({
      stage: 'supervised',
      trafficPct: 25,
      flagSplit: after,
      stageStartedAt: NOW,
      paused: true,
      pauseKind: 'operator',
      pausedBy: 'unleash',
    });
    expect(d.state.guardParams).not.toBeNull();
    expect(d.state.baseline).toMatchObject({ stage: 'supervised' });
    expect(d.effects.flagWrite).toBeNull();
    expect(d.effects.audit[0]).toMatchObject({ actor: 'unleash', actorKind: 'operator', action: 'flag.operator-change' });
    expect(d.effects.alerts[0]).toMatchObject({ kind: 'flag.operator-change' });
  });

  it('keeps the stage’s guard and start when only the traffic share changed, and remembers an irregular split', () => {
    const s = guarded({ stage: 'supervised', trafficPct: 50 });
    const after = { stage: 'supervised' as const, trafficPct: 30 };
    const d = adoptOperatorChange(
      s,
      { kind: 'segment-split', segment: 'email|eu', before: { stage: 'supervised', trafficPct: 50 }, after, irregular: 'two strategies' },
      segmentFacts({ stageEvidence: evidence(40, 38) }),
    );
    expect(d.state).toMatchObject({ trafficPct: 30, stageStartedAt: T0, guardParams: s.guardParams, flagSplit: { ...after, irregular: 'two strategies' } });
    expect(d.state.guardState).toMatchObject({ totalsN: 40, totalsAgree: 38 });
  });

  it('writes shadow back when the strategy was removed (the same routing as the fallback) and holds', () => {
    const d = adoptOperatorChange(
      guarded({ stage: 'supervised', trafficPct: 100 }),
      { kind: 'segment-removed', segment: 'email|eu', before: { stage: 'supervised', trafficPct: 100 } },
      segmentFacts(),
    );
    expect(d.state).toMatchObject({ stage: 'shadow', paused: true, pauseKind: 'operator', guardParams: null });
    expect(d.effects.flagWrite).toEqual({ stage: 'shadow', trafficPct: 100 });
  });

  it('records a workflow switched off or on, with an alert and no segment change', () => {
    const e = adoptWorkflowChange('triage', { kind: 'workflow-enabled', before: true, after: false });
    expect(e.patch).toEqual({});
    expect(e.audit[0]).toMatchObject({ workflow: 'triage', segment: null, reason: expect.stringMatching(/humans only/) });
    expect(e.alerts[0]).toMatchObject({ kind: 'flag.operator-change', workflow: 'triage' });
  });
});

describe('refreshing the threshold', () => {
  it('certifies one on the calibration set, with an audit entry', () => {
    const d = refreshThreshold(segmentState(), segmentFacts({ calibration: calibration(60) }));
    expect(d.inForce).not.toBeNull();
    expect(d.state).toMatchObject({ thresholdSource: 'computed', threshold: d.inForce, thresholdUpdatedAt: NOW });
    expect(d.effects.audit[0]).toMatchObject({
      action: 'threshold.changed',
      details: expect.objectContaining({ before: null, after: d.inForce, test: 'anytime' }),
    });
  });

  it('keeps a fixed threshold whatever the calibration says', () => {
    const d = refreshThreshold(segmentState({ threshold: 0.42, thresholdSource: 'fixed' }), segmentFacts({ calibration: calibration(60) }));
    expect(d.inForce).toBe(0.42);
    expect(d.effects.patch).toEqual({});
  });

  it('withdraws it at once when blind audits above it contradict it, alerts, and calibrates only on what follows', () => {
    const certified = refreshThreshold(
      segmentState({ stage: 'confidence-routed', trafficPct: 50 }),
      segmentFacts({ now: T0, calibration: calibration(60) }),
    ).state;
    const d = refreshThreshold(certified, segmentFacts({ calibration: calibration(60), auditsAbove: { n: 200, agree: 140 } }));
    expect(d.inForce).toBeNull();
    expect(d.state).toMatchObject({ threshold: null, thresholdSource: 'none', guardParams: null });
    expect(d.state.thresholdDetails).toMatchObject({ calibrationFrom: NOW.toISOString() });
    expect(d.effects.alerts[0]).toMatchObject({ kind: 'threshold.withdrawn' });
  });
});

describe('the regression guard’s look', () => {
  it('arms a stage nobody armed (an operator’s or an older row’s), with an audit entry', () => {
    const d = observeGuard(segmentState({ stage: 'supervised', trafficPct: 50 }), segmentFacts({ supervisedBaseline: { n: 30, agree: 28 } }));
    expect(d.state.baseline).toMatchObject({ stage: 'supervised', source: 'target', n: 30 });
    expect(d.effects.audit[0]).toMatchObject({ action: 'guard.armed' });
  });

  it('re-arms a guard armed for another stage', () => {
    const s = guarded({ stage: 'supervised', trafficPct: 100 });
    const d = observeGuard({ ...s, stage: 'confidence-routed', trafficPct: 50, threshold: 0.8, thresholdSource: 'fixed' }, segmentFacts());
    expect(d.state.baseline).toMatchObject({ stage: 'confidence-routed', rate: testRollout.accuracyTarget });
  });

  it('adds new blind labels beyond its watermark and opens a window when agreement sags', () => {
    const s = guarded({ stage: 'supervised', trafficPct: 100, lastEvaluatedAt: minutesAfter(50) });
    const d = observeGuard(s, segmentFacts({ stageEvidence: evidence(20, 14) }));
    expect(d.breached).toBe(false);
    expect(d.state.guardState).toMatchObject({ totalsN: 20, totalsAgree: 14, n: 20 });
    expect(d.state.guardState!.s).toBeGreaterThan(0);
    expect(d.state.guardWindowStartedAt).toEqual(minutesAfter(50));
    const healthy = observeGuard(d.state, segmentFacts({ stageEvidence: evidence(220, 214) }));
    expect(healthy.state.guardState).toMatchObject({ s: 0, totalsN: 220 });
    expect(healthy.state.guardWindowStartedAt).toBeNull();
  });

  it('restarts its watermark when the counts went backwards (a state from before the evidence model)', () => {
    const s = {
      ...guarded({ stage: 'supervised' }),
      guardState: { s: 1, n: 5, agree: 4, windowStartIndex: 0, windowN: 5, windowAgree: 4, totalsN: 900, totalsAgree: 800 },
    };
    const d = observeGuard(s, segmentFacts({ stageEvidence: evidence(100, 90) }));
    expect(d.breached).toBe(false);
    expect(d.state.guardState).toMatchObject({ totalsN: 100, totalsAgree: 90, s: 1 });
  });

  it('reverts on a breach, locks the segment, guards the stage below and re-reviews from the earliest AI decision its evidence covers', () => {
    const s = guarded({ stage: 'confidence-routed', trafficPct: 100, threshold: 0.8, thresholdSource: 'fixed', lastEvaluatedAt: minutesAfter(55) });
    const earliest = minutesAfter(20);
    const d = observeGuard(s, segmentFacts({ stageEvidence: evidence(200, 100), earliestLabelledInWindow: earliest }));
    expect(d.breached).toBe(true);
    expect(d.state).toMatchObject({ stage: 'supervised', trafficPct: 100, paused: true, pauseKind: 'guard', pausedBy: 'controller' });
    expect(d.state.baseline).toMatchObject({ stage: 'supervised' });
    expect(d.effects.flagWrite).toEqual({ stage: 'supervised', trafficPct: 100 });
    expect(d.effects.rereview).toEqual({ from: earliest, auditIndex: 0 });
    expect(d.effects.audit[0]).toMatchObject({
      action: 'stage.reverted',
      details: expect.objectContaining({ guard: expect.objectContaining({ rereviewFrom: earliest.toISOString() }) }),
    });
    expect(d.effects.alerts[0]).toMatchObject({ kind: 'stage.reverted', withRereview: true });
  });

  const withPolicy = (regressionPolicy: 'pause' | 'alert', over: Partial<Parameters<typeof segmentFacts>[0]> = {}) =>
    segmentFacts({ rollout: { ...testRollout, regressionPolicy }, ...over });

  it('under the pause policy keeps the stage and its routing, holds promotions, alerts, and restarts the guard', () => {
    const s = guarded({ stage: 'confidence-routed', trafficPct: 100, threshold: 0.8, thresholdSource: 'fixed', lastEvaluatedAt: minutesAfter(55) });
    const d = observeGuard(s, withPolicy('pause', { stageEvidence: evidence(200, 100), earliestLabelledInWindow: minutesAfter(20) }));
    expect(d.breached).toBe(true);
    expect(d.state).toMatchObject({ stage: 'confidence-routed', trafficPct: 100, paused: true, pauseKind: 'guard', pausedBy: 'controller' });
    expect(d.state.pauseReason).toMatch(/regression guard breached.*promotions held until a person resumes \(regression policy: pause\)/);
    expect(d.effects.flagWrite).toBeNull();
    expect(d.effects.rereview).toBeNull();
    expect(d.state.guardParams).toEqual(s.guardParams);
    expect(d.state.guardState).toMatchObject({ s: 0, totalsN: 200, totalsAgree: 100 });
    expect(d.effects.audit).toEqual([
      expect.objectContaining({
        action: 'guard.breached',
        details: expect.objectContaining({ policy: 'pause', split: { stage: 'confidence-routed', trafficPct: 100 } }),
      }),
    ]);
    expect(d.effects.alerts).toEqual([expect.objectContaining({ kind: 'guard.breached', details: expect.objectContaining({ policy: 'pause' }) })]);
    // The guard starts again: the same evidence does not breach twice.
    const again = observeGuard(d.state, withPolicy('pause', { stageEvidence: evidence(200, 100) }));
    expect(again.breached).toBe(false);
    expect(again.effects.alerts).toEqual([]);
  });

  it('under the alert policy only alerts and audits, and a drop that persists alerts again', () => {
    const s = guarded({ stage: 'supervised', trafficPct: 50, lastEvaluatedAt: minutesAfter(55) });
    const d = observeGuard(s, withPolicy('alert', { stageEvidence: evidence(200, 100) }));
    expect(d.breached).toBe(true);
    expect(d.state).toMatchObject({ stage: 'supervised', trafficPct: 50, paused: false });
    expect(d.effects.flagWrite).toBeNull();
    expect(d.effects.rereview).toBeNull();
    expect(d.effects.audit.map((a) => a.action)).toEqual(['guard.breached']);
    expect(d.effects.audit[0].reason).toMatch(/kept at supervised 50 % \(regression policy: alert only\)/);
    expect(d.effects.alerts.map((a) => a.kind)).toEqual(['guard.breached']);
    const persists = observeGuard(d.state, withPolicy('alert', { stageEvidence: evidence(400, 200) }));
    expect(persists.breached).toBe(true);
    expect(persists.effects.alerts.map((a) => a.kind)).toEqual(['guard.breached']);
  });

  it('arms a guard of its own for each critical class, and reverts when a rare class collapses while overall agreement holds', () => {
    const urgent = { field: 'priority', value: 'urgent', minDetectableDrop: 0.2, target: 0.8 };
    const critical = (stage: Record<string, [number, number, number]>) => ({
      classes: [urgent],
      stage,
      baseline: { 'priority=urgent': [500, 460, 450] as [number, number, number] },
    });
    const s = guarded({ stage: 'supervised', trafficPct: 100, lastEvaluatedAt: minutesAfter(55) });
    const armed = observeGuard(s, segmentFacts({ critical: critical({}) }));
    expect(armed.breached).toBe(false);
    expect(armed.state.classGuards).toEqual({ 'priority=urgent': expect.objectContaining({ stage: 'supervised', totals: [0, 0, 0] }) });
    expect(armed.effects.audit).toEqual([
      expect.objectContaining({ action: 'guard.armed', reason: expect.stringMatching(/^critical-class guards armed for supervised: priority=urgent recall/) }),
    ]);
    // 400 blind labels at 0.95 overall — but of the 60 urgent items the AI found 20.
    const d = observeGuard(armed.state, segmentFacts({ stageEvidence: evidence(400, 380), critical: critical({ 'priority=urgent': [60, 22, 20] }) }));
    expect(d.breached).toBe(true);
    expect(d.state).toMatchObject({ stage: 'shadow', paused: true, pauseKind: 'guard', classGuards: null });
    expect(d.effects.audit[0]).toMatchObject({
      action: 'stage.reverted',
      reason: expect.stringMatching(
        /^critical-class guard breached: recall of priority=urgent 0\.333 over the last 60 blind items people put in priority=urgent/,
      ),
      details: expect.objectContaining({ guard: expect.objectContaining({ class: 'priority=urgent', stream: 'recall' }) }),
    });
    expect(d.effects.rereview).not.toBeNull();
  });

  it('judges guardrails beyond agreement above shadow: a breach goes by the guardrail’s own policy, without a re-review list', () => {
    const hist = (fast: number, slow: number) => [fast, 0, 0, 0, 0, 0, 0, 0, 0, 0, slow];
    const calls = (n: number, failed: number) => ({ aiCalls: n, aiFailed: failed, aiInvalid: 0, costUsd: n * 0.001, latencyHist: hist(n, 0) });
    const rollout = {
      ...testRollout,
      guardrails: { errorRate: { max: 0.05 }, latencyP95Ms: { max: 5000, policy: 'alert' as const }, confidence: 0.99, minCalls: 200 },
    };
    const s = guarded({ stage: 'confidence-routed', trafficPct: 100, threshold: 0.8, thresholdSource: 'fixed', lastEvaluatedAt: minutesAfter(55) });
    // 3 % errors over 1,000 calls: nothing to do.
    const quiet = observeGuard(s, segmentFacts({ rollout, guardrailTotals: calls(1000, 30) }));
    expect(quiet.breached).toBe(false);
    // 30 % errors: the workflow's policy (revert); the model's errors are not the AI's answers, so nothing is re-reviewed.
    const d = observeGuard(s, segmentFacts({ rollout, guardrailTotals: calls(1000, 300) }));
    expect(d.breached).toBe(true);
    expect(d.state).toMatchObject({ stage: 'supervised', paused: true, pauseKind: 'guard', guardrailState: null });
    expect(d.effects.audit[0]).toMatchObject({
      action: 'stage.reverted',
      reason: expect.stringMatching(/^guardrail breached: /),
      details: { guard: expect.objectContaining({ guardrail: 'errorRate' }) },
    });
    expect(d.effects.rereview).toBeNull();
    expect(d.effects.alerts[0]).not.toHaveProperty('withRereview');
    // Slow calls go by the latency guardrail's own policy (alert), which restarts it: the same calls do not breach twice.
    const slow = { ...calls(1000, 0), latencyHist: hist(500, 500) };
    const a = observeGuard(s, segmentFacts({ rollout, guardrailTotals: slow }));
    expect(a.breached).toBe(true);
    expect(a.state).toMatchObject({ stage: 'confidence-routed', paused: false, guardrailState: { latencyP95Ms: slow } });
    expect(a.effects.audit[0]).toMatchObject({ action: 'guard.breached', details: { policy: 'alert' } });
    expect(observeGuard(a.state, segmentFacts({ rollout, guardrailTotals: slow })).breached).toBe(false);
  });

  it('under the pause policy leaves a person’s hold as it was', () => {
    const s = guarded({ stage: 'supervised', trafficPct: 100, paused: true, pauseKind: 'hold', pauseReason: 'quarter end', pausedBy: 'pat' });
    const d = observeGuard(s, withPolicy('pause', { stageEvidence: evidence(200, 100) }));
    expect(d.breached).toBe(true);
    expect(d.state).toMatchObject({ paused: true, pauseKind: 'hold', pauseReason: 'quarter end', pausedBy: 'pat' });
    expect(d.effects.alerts.map((a) => a.kind)).toEqual(['guard.breached']);
  });
});

describe('the label-free drift monitor in the controller’s cycle', () => {
  const answers = ['billing', 'technical'];
  const steady = { '9|billing': 450, '9|technical': 450, '5|billing': 50, '5|technical': 50 };
  const drifted = { '9|billing': 200, '9|technical': 200, '3|billing': 300, '3|technical': 300 };
  const rollout = { ...testRollout, auditShare: 0.05 };

  it('arms on the decisions before the stage, then alarms on a shift: alerted, audited, the blind share raised for routing', () => {
    const s = guarded({ stage: 'confidence-routed', trafficPct: 100, threshold: 0.8, thresholdSource: 'fixed', lastEvaluatedAt: minutesAfter(55) });
    const armed = decideCycle(s, segmentFacts({ rollout, drift: { answers, stageCells: {}, referenceCells: steady } }), CYCLE);
    expect(armed.state.driftMonitor).toMatchObject({ stage: 'confidence-routed', answers });
    expect(armed.state.driftMonitor!.params).not.toBeNull();
    expect(armed.state.auditFactor).toBeNull();
    const d = decideCycle(armed.state, segmentFacts({ rollout, drift: { answers, stageCells: drifted, referenceCells: null } }), CYCLE);
    expect(d.state.auditFactor).toBe(8);
    const alarm = d.effects.audit.find((a) => a.action === 'monitor.alarm');
    expect(alarm?.reason).toMatch(
      /^label-free drift monitor alarmed after 1000 decisions \(evidence [\d.]+ ≥ 13\.1 nats\): confidence < 0\.6: 60\.0 % recently against 10\.0 % in the reference.*; blind share 5 % → 40 % until/,
    );
    expect(d.effects.alerts.map((a) => a.kind)).toContain('monitor.alarm');
    // A revert or any stage move drops the monitor and its raise with the stage.
    const moved = rollback(d.state, PM, 'back', true, segmentFacts({ rollout }));
    expect(moved.state).toMatchObject({ stage: 'shadow', driftMonitor: null, auditFactor: null });
  });

  it('says so when the base share is already at the cap, and holds promotions while raised if the workflow asks', () => {
    const high = { ...testRollout, auditShare: 0.5, monitors: { ...testRollout.monitors, holdPromotions: true } };
    const s = guarded({ stage: 'confidence-routed', trafficPct: 50, threshold: 0.8, thresholdSource: 'fixed', lastEvaluatedAt: minutesAfter(55) });
    const armed = decideCycle(s, segmentFacts({ rollout: high, drift: { answers, stageCells: {}, referenceCells: steady } }), CYCLE);
    const d = decideCycle(armed.state, segmentFacts({ rollout: high, drift: { answers, stageCells: drifted, referenceCells: null }, ...strongStep() }), CYCLE);
    expect(d.effects.audit.find((a) => a.action === 'monitor.alarm')?.reason).toMatch(/blind share stays at 50 % \(already at or above the cap of 40 %\)/);
    expect(d.state.lastVerdict).toMatchObject({ holdReason: expect.stringMatching(/^a drift monitor alarmed: promotions wait/) });
    expect(d.effects.audit.map((a) => a.action)).not.toContain('stage.promoted');
  });
});

describe('the controller’s cycle', () => {
  it('writes the strategy of a segment Unleash has not seen, owed until Unleash confirms it', () => {
    const d = decideCycle(segmentState({ flagSplit: null }), segmentFacts(), { ...CYCLE, hasStrategy: false });
    expect(d.effects.flagWrite).toEqual({ stage: 'shadow', trafficPct: 100 });
    expect(d.state.flagSplit).toEqual({ stage: 'shadow', trafficPct: 100, pending: true });
    expect(d.effects.audit[0]).toMatchObject({ action: 'segment.discovered' });
  });

  it('holds promotions while Unleash does not answer, and still reverts on a breach from PostgreSQL alone', () => {
    const held = decideCycle(segmentState(), segmentFacts(strongStep()), { ...CYCLE, live: null, hasStrategy: false });
    expect(held.state.stage).toBe('shadow');
    expect(held.effects.flagWrite).toBeNull();
    expect(held.state.lastVerdict).toMatchObject({ verdict: 'pass', holdReason: expect.stringMatching(/Unleash did not answer/) });
    const breached = decideCycle(guarded({ stage: 'supervised', trafficPct: 100 }), segmentFacts({ stageEvidence: evidence(300, 150) }), {
      ...CYCLE,
      live: null,
    });
    expect(breached.state).toMatchObject({ stage: 'shadow', pauseKind: 'guard', flagSplit: { stage: 'shadow', trafficPct: 100, pending: true } });
  });

  it('promotes when the gate passes on the step’s blind evidence, and records the verdict it judged on', () => {
    const d = decideCycle(segmentState(), segmentFacts(strongStep()), CYCLE);
    expect(d.evaluation?.verdict).toBe('pass');
    expect(d.state).toMatchObject({ stage: 'supervised', trafficPct: 50, lastVerdict: null, lastEvaluatedAt: NOW });
    expect(d.effects.audit.map((a) => a.action)).toEqual(['stage.promoted']);
    expect(d.effects.audit[0].details).toMatchObject({ counts: { arm: 'shadow', n: 400, agree: 390 } });
  });

  it('does not judge agreement on anchored reviews, however many', () => {
    const d = decideCycle(segmentState({ stage: 'supervised', trafficPct: 50 }), segmentFacts({ stepEvidence: evidence(20, 20, 3000, 30) }), CYCLE);
    expect(d.evaluation?.verdict).toBe('inconclusive');
    expect(d.state.stage).toBe('supervised');
  });

  it.each([
    ['a pause', { paused: true, pauseKind: 'hold' as const, pausedBy: 'pat', pauseReason: 'busy week' }, CYCLE, /paused \(hold\)/],
    ['the workflow flag switched off', {}, { ...CYCLE, live: { ...LIVE, enabled: false } }, /workflow flag is disabled/],
    ['the kill switch', {}, { ...CYCLE, killSwitchOn: true }, /kill switch is on/],
  ])('holds a passing gate under %s and says why', (_name, over, ctx, why) => {
    const d = decideCycle(segmentState(over), segmentFacts(strongStep()), ctx);
    expect(d.state.stage).toBe('shadow');
    expect(d.state.lastVerdict).toMatchObject({ verdict: 'pass', holdReason: expect.stringMatching(why) });
    expect(d.effects.flagWrite).toBeNull();
  });

  it('asks for an approval once when entering a stage that needs one, and takes the step once approved', () => {
    const s = segmentState({ stage: 'supervised', trafficPct: 100, threshold: 0.8, thresholdSource: 'fixed' });
    const f = segmentFacts(strongStep(200, 4));
    const asked = decideCycle(s, f, CYCLE);
    expect(asked.state.pendingStep).toEqual({ stage: 'confidence-routed', trafficPct: 50 });
    expect(asked.effects.audit.map((a) => a.action)).toEqual(['guard.armed', 'segment.awaiting-approval']);
    const again = decideCycle(asked.state, f, CYCLE);
    expect(again.effects.audit).toEqual([]);
    const approved = approve(again.state, PM, 'go').state;
    expect(decideCycle(approved, f, CYCLE).state).toMatchObject({ stage: 'confidence-routed', trafficPct: 50, approvedStep: null, pendingStep: null });
  });

  it('reverts instead of judging the gate when the guard breaches', () => {
    const s = guarded({ stage: 'supervised', trafficPct: 100 });
    const d = decideCycle(s, segmentFacts({ stageEvidence: evidence(300, 150), stepEvidence: evidence(300, 150) }), CYCLE);
    expect(d.evaluation).toBeNull();
    expect(d.state).toMatchObject({ stage: 'shadow', pauseKind: 'guard' });
  });

  it('re-arms the confidence-routed guard for a threshold that moved in the same look', () => {
    const s = guarded({ stage: 'confidence-routed', trafficPct: 50, threshold: 0.95, thresholdSource: 'computed', thresholdUpdatedAt: T0 });
    const d = decideCycle(s, segmentFacts({ calibration: calibration(60) }), CYCLE);
    expect(d.state.threshold).not.toBe(0.95);
    expect(d.effects.audit.map((a) => a.action)).toEqual(['threshold.changed', 'guard.armed']);
  });

  it('sends a segment back to shadow when a new champion version takes over, dropping its computed threshold', () => {
    const s = guarded({ stage: 'confidence-routed', trafficPct: 100, version: 2, threshold: 0.8, thresholdSource: 'computed' });
    const d = decideCycle(s, segmentFacts({ version: 3, ...strongStep() }), CYCLE);
    expect(d.evaluation).toBeNull();
    expect(d.state).toMatchObject({ version: 3, stage: 'shadow', threshold: null, thresholdSource: 'none', guardParams: null, paused: false });
    expect(d.effects.flagWrite).toEqual({ stage: 'shadow', trafficPct: 100 });
    expect(d.effects.audit[0]).toMatchObject({
      action: 'stage.reset-for-version',
      reason: expect.stringMatching(/v3 became the champion \(the stage was earned by v2\)/),
    });
    expect(d.effects.alerts[0]).toMatchObject({ kind: 'stage.reset-for-version' });
    // A fixed threshold is a person's decision and stays; in shadow the step restarts.
    const fixed = decideCycle(segmentState({ version: 2, threshold: 0.9, thresholdSource: 'fixed' }), segmentFacts({ version: 3 }), CYCLE);
    expect(fixed.state).toMatchObject({ version: 3, stage: 'shadow', threshold: 0.9, thresholdSource: 'fixed', stepStartedAt: NOW });
  });

  it('records the version of a segment from before versions were tracked, without a reset', () => {
    const d = decideCycle(segmentState({ stage: 'supervised', trafficPct: 50, version: null }), segmentFacts({ version: 4 }), CYCLE);
    expect(d.state).toMatchObject({ version: 4, stage: 'supervised' });
    expect(d.effects.audit.map((a) => a.action)).not.toContain('stage.reset-for-version');
  });

  it('starts the first step’s counts at the stage’s start', () => {
    const d = decideCycle(segmentState({ stepBase: null }), segmentFacts(), CYCLE);
    expect(d.state.stepBase).toMatchObject({ n: 0, rangeStart: T0.toISOString() });
  });
});

describe('the overflow segment (the values beyond the workflow’s segment bound)', () => {
  const overflow = () => segmentState({ segment: testRollout.overflowSegment, lastVerdict: passedVerdict(minutesAfter(30)) });

  it('is never promoted by the controller, however strong its evidence, and says why', () => {
    const d = decideCycle(overflow(), segmentFacts(strongStep()), CYCLE);
    expect(d.state.stage).toBe('shadow');
    expect(d.effects.audit.map((a) => a.action)).not.toContain('stage.promoted');
    expect(d.state.lastVerdict).toMatchObject({ verdict: 'pass', holdReason: expect.stringMatching(/overflow segment .* stays in shadow/) });
  });

  it('refuses a program manager’s promotion', () => {
    expect(refusal(() => promote(overflow(), PM, 'x', segmentFacts())).message).toMatch(/overflow segment pools the values beyond the workflow's 200 segments/);
  });

  it('writes shadow back when an operator sets it above shadow in Unleash, audited and alerted', () => {
    const after = { stage: 'supervised' as const, trafficPct: 100 };
    const d = adoptOperatorChange(
      overflow(),
      { kind: 'segment-split', segment: testRollout.overflowSegment, before: { stage: 'shadow', trafficPct: 100 }, after },
      segmentFacts(),
    );
    expect(d.state.stage).toBe('shadow');
    expect(d.effects.flagWrite).toEqual({ stage: 'shadow', trafficPct: 100 });
    expect(d.effects.audit[0]).toMatchObject({ action: 'flag.operator-change-refused', reason: expect.stringMatching(/not adopted/) });
    expect(d.effects.alerts[0]).toMatchObject({ kind: 'flag.operator-change-refused' });
  });
});
