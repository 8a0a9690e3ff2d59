import { champion, fakeRolloutCycle } from '../../../test/factories/rollout-fakes';
import { evidence, segmentState, T0 } from '../../../test/factories/segments';
import { ZERO_COUNTS } from './segment-counts';
import type { SegmentFacts } from './segment-machine';
import type { SegmentState } from './segment-state';

/** Blind evidence that passes the supervised gate (the model answered every call). */
const passing: Partial<SegmentFacts> = { stepEvidence: evidence(400, 390), stageTotals: { ...ZERO_COUNTS, aiCalls: 400 } };
const shadow = { stage: 'shadow' as const, trafficPct: 100 };
const supervised50 = { stage: 'supervised' as const, trafficPct: 50 };

/** A cycle over one workflow whose segment `email|eu` Unleash holds as the controller last wrote it. */
function setup(over: { segment?: Partial<SegmentState>; facts?: Partial<SegmentFacts> } = {}) {
  const f = fakeRolloutCycle({ facts: () => over.facts ?? {} });
  const s = segmentState({ flagSplit: { ...shadow, writtenAt: T0.toISOString() }, ...over.segment });
  f.segments.put(s);
  f.flags.workflows.set('triage', { enabled: true, segments: new Map([['email|eu', shadow]]) });
  f.switches.states.set('understudy.triage', { enabled: true });
  f.switches.states.set(f.killSwitchFlag, { enabled: false, writtenAt: T0.toISOString() });
  return { ...f, run: () => f.cycle.run([{ champion: champion('triage') }]) };
}

describe('a segment’s look in a cycle', () => {
  it('promotes on a passing gate: the row commits first, Unleash is written after, and the write is confirmed', async () => {
    const c = setup({ facts: passing });
    await c.run();
    expect(c.segments.get('triage', 'email|eu')).toMatchObject({
      stage: 'supervised',
      trafficPct: 50,
      flagSplit: { ...supervised50, writtenAt: c.clock.now().toISOString() },
    });
    expect(c.events.list.slice(-3)).toEqual(['lock triage', 'commit', 'unleash email|eu supervised 50']);
    expect(c.audit.actions()).toEqual(['stage.promoted']);
  });

  it('waits at most 5 s for a row a person holds, and bounds every statement of the cycle', async () => {
    const c = setup();
    await c.run();
    expect(c.limits).toContainEqual({ lockTimeoutMs: 5_000, statementTimeoutMs: 30_000 });
  });

  it('holds a passing gate while the kill switch is on, and says why', async () => {
    const c = setup({ facts: passing });
    c.flags.killSwitch = true;
    c.switches.states.set(c.killSwitchFlag, { enabled: true, writtenAt: T0.toISOString() });
    await c.run();
    expect(c.segments.get('triage', 'email|eu')).toMatchObject({ stage: 'shadow', lastVerdict: { verdict: 'pass', holdReason: 'the kill switch is on' } });
    expect(c.events.list.filter((e) => e.startsWith('unleash'))).toEqual([]);
  });

  it('holds promotions while Unleash does not answer, yet still looks at every segment from PostgreSQL', async () => {
    const c = setup({ facts: passing });
    c.flags.down = true;
    await c.run();
    expect(c.segments.get('triage', 'email|eu')).toMatchObject({
      stage: 'shadow',
      lastEvaluatedAt: c.clock.now(),
      lastVerdict: { holdReason: expect.stringMatching(/Unleash did not answer/) },
    });
  });

  it('keeps a move Unleash did not take owed, and writes it first at the next cycle', async () => {
    const c = setup({ facts: passing });
    c.flags.refuseWrites = true;
    await c.run();
    expect(c.segments.get('triage', 'email|eu').flagSplit).toEqual({ ...supervised50, pending: true });
    c.flags.refuseWrites = false;
    c.clock.advance(1_000);
    c.events.list.length = 0;
    await c.run();
    expect(c.events.list.indexOf('unleash email|eu supervised 50')).toBeLessThan(c.events.list.indexOf('lock triage'));
    expect(c.segments.get('triage', 'email|eu').flagSplit).toMatchObject({ ...supervised50, writtenAt: c.clock.now().toISOString() });
    // The flag read after the owed write shows it: nothing is mistaken for an operator's change.
    expect(c.audit.actions()).not.toContain('flag.operator-change');
  });

  it('gives a segment Unleash has not seen its shadow strategy', async () => {
    const c = setup({ segment: { flagSplit: null } });
    c.flags.workflows.get('triage')!.segments.clear();
    await c.run();
    expect(c.flags.workflows.get('triage')!.segments.get('email|eu')).toEqual(shadow);
    expect(c.audit.actions()).toContain('segment.discovered');
  });

  it('goes on with the other workflows when one fails, and logs the failure', async () => {
    const f = fakeRolloutCycle({
      facts: (s) => {
        if (s.workflow === 'triage') throw new Error('evidence unreadable');
        return passing;
      },
    });
    f.segments.put(segmentState({ workflow: 'triage' }));
    f.segments.put(segmentState({ workflow: 'intake' }));
    for (const w of ['triage', 'intake']) f.flags.workflows.set(w, { enabled: true, segments: new Map([['email|eu', shadow]]) });
    await f.cycle.run([{ champion: champion('triage') }, { champion: champion('intake') }]);
    expect(f.segments.get('intake', 'email|eu').stage).toBe('supervised');
    expect(f.log.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'controller cycle failed for a workflow', fields: expect.objectContaining({ workflow: 'triage' }) }),
    );
  });
});

describe('an operator’s change in Unleash', () => {
  it('becomes the segment’s state: adopted, held for a person, audited and alerted, never written back', async () => {
    const c = setup({ facts: passing });
    c.flags.workflows.get('triage')!.segments.set('email|eu', supervised50);
    await c.run();
    expect(c.segments.get('triage', 'email|eu')).toMatchObject({
      stage: 'supervised',
      trafficPct: 50,
      paused: true,
      pauseKind: 'operator',
      pausedBy: 'unleash',
      flagSplit: supervised50,
    });
    expect(c.audit.entries[0]).toMatchObject({ actor: 'unleash', actorKind: 'operator', action: 'flag.operator-change' });
    expect(c.alerts.raised.map((a) => a.kind)).toContain('flag.operator-change');
    expect(c.events.list.filter((e) => e.startsWith('unleash'))).toEqual([]);
  });

  it('records a workflow switched off, keeps what it now knows, and holds promotions: humans only', async () => {
    const c = setup({ facts: passing });
    c.flags.workflows.get('triage')!.enabled = false;
    await c.run();
    expect(c.audit.entries[0]).toMatchObject({
      action: 'flag.operator-change',
      workflow: 'triage',
      segment: null,
      details: { change: { kind: 'workflow-enabled', before: true, after: false } },
    });
    expect(c.switches.states.get('understudy.triage')).toEqual({ enabled: false });
    expect(c.segments.get('triage', 'email|eu')).toMatchObject({ stage: 'shadow', lastVerdict: { holdReason: expect.stringMatching(/disabled in Unleash/) } });
    await c.run();
    expect(c.audit.actions().filter((a) => a === 'flag.operator-change')).toHaveLength(1);
  });
});

describe('the kill switch at each cycle', () => {
  it('makes a write owed to Unleash first, and marks it confirmed', async () => {
    const c = setup();
    c.switches.states.set(c.killSwitchFlag, { enabled: true, pending: true });
    await c.run();
    expect(c.flags.killSwitch).toBe(true);
    expect(c.switches.states.get(c.killSwitchFlag)).toEqual({ enabled: true, writtenAt: c.clock.now().toISOString() });
    expect(c.cycle.killSwitchOn).toBe(true);
    expect(c.audit.actions()).not.toContain('kill-switch.changed');
  });

  it('adopts an operator turning it on in Unleash: recorded, alerted, stored, and in force', async () => {
    const c = setup();
    c.flags.killSwitch = true;
    await c.run();
    expect(c.cycle.killSwitchOn).toBe(true);
    expect(c.switches.states.get(c.killSwitchFlag)).toEqual({ enabled: true });
    expect(c.audit.entries[0]).toMatchObject({
      actor: 'unleash',
      actorKind: 'operator',
      action: 'kill-switch.changed',
      details: { before: false, after: true },
    });
    expect(c.alerts.raised[0]).toMatchObject({ kind: 'kill-switch.changed', summary: 'Kill switch ON: nothing leaves Understudy' });
  });

  it('does not adopt a read older than the stored state, and stays on while either side says so', async () => {
    const c = setup();
    c.switches.states.set(c.killSwitchFlag, { enabled: true, writtenAt: new Date(c.clock.now().getTime() + 1_000).toISOString() });
    c.flags.killSwitch = false;
    await c.run();
    expect(c.cycle.killSwitchOn).toBe(true);
    expect(c.switches.states.get(c.killSwitchFlag)?.enabled).toBe(true);
    expect(c.audit.actions()).toEqual([]);
  });

  it('keeps the stored state in force while Unleash does not answer', async () => {
    const c = setup();
    c.switches.states.set(c.killSwitchFlag, { enabled: true, writtenAt: T0.toISOString() });
    c.flags.down = true;
    await c.run();
    expect(c.cycle.killSwitchOn).toBe(true);
    expect(c.audit.actions()).toEqual([]);
  });
});
