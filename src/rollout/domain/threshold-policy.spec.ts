import { nextThreshold, ThresholdPolicyInput, THRESHOLD_LOWER_AFTER_MS, THRESHOLD_REGAIN_MS } from './threshold-policy';

const now = new Date('2026-11-30T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const input = (over: Partial<ThresholdPolicyInput> = {}): ThresholdPolicyInput => ({
  current: 0.8,
  source: 'computed',
  lastChangedAt: ago(10 * 60_000),
  certified: 0.8,
  auditsAbove: { n: 0, agree: 0 },
  target: 0.9,
  delta: 0.1,
  now,
  ...over,
});

describe('which threshold is in force', () => {
  it('keeps a threshold that is still certified', () => {
    expect(nextThreshold(input())).toMatchObject({ kind: 'keep', value: 0.8 });
  });

  it('applies a first certification at once', () => {
    expect(nextThreshold(input({ current: null, source: 'none', lastChangedAt: null, certified: 0.75 }))).toMatchObject({ kind: 'set', value: 0.75 });
  });

  it('withdraws at once when the certification is lost, however recent the last change', () => {
    expect(nextThreshold(input({ certified: null, lastChangedAt: ago(1000) }))).toMatchObject({ kind: 'set', value: null, withdrawnByAudits: false });
  });

  it('raises the bar at once, and lowers it only after a while', () => {
    expect(nextThreshold(input({ certified: 0.85, lastChangedAt: ago(1000) }))).toMatchObject({ kind: 'set', value: 0.85 });
    expect(nextThreshold(input({ certified: 0.7, lastChangedAt: ago(THRESHOLD_LOWER_AFTER_MS - 1) }))).toMatchObject({ kind: 'keep', value: 0.8 });
    expect(nextThreshold(input({ certified: 0.7, lastChangedAt: ago(THRESHOLD_LOWER_AFTER_MS) }))).toMatchObject({ kind: 'set', value: 0.7 });
  });

  it('waits a minute before regaining a threshold it just lost', () => {
    const lost = { current: null, source: 'none' as const, certified: 0.8 };
    expect(nextThreshold(input({ ...lost, lastChangedAt: ago(THRESHOLD_REGAIN_MS - 1) }))).toMatchObject({ kind: 'keep', value: null });
    expect(nextThreshold(input({ ...lost, lastChangedAt: ago(THRESHOLD_REGAIN_MS) }))).toMatchObject({ kind: 'set', value: 0.8 });
  });

  it('withdraws at once when blind audits above it show the accuracy is under the target', () => {
    const move = nextThreshold(input({ auditsAbove: { n: 40, agree: 20 } }));
    expect(move).toMatchObject({ kind: 'set', value: null, withdrawnByAudits: true });
    expect(move.reason).toMatch(/20\/40 agreed/);
  });

  it('does not withdraw on audits that are merely noisy', () => {
    expect(nextThreshold(input({ auditsAbove: { n: 40, agree: 35 } }))).toMatchObject({ kind: 'keep', value: 0.8 });
  });

  it('leaves a fixed threshold to the person who set it', () => {
    expect(nextThreshold(input({ source: 'fixed', current: 0.6, certified: null, auditsAbove: { n: 40, agree: 0 } }))).toMatchObject({
      kind: 'keep',
      value: 0.6,
    });
  });
});
