import { rateLimitSubject, retryAfterSeconds } from './api-rate-limit';

describe('API rate limit subjects', () => {
  const limits = { perTokenPerMinute: 600, anonymousPerMinute: 120 };

  it('counts a valid token against its own allowance, wherever it is used from', () => {
    expect(rateLimitSubject('tok-1', '10.0.0.1', limits)).toEqual({ key: 'token:tok-1', limit: 600 });
    expect(rateLimitSubject('tok-1', '10.0.0.2', limits).key).toBe('token:tok-1');
  });

  it('counts requests without a valid token against the address, however many bogus tokens they carry', () => {
    expect(rateLimitSubject(null, '10.0.0.1', limits)).toEqual({ key: 'address:10.0.0.1', limit: 120 });
  });

  it('says when to retry in whole seconds, at least one', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    expect(retryAfterSeconds(new Date('2026-12-01T00:00:12.300Z'), now, 60_000)).toBe(13);
    expect(retryAfterSeconds(new Date('2026-12-01T00:00:00.010Z'), now, 60_000)).toBe(1);
    expect(retryAfterSeconds(new Date('2026-11-30T23:59:59Z'), now, 60_000)).toBe(1);
    expect(retryAfterSeconds(undefined, now, 60_000)).toBe(60);
  });
});
