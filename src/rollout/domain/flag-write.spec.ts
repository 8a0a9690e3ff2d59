import { ManualClock } from '../../common/clock';
import type { SegmentSplit } from '../../flags/domain/segment-split';
import { FakeEvents, FakeFlagGateway, FakeLog, FakeSegmentStore } from '../../../test/factories/rollout-fakes';
import { segmentState } from '../../../test/factories/segments';
import { createFlagWriter, isMoveUp, OwedFlagWrite } from './flag-write';

const shadow = { stage: 'shadow' as const, trafficPct: 100 };
const supervised50 = { stage: 'supervised' as const, trafficPct: 50 };
const supervised100 = { stage: 'supervised' as const, trafficPct: 100 };

describe('which way a move goes', () => {
  it('is up into a later stage, or to a larger share of the same stage', () => {
    expect(isMoveUp(shadow, supervised50)).toBe(true);
    expect(isMoveUp(supervised50, supervised100)).toBe(true);
    expect(isMoveUp(supervised100, { stage: 'confidence-routed', trafficPct: 50 })).toBe(true);
  });

  it('is down to an earlier stage or a smaller share, and neither between equal splits', () => {
    expect(isMoveUp(supervised50, shadow)).toBe(false);
    expect(isMoveUp(supervised100, supervised50)).toBe(false);
    expect(isMoveUp(supervised50, supervised50)).toBe(false);
  });
});

describe('writing a split owed to Unleash', () => {
  function setup(stored: SegmentSplit, live: SegmentSplit) {
    const events = new FakeEvents();
    const segments = new FakeSegmentStore(events);
    const flags = new FakeFlagGateway(events);
    const clock = new ManualClock(new Date('2026-11-30T11:00:00.000Z'));
    const log = new FakeLog();
    segments.put(segmentState({ ...stored, flagSplit: { ...stored, pending: true } }));
    flags.workflows.set('triage', { enabled: true, segments: new Map([['email|eu', live]]) });
    return { writer: createFlagWriter({ flags, segments, clock, log }), segments, flags, clock, log };
  }

  it('writes a move up over the split it was decided on, and marks it confirmed', async () => {
    const c = setup(supervised50, shadow);
    const w: OwedFlagWrite = { workflow: 'triage', segment: 'email|eu', split: supervised50, before: shadow };
    expect(await c.writer.write(w)).toBe(true);
    expect(c.flags.workflows.get('triage')!.segments.get('email|eu')).toEqual(supervised50);
    expect(c.segments.get('triage', 'email|eu').flagSplit).toEqual({ ...supervised50, writtenAt: c.clock.now().toISOString() });
  });

  it('does not write a move up over an operator’s change, so the change is adopted at the next cycle', async () => {
    const c = setup(supervised50, supervised100);
    expect(await c.writer.write({ workflow: 'triage', segment: 'email|eu', split: supervised50, before: shadow })).toBe(true);
    expect(c.flags.workflows.get('triage')!.segments.get('email|eu')).toEqual(supervised100);
    // Confirmed as of the epoch: the next flag read is newer, and shows the operator's split.
    expect(c.segments.get('triage', 'email|eu').flagSplit).toEqual({ ...supervised50, writtenAt: new Date(0).toISOString() });
    expect(c.log.lines[0].message).toMatch(/changed in Unleash since it was read/);
  });

  it('writes a move down whatever the strategy holds', async () => {
    const c = setup(shadow, supervised100);
    expect(await c.writer.write({ workflow: 'triage', segment: 'email|eu', split: shadow, before: supervised50 })).toBe(true);
    expect(c.flags.workflows.get('triage')!.segments.get('email|eu')).toEqual(shadow);
  });

  it('leaves the write owed when Unleash does not take it', async () => {
    const c = setup(supervised50, shadow);
    c.flags.down = true;
    expect(await c.writer.write({ workflow: 'triage', segment: 'email|eu', split: supervised50, before: shadow })).toBe(false);
    expect(c.segments.get('triage', 'email|eu').flagSplit).toEqual({ ...supervised50, pending: true });
  });
});
