/**
 * Who an API request counts against: a valid token has its own allowance, shared by every address
 * it is used from; anything else (no token, an unknown, revoked or expired one) counts against the
 * caller's address, so guessing tokens or rotating bogus ones does not escape the limit.
 */
export interface RateLimitSubject {
  key: string;
  limit: number;
}

export interface ApiRateLimits {
  /** Requests a minute per valid token; 0 turns the limit off. */
  perTokenPerMinute: number;
  /** Requests a minute per address without a valid token; 0 turns the limit off. */
  anonymousPerMinute: number;
}

export function rateLimitSubject(tokenId: string | null, addressKey: string, limits: ApiRateLimits): RateLimitSubject {
  return tokenId ? { key: `token:${tokenId}`, limit: limits.perTokenPerMinute } : { key: `address:${addressKey}`, limit: limits.anonymousPerMinute };
}

/** Retry-After in whole seconds (at least 1) for a window that resets at `resetAt`. */
export function retryAfterSeconds(resetAt: Date | undefined, now: Date, windowMs: number): number {
  const ms = resetAt ? resetAt.getTime() - now.getTime() : windowMs;
  return Math.max(1, Math.ceil(ms / 1000));
}
