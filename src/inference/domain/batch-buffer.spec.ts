import { createBatchBuffer, retryDelayMs, Timers } from './batch-buffer';

/** Timers moved by hand: nothing fires until the test advances time. */
class FakeTimers implements Timers {
  now = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Moves time on by `ms`, firing what falls due and letting the writes it starts settle. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      await settle();
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = until;
    await settle();
  }
  get scheduled(): number {
    return this.pending.size;
  }
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function fixture(opts: { maxBatch?: number; lingerMs?: number } = {}) {
  const timers = new FakeTimers();
  const written: number[][] = [];
  const committed: number[][] = [];
  const errors: Array<{ size: number; failures: number }> = [];
  let failNext = 0;
  const buffer = createBatchBuffer<number>({
    maxBatch: opts.maxBatch ?? 3,
    lingerMs: opts.lingerMs ?? 2,
    timers,
    onError: (_e, size, failures) => errors.push({ size, failures }),
    write: async (batch) => {
      if (failNext > 0) {
        failNext--;
        throw new Error('database away');
      }
      written.push([...batch]);
      return () => committed.push([...batch]);
    },
  });
  return { buffer, timers, written, committed, errors, failWrites: (n: number) => (failNext = n) };
}

describe('a batch that is not full', () => {
  it('is written once it has lingered, with what arrived meanwhile', async () => {
    const { buffer, timers, written } = fixture({ lingerMs: 2 });
    buffer.submit(1);
    await timers.advance(1);
    buffer.submit(2);
    expect(written).toEqual([]);
    await timers.advance(1);
    expect(written).toEqual([[1, 2]]);
    expect(buffer.backlog).toBe(0);
  });
});

describe('more than a batch', () => {
  it('goes in batches of at most maxBatch, in order, the next at once after the previous', async () => {
    const { buffer, timers, written } = fixture({ maxBatch: 3, lingerMs: 50 });
    for (let i = 1; i <= 7; i++) buffer.submit(i);
    await timers.advance(49);
    expect(written).toEqual([]); // the first item's linger is not cut short
    await timers.advance(1);
    expect(written).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('a batch filled while nothing is scheduled is written without lingering', async () => {
    const { buffer, timers, written } = fixture({ maxBatch: 1, lingerMs: 50 });
    buffer.submit(1);
    await timers.advance(0);
    expect(written).toEqual([[1]]);
  });
});

describe('one write at a time', () => {
  it('items submitted during a write wait for it and go in the next batch', async () => {
    const timers = new FakeTimers();
    const written: number[][] = [];
    let release!: () => void;
    const buffer = createBatchBuffer<number>({
      maxBatch: 10,
      lingerMs: 0,
      timers,
      onError: () => undefined,
      write: async (batch) => {
        written.push([...batch]);
        if (written.length === 1) await new Promise<void>((r) => (release = r));
        return () => undefined;
      },
    });
    buffer.submit(1);
    await timers.advance(0);
    buffer.submit(2);
    buffer.submit(3);
    await timers.advance(10);
    expect(written).toEqual([[1]]);
    expect(buffer.pending()).toEqual([1, 2, 3]); // still held until their write commits
    release();
    await timers.advance(0);
    expect(written).toEqual([[1], [2, 3]]);
  });
});

describe('back-pressure', () => {
  it('the backlog counts what is submitted and not yet durable', async () => {
    const { buffer, timers, failWrites } = fixture({ maxBatch: 10 });
    failWrites(1);
    buffer.submit(1);
    buffer.submit(2);
    expect(buffer.backlog).toBe(2);
    await timers.advance(2);
    expect(buffer.backlog).toBe(2); // the write failed: still owed
    await timers.advance(retryDelayMs(1));
    expect(buffer.backlog).toBe(0);
  });
});

describe('a failed write', () => {
  it('keeps its items at the head, reports the error and retries them after a growing delay', async () => {
    const { buffer, timers, written, committed, errors, failWrites } = fixture({ maxBatch: 10 });
    failWrites(2);
    buffer.submit(1);
    await timers.advance(2);
    expect(errors).toEqual([{ size: 1, failures: 1 }]);
    buffer.submit(2);
    await timers.advance(retryDelayMs(1) - 1);
    expect(written).toEqual([]);
    await timers.advance(1);
    expect(errors).toEqual([
      { size: 1, failures: 1 },
      { size: 2, failures: 2 },
    ]);
    await timers.advance(retryDelayMs(2));
    expect(written).toEqual([[1, 2]]);
    expect(committed).toEqual([[1, 2]]);
  });

  it('runs what follows a commit only after a successful write', async () => {
    const { buffer, timers, committed, failWrites } = fixture();
    failWrites(1);
    buffer.submit(1);
    await timers.advance(2);
    expect(committed).toEqual([]);
  });

  it('waits 200 ms after the first failure, doubling up to 5 s', () => {
    expect([0, 1, 2, 3, 5, 6, 10].map(retryDelayMs)).toEqual([0, 200, 400, 800, 3200, 5000, 5000]);
  });
});

describe('drain', () => {
  it('resolves once everything submitted so far is durable', async () => {
    const { buffer, timers, written } = fixture({ lingerMs: 2 });
    buffer.submit(1);
    let drained = false;
    void buffer.drain().then(() => (drained = true));
    await timers.advance(1);
    expect(drained).toBe(false);
    await timers.advance(1);
    expect(written).toEqual([[1]]);
    expect(drained).toBe(true);
  });

  it('resolves at once when nothing is owed', async () => {
    const { buffer } = fixture();
    await expect(buffer.drain()).resolves.toBeUndefined();
  });

  it('waits through failed writes until they succeed', async () => {
    const { buffer, timers, failWrites } = fixture();
    failWrites(1);
    buffer.submit(1);
    let drained = false;
    void buffer.drain().then(() => (drained = true));
    await timers.advance(2);
    expect(drained).toBe(false);
    await timers.advance(retryDelayMs(1));
    expect(drained).toBe(true);
  });
});

describe('close', () => {
  it('schedules no more writes, not even the retry of a failed one', async () => {
    const { buffer, timers, written, failWrites } = fixture();
    failWrites(1);
    buffer.submit(1);
    await timers.advance(2);
    buffer.close();
    await timers.advance(10_000);
    expect(written).toEqual([]);
    expect(timers.scheduled).toBe(0);
  });
});
