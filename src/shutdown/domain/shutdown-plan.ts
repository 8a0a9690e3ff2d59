/**
 * How a graceful stop spends its time. It runs in phases, in this order, and every phase has a
 * deadline: a share of the whole budget, counted from the signal. What a phase still waits for at
 * its deadline is abandoned — only waits whose abandonment loses nothing are ever cut short (see
 * each phase) — and the next phase starts. A phase that finishes early leaves its time to the ones
 * after it, since deadlines are counted from the signal, not from the phase's start.
 *
 * The shares put PostgreSQL first: the decisions are written (which needs no Kafka) before anything
 * waits for Kafka at the end, and the Kafka waits that come first (the consumer leaving its group)
 * run beside the model calls, not ahead of them.
 */
export const SHUTDOWN_PHASES = [
  /**
   * Taking no more work: the consumer stops and leaves its group (Kafka), the runner stops claiming
   * jobs and lets its calls under way finish. Abandoned: offsets not committed are redelivered to
   * the group (stored once, since storage is idempotent); calls still out have their jobs given back
   * to the queue (called again by another instance).
   */
  { phase: 'stop-intake', endsAt: 0.4 },
  /** The decision writer flushes to PostgreSQL. Abandoned: those jobs stay claimed until their lease expires, then run again. */
  { phase: 'flush-decisions', endsAt: 0.7 },
  /** The outbox relay's publishes under way finish. Abandoned: their rows stay unsent in the outbox; the next relay publishes them. */
  { phase: 'release-outbox', endsAt: 0.85 },
  /** Kafka clients disconnect (producer, consumers, admin). Abandoned: the brokers notice the closed sockets. */
  { phase: 'disconnect-kafka', endsAt: 0.925 },
  /** Everything else closes: HTTP, the Unleash client, the controller's leadership, the database pool. */
  { phase: 'close', endsAt: 1 },
] as const;

export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number]['phase'];

export interface ShutdownPlan {
  startedAt: number;
  totalMs: number;
  /** Absolute time (ms) at which each phase's waits are abandoned. */
  deadlines: Record<ShutdownPhase, number>;
}

/** The deadlines of a stop that began at `startedAt` (ms) with `totalMs` to spend. */
export function planShutdown(startedAt: number, totalMs: number): ShutdownPlan {
  if (!(totalMs > 0)) throw new RangeError(`a shutdown budget must be positive (got ${totalMs})`);
  const deadlines = Object.fromEntries(SHUTDOWN_PHASES.map(({ phase, endsAt }) => [phase, startedAt + Math.floor(totalMs * endsAt)])) as Record<
    ShutdownPhase,
    number
  >;
  return { startedAt, totalMs, deadlines };
}

/** How long a phase may still wait at `now` (0 once its deadline has passed). */
export function timeLeft(plan: ShutdownPlan, phase: ShutdownPhase, now: number): number {
  return Math.max(0, plan.deadlines[phase] - now);
}

/** Kept at the end of the intake phase to give the jobs of abandoned calls back to the queue (one UPDATE). */
export const GIVE_BACK_MS = 500;

/**
 * Until when the runner waits for its model calls under way: their own timeout (plus a second for
 * the answer to come back) or the end of its phase less the time to give back the jobs of the calls
 * still out, whichever is sooner.
 */
export function callWaitDeadline(now: number, modelTimeoutMs: number, phaseDeadline: number): number {
  return Math.min(now + modelTimeoutMs + 1000, phaseDeadline - GIVE_BACK_MS);
}
