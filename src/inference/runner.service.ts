import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import CircuitBreaker from 'opossum';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Clock, CLOCK } from '../common/clock';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { findUnstorableString, storableText } from '../database/storable-text';
import { MetricsService } from '../metrics/metrics.service';
import { callWaitDeadline } from '../shutdown/domain/shutdown-plan';
import type { WorkflowVersion } from '../workflows/domain/workflow-definition';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { DECISION_MODEL, DecisionModel, ModelAnswer, ModelCallError } from './decision-model';
import { DecisionRecord, DecisionWriter, FinishedJob } from './decision-writer';
import type { ClaimedJob } from './domain/job';
import { confidenceFromLogprobs } from './domain/logprob-confidence';
import { asksSelfReportedConfidence, buildModelRequest, estimateMaxTokens, ModelRequest } from './domain/model-request';
import { parseModelOutput } from './domain/parse-output';
import { backoffMs, costOf, decideRetry } from './domain/retry-policy';
import { BudgetService } from './budget.service';
import { JobRepository } from './job.repository';
import { PostgresJobQueue } from './postgres-job-queue';
import { classify } from './openai-decision-model';
import { limiterFor, RateLimiter } from './rate-limiter';

const IDLE_POLL_MS = 250;
const MAX_BACKLOG = 5000;
const MAX_CLAIM = 500;

/** Something that can say whether the kill switch is on (the flag, and the state stored in PostgreSQL). */
export interface KillSwitchSource {
  killSwitch(): boolean | Promise<boolean>;
}
export const KILL_SWITCH_SOURCE = Symbol('KILL_SWITCH_SOURCE');

/**
 * The AI runner: a pool of up to MODEL_CONCURRENCY calls in flight, fed from the PostgreSQL job
 * queue. Each call passes the budget, the workflow's rate limit and the circuit breaker; its
 * answer is validated against the workflow's schema and handed to the decision writer.
 */
@Injectable()
export class RunnerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private readonly breaker: CircuitBreaker<[ModelRequest], ModelAnswer>;
  private readonly limiters = new Map<string, RateLimiter>();
  private inFlight = 0;
  /** Jobs whose call is under way (their leases are renewed with the queued and the unwritten ones). */
  private readonly calling = new Set<string>();
  /** Claimed, not started yet (see run()). */
  private queued: ClaimedJob[] = [];
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private wokenWhileBusy = false;
  /**
   * News that jobs may be waiting (jobs created, leases released, the circuit closing) bumps
   * newsSeq; a claim that comes back short records the newsSeq it started under. The queue is
   * claimed from again only on news or once the poll interval has passed — not after every
   * finished call, which made the claim the most frequent statement of all at moderate rates.
   */
  private newsSeq = 1;
  private emptyAtSeq = 0;
  private lastClaimAt = 0;
  private leaseTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  /** Calls given up at shutdown: their jobs went back to the queue, so their answers are not written. */
  private readonly abandoned = new Set<string>();
  private readonly onJobs = () => this.news();

  constructor(
    private readonly jobs: JobRepository,
    private readonly writer: DecisionWriter,
    private readonly budget: BudgetService,
    private readonly workflows: WorkflowRegistry,
    private readonly metrics: MetricsService,
    private readonly queue: PostgresJobQueue,
    @Inject(DECISION_MODEL) private readonly model: DecisionModel,
    @Inject(KILL_SWITCH_SOURCE) private readonly killSwitch: KillSwitchSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'runner' });
    const c = config.model.circuit;
    this.breaker = new CircuitBreaker((req: ModelRequest) => this.model.complete(req), {
      timeout: false, // the SDK's own timeout applies
      errorThresholdPercentage: c.errorPercent,
      volumeThreshold: c.minCalls,
      resetTimeout: c.resetMs,
      rollingCountTimeout: 10_000,
      rollingCountBuckets: 10,
      // A request the provider refuses as malformed says nothing about the provider's health.
      errorFilter: (e: unknown) => e instanceof ModelCallError && e.failure.kind === 'client_error',
    });
    this.breaker.on('open', () => {
      this.metrics.circuitOpen.set(1);
      this.log.warn({ resetMs: c.resetMs }, 'model circuit opened: calls stop; items go to humans');
    });
    this.breaker.on('halfOpen', () => {
      this.log.info('model circuit half-open: trying one call');
      this.news();
    });
    this.breaker.on('close', () => {
      this.metrics.circuitOpen.set(0);
      this.log.info('model circuit closed');
      this.news();
    });
  }

  /** 'closed', 'open' or 'half-open', for /health. */
  get circuitState(): 'closed' | 'open' | 'half-open' {
    if (this.breaker.halfOpen) return 'half-open';
    return this.breaker.opened ? 'open' : 'closed';
  }

  onApplicationBootstrap(): void {
    if (this.config.roles.runner) this.start();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.queue.onAnnounced(this.onJobs);
    this.loop = this.run();
    // Every quarter lease: renew this instance's leases (held while the rate limiter, the call and the
    // writer's retries run), give back expired ones of instances that stopped, settle what must not run again.
    this.leaseTimer = setInterval(() => void this.tendLeases(), Math.max(250, Math.floor(this.config.model.jobLeaseMs / 4)));
    this.leaseTimer.unref();
  }

  private async tendLeases(): Promise<void> {
    try {
      const held = [...this.queued.map((j) => j.id), ...this.calling, ...this.writer.heldJobIds()];
      await this.jobs.renewLeases(this.config.instanceId, held);
      const released = await this.jobs.releaseExpired(this.config.model.jobLeaseMs);
      const settled = await this.jobs.settle(this.config.model.jobMaxClaims);
      if (released > 0) this.log.warn({ jobs: released }, 'released jobs whose lease expired');
      if (settled.failed > 0) this.log.error({ jobs: settled.failed, maxClaims: this.config.model.jobMaxClaims }, 'jobs claimed too often without an outcome: failed');
      if (released > 0) this.news();
    } catch (e) {
      this.log.error({ err: errorMessage(e) }, 'tending job leases failed');
    }
  }

  /**
   * Stops claiming, gives back the jobs claimed but not started, and lets the calls under way finish
   * (their answers go to the writer, which whoever stops the service drains) — until their timeout or
   * `deadline`, whichever is sooner (shutdown/domain/shutdown-plan.ts). The jobs of calls still out
   * then go back to the queue for another instance, and their late answers are dropped. Called again,
   * it returns the first call's promise.
   */
  stop(deadline = Number.POSITIVE_INFINITY): Promise<void> {
    this.stopping ??= this.stopOnce(deadline);
    return this.stopping;
  }

  private async stopOnce(deadline: number): Promise<void> {
    this.running = false;
    this.queue.offAnnounced(this.onJobs);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.wakeUp();
    await this.loop;
    const until = callWaitDeadline(Date.now(), this.config.model.timeoutMs, deadline);
    while (this.inFlight > 0 && Date.now() < until) await sleep(20);
    if (this.calling.size > 0) await this.abandonCalls();
  }

  private async abandonCalls(): Promise<void> {
    const ids = [...this.calling];
    for (const id of ids) this.abandoned.add(id);
    this.log.warn({ jobs: ids.length }, 'stopping: model calls still under way are abandoned; their jobs go back to the queue');
    try {
      await this.jobs.release(ids, this.config.instanceId);
    } catch (e) {
      this.log.warn({ err: errorMessage(e), jobs: ids.length }, 'could not give abandoned jobs back; their lease will');
    }
  }

  /** Jobs may be waiting in the queue: claim at the next turn of the loop. */
  private news(): void {
    this.newsSeq++;
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    if (w) w();
    // Not idle (e.g. a claim is in flight, which may have missed the jobs just committed): the next
    // idle returns at once instead of sleeping through the news for a poll interval.
    else this.wokenWhileBusy = true;
  }

  private async idle(ms: number): Promise<void> {
    if (this.wokenWhileBusy) {
      this.wokenWhileBusy = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /**
   * Claims jobs a batch ahead of the free slots and starts one the moment a slot frees. Claiming
   * only once a quarter of the concurrency has room makes it one claim query per many jobs — one
   * per job made the claims the largest share of the database's work. Claimed
   * jobs wait here at most about one model call; on stop, those not started go back to the queue.
   */
  private async run(): Promise<void> {
    const concurrency = this.config.model.concurrency;
    const ahead = Math.ceil(concurrency / 2);
    const refillAt = Math.ceil(concurrency / 4);
    while (this.running) {
      this.startQueued();
      const circuitBlocked = this.breaker.opened && !this.breaker.halfOpen;
      if (circuitBlocked || this.writer.backlog > MAX_BACKLOG) {
        await this.idle(circuitBlocked ? IDLE_POLL_MS * 4 : 20);
        continue;
      }
      const room = concurrency + ahead - this.inFlight - this.queued.length;
      const starving = this.inFlight < concurrency && this.queued.length === 0;
      // Half-open: one trial call decides whether the circuit closes; nothing else is claimed meanwhile.
      const halfOpen = this.breaker.halfOpen;
      if (halfOpen ? this.inFlight > 0 || this.queued.length > 0 : room < refillAt && !starving) {
        await this.idle(20);
        continue;
      }
      // Nothing new since the queue was last found empty: wait for news or the next poll (retries
      // falling due, jobs another instance ingested).
      const sincePoll = Date.now() - this.lastClaimAt;
      if (this.emptyAtSeq === this.newsSeq && sincePoll < IDLE_POLL_MS) {
        await this.idle(IDLE_POLL_MS - sincePoll);
        continue;
      }
      const seq = this.newsSeq;
      const limit = halfOpen ? 1 : Math.min(room, MAX_CLAIM);
      let claimed: ClaimedJob[];
      this.lastClaimAt = Date.now();
      try {
        claimed = await this.jobs.claim(limit, this.config.instanceId, this.config.model.jobMaxClaims);
      } catch (e) {
        this.log.error({ err: errorMessage(e) }, 'claiming jobs failed');
        await this.idle(1000);
        continue;
      }
      if (claimed.length < limit) this.emptyAtSeq = seq;
      if (claimed.length === 0) continue;
      this.queued.push(...claimed);
    }
    await this.releaseQueued();
  }

  private startQueued(): void {
    while (this.queued.length > 0 && this.inFlight < this.config.model.concurrency) {
      const job = this.queued.shift()!;
      this.inFlight++;
      this.calling.add(job.id);
      this.process(job)
        .then((f) => {
          if (!this.abandoned.has(job.id)) this.writer.submit(f);
        })
        .catch((e) => {
          // process() classifies every failure itself; this is a programming error. The job's
          // lease will expire and it will be retried.
          this.log.error({ err: errorMessage(e), job: job.id }, 'unexpected runner error');
        })
        .finally(() => {
          this.inFlight--;
          this.calling.delete(job.id);
          this.wakeUp();
        });
    }
  }

  /** Jobs claimed but never started go back to the queue as if never claimed (else they would wait for their lease). */
  private async releaseQueued(): Promise<void> {
    const ids = this.queued.splice(0).map((j) => j.id);
    if (ids.length === 0) return;
    try {
      await this.jobs.release(ids, this.config.instanceId);
    } catch (e) {
      this.log.warn({ err: errorMessage(e), jobs: ids.length }, 'could not give unstarted jobs back; their lease will');
    }
  }

  /** Runs one job to an outcome; never throws for expected failures. */
  async process(job: ClaimedJob): Promise<FinishedJob> {
    const version = this.workflows.version(job.workflow, job.version);
    if (!version) return { kind: 'failed', job, error: `workflow version ${job.workflow} v${job.version} is not stored` };
    if (await this.killSwitch.killSwitch()) return { kind: 'skipped', job, reason: 'kill switch on: the AI is not called' };

    const def = version.definition;
    const { request, inputHash } = buildModelRequest(def, job);
    const est = estimateMaxTokens(request);
    const estCost = costOf(def.model.name, { promptTokens: est.prompt, completionTokens: est.completion }, this.config.model.prices).costUsd;
    let reservation: Awaited<ReturnType<BudgetService['reserve']>>;
    try {
      reservation = await this.budget.reserve(def, est.prompt + est.completion, estCost);
    } catch (e) {
      // The budget is read from the database; when that fails (connection dropped, database
      // restarting) the call is not made and the job is retried after a backoff, rather than
      // left 'processing' until its lease expires.
      const m = this.config.model;
      const delayMs = backoffMs(job.attempts, m.backoffBaseMs, m.backoffMaxMs, Math.random());
      return { kind: 'retry', job, error: `budget check failed: ${errorMessage(e)}`, nextAttemptAt: new Date(this.clock.now().getTime() + delayMs), refundAttempt: true };
    }
    if (!reservation.ok && reservation.wait) {
      // Not exhausted, only held by calls in flight: try again shortly rather than give the item up.
      const m = this.config.model;
      const delayMs = backoffMs(1, m.backoffBaseMs, m.backoffMaxMs, Math.random());
      return { kind: 'retry', job, error: reservation.reason, nextAttemptAt: new Date(this.clock.now().getTime() + delayMs), refundAttempt: true };
    }
    if (!reservation.ok) return { kind: 'skipped', job, reason: reservation.reason };

    let answer: ModelAnswer | null = null;
    try {
      await this.limiter(version).acquire();
      answer = await this.breaker.fire(request);
      this.metrics.aiLatency.observe({ workflow: job.workflow }, answer.latencyMs / 1000);
    } catch (e) {
      return this.failure(job, e);
    } finally {
      const usage = answer ? { tokens: answer.promptTokens + answer.completionTokens, cost: this.cost(def.model.name, answer) } : undefined;
      this.budget.release(def.name, est.prompt + est.completion, estCost, usage);
    }
    return { kind: 'decided', job, record: this.toRecord(version, answer, inputHash) };
  }

  private toRecord(version: WorkflowVersion, answer: ModelAnswer, inputHash: string): DecisionRecord {
    const def = version.definition;
    let parsed = parseModelOutput(answer.content, def.decision.schema, asksSelfReportedConfidence(def));
    // An answer PostgreSQL cannot store (a NUL character, a broken surrogate) is an invalid answer,
    // not a batch that fails to commit for ever.
    const unstorable = parsed.ok ? findUnstorableString(parsed.decision, 'decision') : null;
    if (unstorable) parsed = { ok: false, error: `invalid output: ${unstorable}` };
    const costUsd = this.cost(def.model.name, answer);
    this.metrics.aiTokens.inc({ workflow: def.name, kind: 'prompt' }, answer.promptTokens);
    this.metrics.aiTokens.inc({ workflow: def.name, kind: 'completion' }, answer.completionTokens);
    this.metrics.aiCost.inc({ workflow: def.name }, costUsd);
    const base = {
      inputHash,
      model: def.model.name,
      promptVersion: def.prompt.version,
      promptTokens: answer.promptTokens,
      completionTokens: answer.completionTokens,
      costUsd,
      latencyMs: answer.latencyMs,
    };
    if (!parsed.ok) {
      this.metrics.aiCalls.inc({ workflow: def.name, outcome: 'invalid' });
      return { ...base, valid: false, decision: null, rawOutput: storableText((answer.content ?? '').slice(0, 10_000)), error: parsed.error, confidence: null, confidenceSource: 'none' };
    }
    this.metrics.aiCalls.inc({ workflow: def.name, outcome: 'ok' });
    const fromLogprobs =
      def.model.confidence === 'self-reported' ? null : confidenceFromLogprobs(answer.content ?? '', answer.logprobs, Object.keys(def.comparator.fields));
    const confidence = fromLogprobs ?? parsed.selfConfidence;
    return {
      ...base,
      valid: true,
      decision: parsed.decision,
      rawOutput: null,
      error: null,
      confidence,
      confidenceSource: fromLogprobs !== null ? 'logprobs' : parsed.selfConfidence !== null ? 'self-reported' : 'none',
    };
  }

  private failure(job: ClaimedJob, e: unknown): FinishedJob {
    const now = this.clock.now();
    if ((e as { code?: string })?.code === 'EOPENBREAKER') {
      this.metrics.aiCalls.inc({ workflow: job.workflow, outcome: 'circuit_open' });
      return {
        kind: 'retry',
        job,
        error: 'model circuit open: call not attempted',
        nextAttemptAt: new Date(now.getTime() + this.config.model.circuit.resetMs),
        refundAttempt: true,
      };
    }
    const failure = classify(e).failure;
    this.metrics.aiCalls.inc({ workflow: job.workflow, outcome: failure.kind });
    const m = this.config.model;
    const decision = decideRetry(failure, job.attempts, m.maxAttempts, m.backoffBaseMs, m.backoffMaxMs, Math.random());
    if (decision.action === 'retry') {
      return { kind: 'retry', job, error: failure.message, nextAttemptAt: new Date(now.getTime() + decision.delayMs), refundAttempt: false };
    }
    return { kind: 'failed', job, error: `${failure.message} (after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'})` };
  }

  private cost(model: string, a: ModelAnswer): number {
    return costOf(model, { promptTokens: a.promptTokens, completionTokens: a.completionTokens }, this.config.model.prices).costUsd;
  }

  private limiter(version: WorkflowVersion): RateLimiter {
    const rate = version.definition.rateLimitPerSecond;
    const key = `${version.workflow}:${rate}`;
    let l = this.limiters.get(key);
    if (!l) {
      l = limiterFor(rate);
      this.limiters.set(key, l);
    }
    return l;
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
    this.breaker.shutdown();
    for (const l of this.limiters.values()) l.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
