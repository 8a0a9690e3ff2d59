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
