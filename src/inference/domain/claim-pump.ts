import type { ClaimedJob } from './job';

/** The queue as the pump sees it: claims up to `limit` due jobs for this instance. */
export interface JobClaimer {
  claim(limit: number): Promise<ClaimedJob[]>;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface ClaimPumpOptions {
  queue: JobClaimer;
  /** Most model calls in flight at once (MODEL_CONCURRENCY). */
  concurrency: number;
  /** The model circuit breaker's state now. */
  circuit(): CircuitState;
  /** Finished jobs the decision writer has not written yet. */
  writerBacklog(): number;
  /** Milliseconds, monotonic enough for poll intervals. */
  now(): number;
  /** How often an idle pump looks at the queue without news (default 250 ms). */
  idlePollMs?: number;
  /** The writer backlog above which nothing is claimed (default 5000). */
  maxBacklog?: number;
  /** Most jobs claimed at once (default 500). */
  maxClaim?: number;
}

/** One turn of the pump: wait (for a slot, for news, for the writer, for the circuit) or jobs were claimed. */
export type Turn = { kind: 'wait'; ms: number; error?: unknown } | { kind: 'claimed'; jobs: number };

/** After a failed claim (database away), the pump waits this long before it tries again. */
export const CLAIM_ERROR_WAIT_MS = 1000;
/** The pump looks again this soon when it waits for a slot or for the writer. */
export const BUSY_WAIT_MS = 20;

/**
 * Which jobs this instance runs, and when it claims more. It claims a batch ahead of the free
 * slots (half the concurrency), and only once a quarter of the concurrency has room — one claim
 * query per many jobs, since one per job made the claims the largest share of the database's work.
 * It claims nothing while the writer is behind (back-pressure) or the circuit is open, and one job
 * at a time while the circuit is half-open. A claim that comes back short means the queue is empty:
 * it is claimed from again only on news (jobs created, leases released, the circuit closing) or
 * once the poll interval has passed — not after every finished call.
 *
 * It also knows the jobs it holds (claimed and waiting, or being called), whose leases the service
 * renews, and what to give back when the service stops.
 */
export class ClaimPump {
  private queued: ClaimedJob[] = [];
  /** Jobs whose call is under way. */
  private readonly calling = new Set<string>();
  /** Calls given up at shutdown: their jobs went back to the queue, so their answers are not written. */
  private readonly abandoned = new Set<string>();
  private running = 0;
  private newsSeq = 1;
  private emptyAtSeq = 0;
  private lastClaimAt = 0;
  private readonly idlePollMs: number;
  private readonly maxBacklog: number;
  private readonly maxClaim: number;

  constructor(private readonly o: ClaimPumpOptions) {
    this.idlePollMs = o.idlePollMs ?? 250;
    this.maxBacklog = o.maxBacklog ?? 5000;
    this.maxClaim = o.maxClaim ?? 500;
  }

  /** Model calls under way. */
  get inFlight(): number {
    return this.running;
  }

  /** Jobs may be waiting in the queue: claim at the next turn. */
  news(): void {
    this.newsSeq++;
  }

  /** Claimed jobs to start now, one per free slot; each is in flight until `finished`. */
  startable(): ClaimedJob[] {
    const start: ClaimedJob[] = [];
    while (this.queued.length > 0 && this.running < this.o.concurrency) {
      const job = this.queued.shift()!;
      this.running++;
      this.calling.add(job.id);
      start.push(job);
    }
    return start;
  }

  /** A started job's call ended; whether its outcome is to be written (not when it was abandoned at shutdown). */
  finished(jobId: string): boolean {
    this.running--;
    this.calling.delete(jobId);
    return !this.abandoned.has(jobId);
  }

  /** The jobs whose leases are this pump's to keep: claimed and not started, and being called. */
  held(): string[] {
    return [...this.queued.map((j) => j.id), ...this.calling];
  }

  /** Decides whether to wait or claim, and claims. */
  async turn(): Promise<Turn> {
    const circuit = this.o.circuit();
    if (circuit === 'open') return { kind: 'wait', ms: this.idlePollMs * 4 };
    if (this.o.writerBacklog() > this.maxBacklog) return { kind: 'wait', ms: BUSY_WAIT_MS };
    const { concurrency } = this.o;
    const room = concurrency + Math.ceil(concurrency / 2) - this.running - this.queued.length;
    const starving = this.running < concurrency && this.queued.length === 0;
    // Half-open: one trial call decides whether the circuit closes; nothing else is claimed meanwhile.
    const halfOpen = circuit === 'half-open';
    if (halfOpen ? this.running > 0 || this.queued.length > 0 : room < Math.ceil(concurrency / 4) && !starving) return { kind: 'wait', ms: BUSY_WAIT_MS };
    // Nothing new since the queue was last found empty: wait for news or the next poll (retries
    // falling due, jobs another instance ingested).
    const sincePoll = this.o.now() - this.lastClaimAt;
    if (this.emptyAtSeq === this.newsSeq && sincePoll < this.idlePollMs) return { kind: 'wait', ms: this.idlePollMs - sincePoll };
    const seq = this.newsSeq;
    const limit = halfOpen ? 1 : Math.min(room, this.maxClaim);
    this.lastClaimAt = this.o.now();
    let claimed: ClaimedJob[];
    try {
      claimed = await this.o.queue.claim(limit);
    } catch (error) {
      return { kind: 'wait', ms: CLAIM_ERROR_WAIT_MS, error };
    }
    if (claimed.length < limit) this.emptyAtSeq = seq;
    this.queued.push(...claimed);
    return { kind: 'claimed', jobs: claimed.length };
  }

  /** Stopping: the jobs claimed and never started, to go back to the queue as if never claimed. */
  takeUnstarted(): string[] {
    return this.queued.splice(0).map((j) => j.id);
  }

  /** Stopping for good: the calls still out are given up; their jobs go back to the queue and their answers will not be written. */
  abandonCalls(): string[] {
    const ids = [...this.calling];
    for (const id of ids) this.abandoned.add(id);
    return ids;
  }
}

export function createClaimPump(options: ClaimPumpOptions): ClaimPump {
  return new ClaimPump(options);
}
