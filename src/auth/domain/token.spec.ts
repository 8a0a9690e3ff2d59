import { bearerToken, generateToken, hashToken, roleAllowed, sameHash } from './token';

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
