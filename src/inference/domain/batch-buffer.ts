/** Timers as the buffer uses them: real ones in the service, a hand-moved fake in specs. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface BatchBufferOptions<T> {
  /**
   * Makes one batch durable; resolves with what to do once it is (called only after success).
   * A rejection leaves the batch at the head of the buffer, to be written again.
   */
  write(batch: T[]): Promise<() => void>;
  /** Most items in one write; a full batch is written at once. */
  maxBatch: number;
  /** How long a batch that is not full waits for company before it is written. */
  lingerMs: number;
  /** Told of each failed write (the batch stays buffered and is retried). */
  onError(error: unknown, batchSize: number, failures: number): void;
  timers?: Timers;
}

/** How long to wait before writing again after `failures` failed writes in a row: 200 ms, 400 ms, … at most 5 s. */
export function retryDelayMs(failures: number): number {
  return failures > 0 ? Math.min(5000, 100 * 2 ** failures) : 0;
}

/**
 * Collects items and writes them in batches, one write at a time, in submission order: a batch
 * goes when it is full or when it has lingered `lingerMs`. A failed write keeps its items at the
 * head and is retried with a growing delay, so nothing submitted is lost while the process lives.
 * The size of the buffer is the back-pressure signal its producer reads (`backlog`).
 */
export class BatchBuffer<T> {
  private buffer: T[] = [];
  private flushing: Promise<void> | null = null;
  private timer: unknown = null;
  private failures = 0;
  private closed = false;
  private readonly waiters: Array<() => void> = [];
  private readonly timers: Timers;

  constructor(private readonly options: BatchBufferOptions<T>) {
    this.timers = options.timers ?? realTimers;
  }

  /** Items submitted and not yet written. */
  get backlog(): number {
    return this.buffer.length;
  }

  /** Items submitted and not yet written, oldest first. */
  pending(): readonly T[] {
    return this.buffer;
  }

  submit(item: T): void {
    this.buffer.push(item);
    this.kick(this.buffer.length >= this.options.maxBatch ? 0 : this.options.lingerMs);
  }

  /** Resolves once everything submitted so far is durable (waits through failed writes and their retries). */
  async drain(): Promise<void> {
    while (this.buffer.length > 0 || this.flushing) {
      if (!this.flushing) this.kick(0);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** No more retries are scheduled, and a write that was waiting to start does not start. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
  }

  private kick(delayMs: number): void {
    if (this.flushing || this.timer !== null) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.flushing = this.flush().finally(() => {
        this.flushing = null;
        this.waiters.splice(0).forEach((w) => w());
        if (this.buffer.length > 0 && !this.closed) this.kick(retryDelayMs(this.failures));
      });
    }, delayMs);
  }

  private async flush(): Promise<void> {
    const batch = this.buffer.slice(0, this.options.maxBatch);
    if (batch.length === 0) return;
    try {
      const committed = await this.options.write(batch);
      this.buffer.splice(0, batch.length);
      this.failures = 0;
      committed();
    } catch (e) {
      this.failures++;
      this.options.onError(e, batch.length, this.failures);
    }
  }
}

export function createBatchBuffer<T>(options: BatchBufferOptions<T>): BatchBuffer<T> {
  return new BatchBuffer(options);
}
