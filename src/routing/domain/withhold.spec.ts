import { PublishState, segmentsOf, withheldRows, withholdReason } from './withhold';

const NOW = new Date('2026-11-30T12:00:00Z');
const event = { workflow: 'triage', segment: 'email|eu', stage: 'confidence-routed', action: 'auto', routedAt: new Date(NOW.getTime() - 2_000).toISOString() };
const state = (over: Partial<PublishState> = {}): PublishState => ({
  now: NOW,
  killSwitch: false,
  maxDelayMs: 60_000,
  storedStage: () => 'confidence-routed',
  ...over,
});

describe('publishing a routing event that waited in the outbox', () => {
  it('publishes it when nothing changed since it was routed', () => {
    expect(withholdReason(event, state())).toBeNull();
  });

  it('withholds it once the kill switch is on', () => {
    expect(withholdReason(event, state({ killSwitch: true }))).toBe('the kill switch is on');
  });

  it('withholds it beyond ROUTING_MAX_DELAY_MS, and never without a limit', () => {
    const old = { ...event, routedAt: new Date(NOW.getTime() - 90_000).toISOString() };
    expect(withholdReason(old, state())).toMatch(/routed 90 s ago, beyond ROUTING_MAX_DELAY_MS \(60000 ms\)/);
    expect(withholdReason(old, state({ maxDelayMs: 0 }))).toBeNull();
  });

  it('withholds it when the segment was moved below the stage it was routed at, not when it is still there or higher', () => {
    expect(withholdReason(event, state({ storedStage: () => 'supervised' }))).toBe(
      'the segment is at supervised now, below the confidence-routed it was routed at',
    );
    expect(withholdReason({ ...event, stage: 'supervised', action: 'suggest' }, state({ storedStage: () => 'confidence-routed' }))).toBeNull();
    expect(withholdReason(event, state({ storedStage: () => null }))).toBeNull();
  });
});

describe('checking a batch of routing events before it leaves', () => {
  it('withholds only the rows whose own segment was moved below their stage, each with its reason', () => {
    const rows = [
      { id: '1', event },
      { id: '2', event: { ...event, segment: 'chat|us' } },
      { id: '3', event: { ...event, segment: 'chat|us', stage: 'supervised', action: 'suggest' } },
    ];
    const withheld = withheldRows(rows, state({ storedStage: (w, s) => (s === 'chat|us' ? 'supervised' : 'confidence-routed') }));
    expect([...withheld]).toEqual([['2', 'the segment is at supervised now, below the confidence-routed it was routed at']]);
  });

  it('withholds every row while the kill switch is on, and none of an empty batch', () => {
    expect([
      ...withheldRows(
        [
          { id: '1', event },
          { id: '2', event },
        ],
        state({ killSwitch: true }),
      ).keys(),
    ]).toEqual(['1', '2']);
    expect(withheldRows([], state({ killSwitch: true })).size).toBe(0);
  });

  it('reads the stored stage of each segment once, however many of its events wait', () => {
    const rows = [
      { id: '1', event },
      { id: '2', event },
      { id: '3', event: { ...event, workflow: 'refunds' } },
    ];
    expect(segmentsOf(rows)).toEqual([
      { workflow: 'triage', segment: 'email|eu' },
      { workflow: 'refunds', segment: 'email|eu' },
    ]);
  });
});
