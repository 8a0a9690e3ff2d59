/**
 * A workflow's model rate limit: at most `perTick` calls start in each tick of `tickMs` (a bucket
 * refilled to full at every tick, so bursts stay short); calls beyond it wait, first come first
 * served. No timer runs while nobody waits.
 *
 * Why not Bottleneck (used before): every call through it went through its event emitter and
 * async generators — about a tenth of the service's CPU in a profiled throughput run — for what is
 * one counter here.
 */
export class RateLimiter {
  private tokens: number;
  private tick: number;
  private readonly waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly perTick: number,
    private readonly tickMs = 100,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perTick >= 1) || !(tickMs > 0)) throw new RangeError(`RateLimiter: perTick must be ≥ 1 and tickMs > 0, got ${perTick} / ${tickMs}`);
    this.tokens = perTick;
    this.tick = Math.floor(this.now() / tickMs);
  }

  /** Resolves when the call may start (at once when the current tick has room). */
  acquire(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('rate limiter stopped'));
    this.refill();
    if (this.waiters.length === 0 && this.tokens > 0) {
      this.tokens--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Calls waiting for their turn. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Refuses new calls and rejects the waiting ones. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.waiters.splice(0)) w.reject(new Error('rate limiter stopped'));
  }

  private refill(): void {
    const tick = Math.floor(this.now() / this.tickMs);
    if (tick !== this.tick) {
      this.tick = tick;
      this.tokens = this.perTick;
    }
  }

  private schedule(): void {
    if (this.timer || this.waiters.length === 0) return;
    const wait = Math.max(1, Math.ceil((this.tick + 1) * this.tickMs - this.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refill();
      while (this.waiters.length > 0 && this.tokens > 0) {
        this.tokens--;
        this.waiters.shift()!.resolve();
      }
      this.schedule();
    }, wait);
  }
}

/**
 * The limiter for a rate in calls per second: bursts of about a tenth of a second's worth (at least
 * one call), in ticks as long as that burst's share of a second, so the rate holds exactly for any
 * rate — 0.5/s is one call every 2 s, not one every 100 ms. Per instance: with several instances
 * the workflow's calls add up.
 */
export function limiterFor(ratePerSecond: number, now?: () => number): RateLimiter {
  if (!(ratePerSecond > 0)) throw new RangeError(`limiterFor: the rate must be positive, got ${ratePerSecond}`);
  const perTick = Math.max(1, Math.round(ratePerSecond / 10));
  return new RateLimiter(perTick, (1000 * perTick) / ratePerSecond, now);
}
