import { runShutdown, ShutdownLog, ShutdownStep } from './graceful-shutdown';

const never = () => new Promise<void>(() => undefined);
const after = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function recordingLog(): ShutdownLog & { lines: Array<{ level: string; obj: object; msg: string }> } {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

describe('runShutdown', () => {
  // Fake timers (Date.now included): the budget is split by the clock, and a busy machine must not move it.
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  /** Runs a stop to its end, the fake clock moving as far as the budget. */
  async function shutdownOver(steps: ShutdownStep[], totalMs: number, log: ShutdownLog = recordingLog()) {
    const report = runShutdown(steps, totalMs, log);
    await jest.advanceTimersByTimeAsync(totalMs);
    return report;
  }

  it('runs the phases in order, the steps of one phase together', async () => {
    const events: string[] = [];
    const step = (phase: ShutdownStep['phase'], name: string, ms: number): ShutdownStep => ({
      phase,
      name,
      ifAbandoned: '-',
      run: async () => {
        events.push(`start ${name}`);
        await after(ms);
        events.push(`end ${name}`);
      },
    });
    await shutdownOver(
      [step('close', 'http', 1), step('flush-decisions', 'writer', 5), step('stop-intake', 'consumer', 20), step('stop-intake', 'runner', 5)],
      2000,
    );
    expect(events).toEqual(['start consumer', 'start runner', 'end runner', 'end consumer', 'start writer', 'end writer', 'start http', 'end http']);
  });

  it('stops waiting for a step at its phase deadline, says what that means, and goes on', async () => {
    const log = recordingLog();
    let flushed = false;
    const report = await shutdownOver(
      [
        { phase: 'stop-intake', name: 'the consumer leaving its group', ifAbandoned: 'offsets redelivered', run: never },
        { phase: 'flush-decisions', name: 'the writer', ifAbandoned: '-', run: async () => void (flushed = true) },
        { phase: 'release-outbox', name: 'outbox publishes', ifAbandoned: 'rows stay unsent', run: never },
      ],
      1000,
      log,
    );
    // Everything after the abandoned step still ran, and the stop ended at the last deadline it had
    // to wait for (the outbox's, 85 % of the budget), not when its steps would have finished.
    expect(flushed).toBe(true);
    expect(report.totalMs).toBe(850);
    expect(report.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['the consumer leaving its group', 'abandoned'],
      ['the writer', 'done'],
      ['outbox publishes', 'abandoned'],
    ]);
    // The consumer was given up at its phase's deadline: 40 % of the budget.
    expect(report.steps[0].ms).toBe(400);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => (l.obj as { consequence: string }).consequence)).toEqual([
      'offsets redelivered',
      'rows stay unsent',
    ]);
  });

  it('hands a step its phase deadline, and leaves the time of a phase that ended early to the next', async () => {
    const seen: Array<{ name: string; deadline: number; at: number }> = [];
    const t0 = Date.now();
    const report = await shutdownOver(
      [
        { phase: 'stop-intake', name: 'quick', ifAbandoned: '-', run: async (deadline) => void seen.push({ name: 'quick', deadline, at: Date.now() }) },
        {
          phase: 'flush-decisions',
          name: 'slow',
          ifAbandoned: '-',
          run: async (deadline) => {
            seen.push({ name: 'slow', deadline, at: Date.now() });
            await after(1400); // longer than its own 30 % share of 4 s, shorter than what the intake left it
          },
        },
      ],
      4000,
    );
    expect(seen.map((s) => [s.name, s.deadline - t0])).toEqual([
      ['quick', 1600],
      ['slow', 2800],
    ]);
    // The flush began as soon as the intake was done, not at the intake's deadline, and had the time it needed.
    expect(seen[1].at - t0).toBe(0);
    expect(report.steps.map((s) => [s.outcome, s.ms])).toEqual([
      ['done', 0],
      ['done', 1400],
    ]);
  });

  it('logs a step that fails, even synchronously, and goes on', async () => {
    const log = recordingLog();
    let closed = false;
    const report = await shutdownOver(
      [
        {
          phase: 'stop-intake',
          name: 'broken',
          ifAbandoned: 'x',
          run: () => {
            throw new Error('boom');
          },
        },
        { phase: 'flush-decisions', name: 'rejecting', ifAbandoned: 'y', run: () => Promise.reject(new Error('db down')) },
        { phase: 'close', name: 'close', ifAbandoned: '-', run: async () => void (closed = true) },
      ],
      1000,
      log,
    );
    expect(closed).toBe(true);
    expect(report.steps.map((s) => s.outcome)).toEqual(['failed', 'failed', 'done']);
    expect(log.lines.filter((l) => l.level === 'error').map((l) => (l.obj as { err: string }).err)).toEqual(['boom', 'db down']);
  });
});
