import { limiterFor, RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  let now = 0;
  const clock = () => now;

  beforeEach(() => {
    jest.useFakeTimers();
    now = 1_000_000; // the start of a tick
  });
  afterEach(() => jest.useRealTimers());

  function advance(ms: number): void {
    now += ms;
    jest.advanceTimersByTime(ms);
  }

  it('lets perTick calls start in a tick and holds the rest, first come first served, until the next tick', async () => {
    const limiter = new RateLimiter(3, 100, clock);
    const started: number[] = [];
    const calls = [1, 2, 3, 4, 5, 6, 7].map((i) => limiter.acquire().then(() => started.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual([1, 2, 3]);
    expect(limiter.waiting).toBe(4);
    advance(100);
    await Promise.resolve();
    expect(started).toEqual([1, 2, 3, 4, 5, 6]);
    advance(100);
    await Promise.all(calls);
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('refills to full, not beyond, after an idle stretch (bursts stay at perTick)', async () => {
    const limiter = new RateLimiter(2, 100, clock);
    advance(1000);
    const started: number[] = [];
    [1, 2, 3].forEach((i) => void limiter.acquire().then(() => started.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual([1, 2]);
  });

  it('rejects waiting and new calls once stopped', async () => {
    const limiter = new RateLimiter(1, 100, clock);
    await limiter.acquire();
    const waiting = limiter.acquire();
    limiter.stop();
    await expect(waiting).rejects.toThrow('rate limiter stopped');
    await expect(limiter.acquire()).rejects.toThrow('rate limiter stopped');
  });

  it('refuses a rate below one call per tick', () => {
    expect(() => new RateLimiter(0)).toThrow(RangeError);
  });

  /** Calls started within `ms` when `n` are asked for at once. */
  async function startedWithin(limiter: RateLimiter, n: number, ms: number): Promise<number> {
    let started = 0;
    for (let i = 0; i < n; i++)
      void limiter
        .acquire()
        .then(() => started++)
        .catch(() => undefined);
    for (let t = 0; t < ms; t += 10) {
      advance(10);
      await Promise.resolve();
    }
    await Promise.resolve();
    limiter.stop();
    return started;
  }

  it('holds a rate under 10 a second exactly (0.5/s is one call every 2 s, not 10 a second)', async () => {
    expect(await startedWithin(limiterFor(0.5, clock), 50, 9_990)).toBe(5);
  });

  it('holds 3, 15 and 200 calls a second over ten seconds, to within one burst', async () => {
    for (const rate of [3, 15, 200]) {
      now = 1_000_000;
      const burst = Math.max(1, Math.round(rate / 10));
      const started = await startedWithin(limiterFor(rate, clock), rate * 20, 9_990);
      expect(Math.abs(started - rate * 10)).toBeLessThanOrEqual(burst);
    }
  });

  it('refuses a rate that is not positive', () => {
    expect(() => limiterFor(0)).toThrow(/the rate must be positive, got 0/);
  });
});
