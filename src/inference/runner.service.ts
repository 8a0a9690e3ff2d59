import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import CircuitBreaker from 'opossum';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Clock, CLOCK } from '../common/clock';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { MetricsService } from '../metrics/metrics.service';
import { callWaitDeadline } from '../shutdown/domain/shutdown-plan';
import type { WorkflowVersion } from '../workflows/domain/workflow-definition';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { BudgetService } from './budget.service';
import { DECISION_MODEL, DecisionModel, ModelAnswer, ModelCallError } from './decision-model';
import { DecisionWriter } from './decision-writer';
import { CircuitState, ClaimPump, createClaimPump } from './domain/claim-pump';
import type { FinishedJob } from './domain/job';
import { createJobPipeline, JobPipeline, KillSwitchSource } from './domain/job-pipeline';
import type { ModelRequest } from './domain/model-request';
import type { CallFailure } from './domain/retry-policy';
import { JobRepository } from './job.repository';
import { classify } from './openai-decision-model';
import { PostgresJobQueue } from './postgres-job-queue';
import { limiterFor, RateLimiter } from './rate-limiter';

export const KILL_SWITCH_SOURCE = Symbol('KILL_SWITCH_SOURCE');

/**
 * The AI runner: a pool of up to MODEL_CONCURRENCY calls in flight, fed from the PostgreSQL job
 * queue. When to claim is the claim pump's rule (domain/claim-pump.ts), what becomes of a job the
 * pipeline's (domain/job-pipeline.ts); this class wires them to the queue, the model behind its
 * rate limits and circuit breaker, and the decision writer, and runs the loop and the lease timer.
 */
@Injectable()
export class RunnerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private readonly breaker: CircuitBreaker<[ModelRequest], ModelAnswer>;
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly pump: ClaimPump;
  private readonly pipeline: JobPipeline;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private wokenWhileBusy = false;
  private leaseTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private readonly onJobs = () => this.news();

  constructor(
    private readonly jobs: JobRepository,
    private readonly writer: DecisionWriter,
    budget: BudgetService,
    workflows: WorkflowRegistry,
    private readonly metrics: MetricsService,
    private readonly queue: PostgresJobQueue,
    @Inject(DECISION_MODEL) private readonly model: DecisionModel,
    @Inject(KILL_SWITCH_SOURCE) killSwitch: KillSwitchSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) clock: Clock,
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

    const m = config.model;
    this.pump = createClaimPump({
      queue: { claim: (limit) => this.jobs.claim(limit, config.instanceId, m.jobMaxClaims) },
      concurrency: m.concurrency,
      circuit: () => this.circuitState,
      writerBacklog: () => this.writer.backlog,
      now: () => Date.now(),
    });
    this.pipeline = createJobPipeline({
      versions: workflows,
      killSwitch,
      budget,
      model: {
        call: async (version, request) => {
          await this.limiter(version).acquire();
          return this.breaker.fire(request);
        },
      },
      classify: (e): CallFailure =>
        (e as { code?: string })?.code === 'EOPENBREAKER' ? { kind: 'circuit_open', message: 'model circuit open: call not attempted' } : classify(e).failure,
      metrics: {
        latency: (workflow, ms) => this.metrics.aiLatency.observe({ workflow }, ms / 1000),
        usage: (workflow, prompt, completion, cost) => {
          this.metrics.aiTokens.inc({ workflow, kind: 'prompt' }, prompt);
          this.metrics.aiTokens.inc({ workflow, kind: 'completion' }, completion);
          this.metrics.aiCost.inc({ workflow }, cost);
        },
        call: (workflow, outcome) => this.metrics.aiCalls.inc({ workflow, outcome }),
      },
      clock,
      random: Math.random,
      settings: { maxAttempts: m.maxAttempts, backoffBaseMs: m.backoffBaseMs, backoffMaxMs: m.backoffMaxMs, circuitResetMs: c.resetMs, prices: m.prices },
    });
  }

  /** 'closed', 'open' or 'half-open', for /health. */
  get circuitState(): CircuitState {
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
      const held = [...this.pump.held(), ...this.writer.heldJobIds()];
      await this.jobs.renewLeases(this.config.instanceId, held);
      const released = await this.jobs.releaseExpired(this.config.model.jobLeaseMs);
      const settled = await this.jobs.settle(this.config.model.jobMaxClaims);
      if (released > 0) this.log.warn({ jobs: released }, 'released jobs whose lease expired');
      if (settled.failed > 0)
        this.log.error({ jobs: settled.failed, maxClaims: this.config.model.jobMaxClaims }, 'jobs claimed too often without an outcome: failed');
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
    while (this.pump.inFlight > 0 && Date.now() < until) await sleep(20);
    const abandoned = this.pump.abandonCalls();
    if (abandoned.length === 0) return;
    this.log.warn({ jobs: abandoned.length }, 'stopping: model calls still under way are abandoned; their jobs go back to the queue');
    await this.giveBack(abandoned, 'could not give abandoned jobs back; their lease will');
  }

  /** Jobs may be waiting in the queue: claim at the next turn of the loop. */
  private news(): void {
    this.pump.news();
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

  /** Starts what the pump allows, takes its next turn, and waits when it says so; on stop, the jobs not started go back. */
  private async run(): Promise<void> {
    while (this.running) {
      this.startQueued();
      const turn = await this.pump.turn();
      if (turn.kind === 'wait') {
        if (turn.error !== undefined) this.log.error({ err: errorMessage(turn.error) }, 'claiming jobs failed');
        await this.idle(turn.ms);
      }
    }
    await this.giveBack(this.pump.takeUnstarted(), 'could not give unstarted jobs back; their lease will');
  }

  private startQueued(): void {
    for (const job of this.pump.startable()) {
      let outcome: FinishedJob | undefined;
      this.pipeline
        .process(job)
        .then((f) => (outcome = f))
        .catch((e) => {
          // The pipeline classifies every failure itself; this is a programming error. The job's
          // lease will expire and it will be retried.
          this.log.error({ err: errorMessage(e), job: job.id }, 'unexpected runner error');
        })
        .finally(() => {
          if (this.pump.finished(job.id) && outcome) this.writer.submit(outcome);
          this.wakeUp();
        });
    }
  }

  /** Jobs this instance claimed and will not run go back to the queue as if never claimed (else they would wait for their lease). */
  private async giveBack(ids: string[], failure: string): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.jobs.release(ids, this.config.instanceId);
    } catch (e) {
      this.log.warn({ err: errorMessage(e), jobs: ids.length }, failure);
    }
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
