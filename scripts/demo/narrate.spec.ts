import { AuditEvent, describeAuditEvent, summaryLine } from './narrate';

const at = new Date(2026, 10, 23, 12, 3, 4);
const event = (e: Partial<AuditEvent>): AuditEvent => ({
  id: '1',
  at,
  actor: 'controller',
  actorKind: 'controller',
  action: 'x',
  workflow: 'support-triage',
  segment: 'email|eu',
  reason: null,
  details: {},
  ...e,
});

describe('the demo narration', () => {
  it('tells promotions with their evidence', () => {
    const line = describeAuditEvent(
      event({
        action: 'stage.promoted',
        details: { from: { stage: 'shadow', trafficPct: 100 }, to: { stage: 'supervised', trafficPct: 25 }, counts: { n: 200, agree: 190 } },
      }),
    );
    expect(line).toBe('12:03:04  PROMOTED      support-triage / email|eu: shadow → supervised 25 % by controller (agreement 0.950 over 200 comparisons)');
  });

  it("tells approvals by a person and reverts with the guard's reason", () => {
    expect(
      describeAuditEvent(
        event({
          action: 'segment.approved',
          actor: 'pat (program_manager)',
          actorKind: 'person',
          reason: 'numbers look fine',
          details: { step: { stage: 'confidence-routed', trafficPct: 25 } },
        }),
      ),
    ).toBe('12:03:04  APPROVED      support-triage / email|eu: confidence-routed 25 % approved by pat (program_manager): "numbers look fine"');
    const revert = describeAuditEvent(
      event({
        action: 'stage.reverted',
        reason: 'regression guard breached: agreement 0.45',
        details: { from: { stage: 'confidence-routed', trafficPct: 100 }, to: { stage: 'supervised', trafficPct: 100 } },
      }),
    );
    expect(revert).toBe(
      '12:03:04  REVERTED      support-triage / email|eu: confidence-routed 100 % → supervised 100 % — regression guard breached: agreement 0.45',
    );
    expect(
      describeAuditEvent(
        event({ action: 'flag.operator-change', actor: 'unleash', actorKind: 'operator', reason: 'workflow flag disabled in Unleash by an operator' }),
      ),
    ).toContain('OPERATOR');
    expect(
      describeAuditEvent(
        event({ action: 'kill-switch.changed', actor: 'unleash', actorKind: 'operator', workflow: null, segment: null, details: { after: true } }),
      ),
    ).toContain('KILL SWITCH   ON — an operator (unleash)');
  });

  it('leaves out bookkeeping, and shows unknown actions as they are', () => {
    expect(describeAuditEvent(event({ action: 'flag.written' }))).toBeNull();
    expect(describeAuditEvent(event({ action: 'token.created' }))).toBeNull();
    expect(describeAuditEvent(event({ action: 'rereview.resolved', reason: 'looked again' }))).toBe(
      '12:03:04  rereview.resolved support-triage / email|eu: looked again',
    );
  });

  it('sums the work floor up in one line', () => {
    const line = summaryLine({
      now: at,
      itemsPerSecond: 30.2,
      decisionsPerSecond: 27.6,
      agreement: [{ workflow: 'support-triage', n: 400, agree: 352 }],
      routed: { auto: 10, suggest: 120, none: 0 },
      showcase: { segment: 'email|eu', stage: 'supervised', trafficPct: 50, paused: false, pauseKind: null, verdict: 'inconclusive' },
    });
    expect(line).toBe(
      '12:03:04  ·· 30 items/s, people 28 decisions/s · agreement (last 2 min): support-triage 0.88 (n=400) · routed so far: suggest 120, auto 10 · email|eu: supervised 50 % (gate: inconclusive)',
    );
  });
});
