import { errorMessage } from '../../common/domain-error';

export interface CheckResult {
  status: 'up' | 'down' | 'degraded';
  detail?: string;
  latencyMs?: number;
}

/** How long a dependency may take to answer a health probe before it counts as down. */
export const PROBE_TIMEOUT_MS = 3000;

/**
 * One dependency's probe as /health reports it: up with how long it took (and what it said, if
 * anything), or down with why. A probe that does not answer within `timeoutMs` is down: a pool whose
 * connections are all stuck, or a database that refuses new ones, must not hold /health (and an
 * orchestrator's probe) past its own timeout.
 */
export async function timedCheck(
  fn: () => Promise<string | void>,
  timeoutMs = PROBE_TIMEOUT_MS,
  now: () => number = () => performance.now(),
): Promise<CheckResult> {
  const started = now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    const detail = await Promise.race([fn(), deadline]);
    return { status: 'up', latencyMs: Math.round(now() - started), ...(detail ? { detail } : {}) };
  } catch (e) {
    return { status: 'down', detail: errorMessage(e), latencyMs: Math.round(now() - started) };
  } finally {
    clearTimeout(timer);
  }
}
