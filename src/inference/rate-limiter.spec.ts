import { RateLimiter } from './rate-limiter';

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
});
