import { callWaitDeadline, GIVE_BACK_MS, planShutdown, SHUTDOWN_PHASES, timeLeft } from './shutdown-plan';

describe('the phases of a graceful stop', () => {
  it('end one after the other, the last exactly when the budget is spent', () => {
    const ends = SHUTDOWN_PHASES.map((p) => p.endsAt);
    expect([...ends].sort((a, b) => a - b)).toEqual(ends);
    expect(new Set(ends).size).toBe(ends.length);
    expect(ends[ends.length - 1]).toBe(1);
  });

  it('write the decisions to PostgreSQL before anything waits on the outbox or closes Kafka', () => {
    const order = SHUTDOWN_PHASES.map((p) => p.phase);
    expect(order.indexOf('flush-decisions')).toBeLessThan(order.indexOf('release-outbox'));
    expect(order.indexOf('flush-decisions')).toBeLessThan(order.indexOf('disconnect-kafka'));
  });
});

describe('planShutdown', () => {
  it('splits the default 20 s into deadlines counted from the signal', () => {
    const plan = planShutdown(1_000_000, 20_000);
    expect(plan.deadlines).toEqual({
      'stop-intake': 1_008_000,
      'flush-decisions': 1_014_000,
      'release-outbox': 1_017_000,
      'disconnect-kafka': 1_018_500,
      close: 1_020_000,
    });
  });

  it('never ends a phase after the budget', () => {
    for (const total of [1000, 1001, 7777, 20_000, 600_000]) {
      const plan = planShutdown(0, total);
      expect(Math.max(...Object.values(plan.deadlines))).toBe(total);
    }
  });

  it('refuses a budget that is not positive', () => {
    expect(() => planShutdown(0, 0)).toThrow(RangeError);
    expect(() => planShutdown(0, Number.NaN)).toThrow(RangeError);
  });
});

describe('timeLeft', () => {
  const plan = planShutdown(0, 20_000);

  it('gives a phase whatever the earlier ones left, up to its own deadline', () => {
    // The intake stopped after 1 s: the flush may wait until 14 s, not only its own 6 s share.
    expect(timeLeft(plan, 'flush-decisions', 1000)).toBe(13_000);
  });

  it('is zero once the deadline has passed', () => {
    expect(timeLeft(plan, 'stop-intake', 8000)).toBe(0);
    expect(timeLeft(plan, 'stop-intake', 9000)).toBe(0);
  });
});

describe('callWaitDeadline', () => {
  it('waits for a call its timeout and a second when the phase allows it', () => {
    expect(callWaitDeadline(1000, 2000, 8000)).toBe(4000);
  });

  it('stops waiting before the end of the phase when the model timeout is longer, keeping time to give the jobs back', () => {
    // The production default: a 30 s model timeout, calls under way abandoned at 8 s of 20.
    expect(callWaitDeadline(500, 30_000, 8000)).toBe(8000 - GIVE_BACK_MS);
  });
});
