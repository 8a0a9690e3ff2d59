import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The roles of Understudy's users; admin may do everything. */
export const ROLES = ['program_manager', 'analyst', 'ops', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

const PREFIX = 'us_';

/**
 * A new API token: 32 random bytes, URL-safe. Tokens are stored only as their SHA-256 hash —
 * enough for a random secret of this length (no dictionary to attack), and fast to check on
 * every request. The first characters are kept to tell tokens apart in lists.
 */
export function generateToken(): { token: string; hash: string; prefix: string } {
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token), prefix: token.slice(0, PREFIX.length + 6) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** The bearer token of an Authorization header, or null. */
export function bearerToken(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const m = /^Bearer\s+([A-Za-z0-9_\-.~+/=]{8,200})\s*$/i.exec(header);
  return m ? m[1] : null;
}

/** Whether a role may call a route that allows `allowed` (admin may call everything). */
export function roleAllowed(role: Role, allowed: readonly Role[]): boolean {
  return role === 'admin' || allowed.includes(role);
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The longest lifetime a token may be given: ten years. */
export const MAX_TOKEN_LIFETIME_MS = 3650 * UNIT_MS.d;
export const EXPIRES_IN_PATTERN = /^([1-9][0-9]{0,6})([smhd])$/;

/**
 * A token's lifetime from `90d`, `12h`, `30m` or `45s`, in milliseconds; throws with what is
 * accepted when the text is not one (or longer than ten years).
 */
export function parseExpiresIn(text: string): number {
  const m = EXPIRES_IN_PATTERN.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
  if (!Number.isFinite(ms) || ms > MAX_TOKEN_LIFETIME_MS) {
    throw new Error(`expires-in must be a whole number of s, m, h or d (e.g. 90d), at most 3650d; got "${text}"`);
  }
  return ms;
}

/** When a token created at `now` with that lifetime expires. */
export function expiryOf(expiresIn: string | undefined, now: Date): Date | null {
  return expiresIn === undefined ? null : new Date(now.getTime() + parseExpiresIn(expiresIn));
}

/** Why a stored token is refused at `now`, or null when it is good. */
export function tokenRefusal(t: { revokedAt: Date | null; expiresAt: Date | null }, now: Date): string | null {
  if (t.revokedAt) return 'the token is revoked';
  if (t.expiresAt && t.expiresAt.getTime() <= now.getTime()) {
    return `the token expired at ${t.expiresAt.toISOString()}: ask an admin for a new one`;
  }
  return null;
}
