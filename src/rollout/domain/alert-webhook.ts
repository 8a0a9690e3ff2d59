import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Alert webhooks, signed and retried until delivered.
 *
 * Signature, in the spirit of Stripe's: `X-Understudy-Signature: t=<unix seconds>,v1=<hex>` where
 * v1 = HMAC-SHA256(secret, `${t}.${body}`) over the exact bytes of the body. A receiver recomputes
 * it, compares in constant time and refuses a timestamp too far from its clock (a replayed request).
 */
export const SIGNATURE_HEADER = 'x-understudy-signature';

export function signWebhook(secret: string, body: string, timestampSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

/** Whether a signature header is valid for the body, signed at most `toleranceSeconds` from now (what a receiver does). */
export function verifyWebhook(secret: string, body: string, header: string | undefined, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, body, t).split('v1=')[1], 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Delay before the next attempt after `attempts` failed ones: exponential from `baseMs`, capped
 * at `maxMs`, with full jitter in its upper half so instances retrying together spread out.
 * There is no last attempt: an alert is retried at the cap until the receiver takes it.
 */
export function nextAttemptDelayMs(attempts: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.round(exp / 2 + (random() * exp) / 2);
}
