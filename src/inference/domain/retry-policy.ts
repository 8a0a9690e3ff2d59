/** How a failed model call is classified, and when (or whether) it is tried again. */
export type CallFailureKind = 'rate_limited' | 'server_error' | 'timeout' | 'connection' | 'client_error' | 'circuit_open';

export interface CallFailure {
  kind: CallFailureKind;
  message: string;
  retryAfterMs?: number;
}

export function isRetryable(kind: CallFailureKind): boolean {
  return kind !== 'client_error';
}

/**
 * Exponential backoff with "equal jitter" (half fixed, half random), capped, never shorter
 * than the provider's Retry-After. `random` is a number in [0, 1).
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: number, retryAfterMs?: number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + (exp / 2) * random;
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

export type RetryDecision = { action: 'retry'; delayMs: number } | { action: 'fail' };

export function decideRetry(failure: CallFailure, attempts: number, maxAttempts: number, baseMs: number, maxMs: number, random: number): RetryDecision {
  if (!isRetryable(failure.kind) || attempts >= maxAttempts) return { action: 'fail' };
  return { action: 'retry', delayMs: backoffMs(attempts, baseMs, maxMs, random, failure.retryAfterMs) };
}

/** Retry-After as sent by providers: seconds, or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** Cost in USD of one call from a price table (per million tokens); unknown models cost 0 and say so. */
export function costOf(
  model: string,
  usage: { promptTokens: number; completionTokens: number },
  prices: Record<string, { inputPerMillion: number; outputPerMillion: number }>,
): { costUsd: number; priced: boolean } {
  const p = prices[model];
  if (!p) return { costUsd: 0, priced: false };
  return { costUsd: (usage.promptTokens * p.inputPerMillion + usage.completionTokens * p.outputPerMillion) / 1_000_000, priced: true };
}
