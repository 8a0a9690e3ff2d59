import { PublishState, withholdReason } from './withhold';

const NOW = new Date('2026-11-30T12:00:00Z');
const event = { workflow: 'triage', segment: 'email|eu', stage: 'confidence-routed', action: 'auto', routedAt: new Date(NOW.getTime() - 2_000).toISOString() };
const state = (over: Partial<PublishState> = {}): PublishState => ({ now: NOW, killSwitch: false, maxDelayMs: 60_000, storedStage: () => 'confidence-routed', ...over });

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
    expect(withholdReason(event, state({ storedStage: () => 'supervised' }))).toBe('the segment is at supervised now, below the confidence-routed it was routed at');
    expect(withholdReason({ ...event, stage: 'supervised', action: 'suggest' }, state({ storedStage: () => 'confidence-routed' }))).toBeNull();
    expect(withholdReason(event, state({ storedStage: () => null }))).toBeNull();
  });
});
