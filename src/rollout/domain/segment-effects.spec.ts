import { FakeAlerts, FakeAudit, FakeEvents, FakeSegmentStore, FakeTx } from '../../../test/factories/rollout-fakes';
import { segmentState } from '../../../test/factories/segments';
import { createSegmentEffects } from './segment-effects';
import type { Effects } from './segment-machine';

const TX: FakeTx = { fake: 'tx' };
const at = new Date('2026-11-30T10:30:00.000Z');

function setup() {
  const segments = new FakeSegmentStore(new FakeEvents());
  const audit = new FakeAudit();
  const alerts = new FakeAlerts();
  segments.put(segmentState({ stage: 'supervised', trafficPct: 100 }));
  return { effects: createSegmentEffects<FakeTx>({ segments, audit, alerts }), segments, audit, alerts };
}

const entry = (action: string) => ({
  actor: 'controller',
  actorKind: 'controller' as const,
  action,
  workflow: 'triage',
  segment: 'email|eu',
  reason: action,
  details: {},
});

describe('applying a decision’s effects', () => {
  it('patches the row, appends the audit entries in order, and returns the flag write it owes', async () => {
    const c = setup();
    const e: Effects = {
      patch: { stage: 'shadow', trafficPct: 100 },
      audit: [entry('guard.armed'), entry('stage.promoted')],
      alerts: [],
      flagWrite: { stage: 'shadow', trafficPct: 100 },
      rereview: null,
    };
    const owed = await c.effects.apply(TX, { workflow: 'triage', segment: 'email|eu', flagSplit: { stage: 'supervised', trafficPct: 100 } }, e);
    expect(c.segments.get('triage', 'email|eu')).toMatchObject({ stage: 'shadow', trafficPct: 100 });
    expect(c.audit.actions()).toEqual(['guard.armed', 'stage.promoted']);
    expect(owed).toEqual({
      workflow: 'triage',
      segment: 'email|eu',
      split: { stage: 'shadow', trafficPct: 100 },
      before: { stage: 'supervised', trafficPct: 100 },
    });
  });

  it('ties a revert’s re-review list to its audit entry, and tells the alert how many went back to people', async () => {
    const c = setup();
    c.segments.rereviewItems = 7;
    const e: Effects = {
      patch: {},
      audit: [entry('guard.armed'), entry('stage.reverted')],
      alerts: [{ kind: 'stage.reverted', summary: 'reverted', details: { why: 'breach' }, withRereview: true }],
      flagWrite: null,
      rereview: { from: at, auditIndex: 1 },
    };
    await c.effects.apply(TX, { workflow: 'triage', segment: 'email|eu' }, e);
    expect(c.alerts.raised).toEqual([{ kind: 'stage.reverted', summary: 'reverted', details: { why: 'breach', rereviewItems: 7, auditId: '2' } }]);
  });

  it('changes no segment for a workflow-level change, and owes no flag write', async () => {
    const c = setup();
    const e: Effects = {
      patch: {},
      audit: [entry('flag.operator-change')],
      alerts: [{ kind: 'flag.operator-change', summary: 'off', details: {} }],
      flagWrite: null,
      rereview: null,
    };
    expect(await c.effects.apply(TX, { workflow: 'triage', segment: null }, e)).toBeNull();
    expect(c.audit.actions()).toEqual(['flag.operator-change']);
    expect(c.alerts.raised).toHaveLength(1);
  });
});
