/** What happened in one turn of the relay's poll loop. */
export interface RelayTurn {
  /** Rows the turn finished (published or withheld). */
  finished: number;
  /** The most one turn takes. */
  batch: number;
  /** Turns failed in a row (0: this one succeeded). */
  failures: number;
  /** Rows were committed while the turn ran (they may have missed it). */
  wokenWhileBusy: boolean;
  pollMs: number;
}

/** Longest wait between retries while publishing keeps failing (Kafka down). */
export const MAX_BACKOFF_MS = 10_000;

/**
 * When the relay polls next: at once after a full batch (more are likely waiting) or when rows were
 * committed during a successful turn (`consumesWake`: that wake-up is used up); after failures, an
 * exponential backoff from 400 ms up to MAX_BACKOFF_MS; otherwise after the poll interval.
 */
export function nextPoll(t: RelayTurn): { now: true; consumesWake: boolean } | { now: false; waitMs: number } {
  if (t.finished === t.batch) return { now: true, consumesWake: false };
  if (t.wokenWhileBusy && t.failures === 0) return { now: true, consumesWake: true };
  return { now: false, waitMs: t.failures > 0 ? Math.min(MAX_BACKOFF_MS, 200 * 2 ** t.failures) : t.pollMs };
}

/** Rows grouped by topic, in the order each topic first appears (one produce request per topic). */
export function byTopic<R extends { topic: string }>(rows: R[]): Map<string, R[]> {
  const out = new Map<string, R[]>();
  for (const r of rows) {
    const list = out.get(r.topic);
    if (list) list.push(r);
    else out.set(r.topic, [r]);
  }
  return out;
}
