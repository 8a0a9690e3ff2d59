import { reconcileKillSwitch } from './kill-switch';

const readAt = new Date('2026-11-30T11:00:00.000Z');
const before = new Date(readAt.getTime() - 1_000).toISOString();
const after = new Date(readAt.getTime() + 1_000).toISOString();

describe('the kill switch after reading Unleash', () => {
  it('adopts an operator’s change, to be recorded and stored', () => {
    expect(reconcileKillSwitch({ known: { enabled: false, writtenAt: before }, live: true, readAt })).toEqual({
      on: true,
      adopted: { before: false, after: true },
      store: { enabled: true },
    });
    expect(reconcileKillSwitch({ known: { enabled: true }, live: false, readAt })).toEqual({
      on: false,
      adopted: { before: true, after: false },
      store: { enabled: false },
    });
  });

  it('stores a first reading without calling it a change', () => {
    expect(reconcileKillSwitch({ known: null, live: false, readAt })).toEqual({ on: false, adopted: null, store: { enabled: false } });
  });

  it('changes nothing when both sides agree', () => {
    expect(reconcileKillSwitch({ known: { enabled: true, writtenAt: before }, live: true, readAt })).toEqual({ on: true, adopted: null, store: null });
  });

  it.each([
    ['Unleash did not answer', { enabled: true }, null],
    ['a write to Unleash is still owed', { enabled: true, pending: true }, false],
    ['the stored state is newer than the read', { enabled: true, writtenAt: after }, false],
  ])('adopts nothing when %s, and stays on while either side says so', (_why, known, live) => {
    expect(reconcileKillSwitch({ known, live, readAt })).toEqual({ on: true, adopted: null, store: null });
  });

  it('is on when Unleash says so even if the stored state cannot be replaced yet', () => {
    expect(reconcileKillSwitch({ known: { enabled: false, pending: true }, live: true, readAt }).on).toBe(true);
  });
});
