import { bearerToken, expiryOf, generateToken, hashToken, parseExpiresIn, roleAllowed, sameHash, tokenRefusal } from './token';

describe('API tokens', () => {
  it('are random, prefixed, and stored only as a hash', () => {
    const a = generateToken();
    const b = generateToken();
    expect(a.token).toMatch(/^us_[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.hash).toBe(hashToken(a.token));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash).not.toContain(a.token.slice(3, 12));
    expect(a.prefix).toBe(a.token.slice(0, 9));
    expect(sameHash(a.hash, hashToken(a.token))).toBe(true);
    expect(sameHash(a.hash, b.hash)).toBe(false);
  });

  it('reads the bearer token of an Authorization header', () => {
    expect(bearerToken('Bearer us_abcdefgh123')).toBe('us_abcdefgh123');
    expect(bearerToken('bearer   us_abcdefgh123 ')).toBe('us_abcdefgh123');
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeNull();
    expect(bearerToken('Bearer ')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken(['Bearer x'])).toBeNull();
  });

  it('lets admin call everything and others only their routes', () => {
    expect(roleAllowed('admin', ['ops'])).toBe(true);
    expect(roleAllowed('ops', ['ops', 'program_manager'])).toBe(true);
    expect(roleAllowed('analyst', ['ops', 'program_manager'])).toBe(false);
  });
});

describe('token expiry', () => {
  const now = new Date('2026-12-01T00:00:00Z');

  it('reads a lifetime in seconds, minutes, hours or days', () => {
    expect(parseExpiresIn('90d')).toBe(90 * 86_400_000);
    expect(parseExpiresIn('12h')).toBe(12 * 3_600_000);
    expect(parseExpiresIn('30m')).toBe(1_800_000);
    expect(parseExpiresIn('45s')).toBe(45_000);
    expect(expiryOf('1d', now)).toEqual(new Date('2026-12-02T00:00:00Z'));
    expect(expiryOf(undefined, now)).toBeNull();
  });

  it('refuses what is not a lifetime, or one beyond ten years', () => {
    for (const bad of ['90', 'd', '0d', '-1d', '1.5d', '1w', '90 days', '3651d', '']) expect(() => parseExpiresIn(bad)).toThrow(/expires-in must be/);
    expect(parseExpiresIn('3650d')).toBe(3650 * 86_400_000);
  });

  it('refuses a token from the instant it expires, and says so', () => {
    const expiresAt = new Date('2026-12-01T00:00:10Z');
    expect(tokenRefusal({ revokedAt: null, expiresAt: null }, now)).toBeNull();
    expect(tokenRefusal({ revokedAt: null, expiresAt }, new Date('2026-12-01T00:00:09.999Z'))).toBeNull();
    expect(tokenRefusal({ revokedAt: null, expiresAt }, expiresAt)).toBe('the token expired at 2026-12-01T00:00:10.000Z: ask an admin for a new one');
    expect(tokenRefusal({ revokedAt: now, expiresAt }, expiresAt)).toBe('the token is revoked');
  });
});
