import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Clock, CLOCK } from '../common/clock';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { ComparisonService } from '../comparison/comparison.service';
import { RollupAccumulator } from '../comparison/domain/rollup';
import { RollupRepository } from '../comparison/rollup.repository';
import type { AiDecisionForComparison } from '../comparison/comparison.types';
import { lockItems } from '../database/sql';
import { MetricsService } from '../metrics/metrics.service';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { BudgetService } from './budget.service';
import { DecisionRepository } from './decision.repository';
import { BatchBuffer, createBatchBuffer } from './domain/batch-buffer';
import { Decided, decidedCall, decidedOutcome, decisionKey, firstAnswers, undecidedOutcomes, usageByWorkflow } from './domain/decision-batch';
import type { FinishedJob, JobOutcome } from './domain/job';
import { JobRepository } from './job.repository';
import { ROUTING_PLANNER, RoutableDecision, RoutingPlanner } from './routing-planner';

const MAX_BATCH = 500;
const LINGER_MS = 2;

/**
 * Writes finished jobs in batches (domain/batch-buffer.ts), each batch in one transaction: the AI
 * decisions, the jobs' states, the routing and outbox rows, the comparisons they complete, the
 * rollups and the budget usage. Either all of it is durable or none of it; a failed batch is retried.
 */
@Injectable()
export class DecisionWriter implements OnModuleDestroy {
  private readonly log: Logger;
  private readonly buffer: BatchBuffer<FinishedJob>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly decisions: DecisionRepository,
    private readonly jobs: JobRepository,
    private readonly comparisons: ComparisonService,
    private readonly rollups: RollupRepository,
    private readonly workflows: WorkflowRegistry,
    private readonly metrics: MetricsService,
    private readonly budget: BudgetService,
    @Inject(ROUTING_PLANNER) private readonly routing: RoutingPlanner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'decision-writer' });
    this.buffer = createBatchBuffer<FinishedJob>({
      maxBatch: MAX_BATCH,
      lingerMs: LINGER_MS,
      write: (batch) => this.write(batch),
      onError: (e, batch, failures) => this.log.error({ err: errorMessage(e), batch, failures }, 'writing decisions failed; will retry'),
    });
  }

  /** Jobs waiting to be written; the runner stops claiming while this is high (backpressure). */
  get backlog(): number {
    return this.buffer.backlog;
  }

  submit(f: FinishedJob): void {
    this.buffer.submit(f);
  }

  /** Jobs whose outcome is submitted but not yet written (their leases are still this instance's to keep). */
  heldJobIds(): string[] {
    return this.buffer.pending().map((f) => f.job.id);
  }

  /** Resolves once everything submitted so far is durable. */
  drain(): Promise<void> {
    return this.buffer.drain();
  }

  /** Writes one batch in one transaction; returns what to do once it has committed. */
  private async write(batch: FinishedJob[]): Promise<() => void> {
    const now = this.clock.now();
    const acc = new RollupAccumulator();
    const outcomes: JobOutcome[] = [];
    const decided = batch.filter((f): f is Decided => f.kind === 'decided');
    const first = firstAnswers(decided);
    const spent = usageByWorkflow(batch);
    const day = now.toISOString().slice(0, 10);
    const routing = await this.dataSource.transaction(async (tx) => {
      await lockItems(
        tx,
        decided.map((d) => d.job),
      );
      const inserted = await this.decisions.insert(
        tx,
        [...first.values()].map((d) => ({
          jobId: d.job.id,
          workflow: d.job.workflow,
          itemId: d.job.itemId,
          segment: d.job.segment,
          version: d.job.version,
          isChampion: this.isChampion(d),
          attempts: d.job.attempts,
          ...d.record,
        })),
      );
      const insertedIds = new Map(inserted.map((r) => [decisionKey(r), r.id]));

      const routable: RoutableDecision[] = [];
      const forComparison: AiDecisionForComparison[] = [];
      for (const d of decided) {
        const key = decisionKey(d.job);
        const id = first.get(key) === d ? insertedIds.get(key) : undefined;
        outcomes.push(decidedOutcome(d));
        if (!id) continue; // a late duplicate of a decision another worker already stored
        const r = d.record;
        acc.addAiCall(decidedCall(d, now, this.workflows.version(d.job.workflow, d.job.version)?.definition.decision.labelField));
        if (this.isChampion(d)) {
          routable.push({
            aiDecisionId: id,
            workflow: d.job.workflow,
            itemId: d.job.itemId,
            segment: d.job.segment,
            version: d.job.version,
            valid: r.valid,
            decision: r.decision,
            confidence: r.confidence,
            model: r.model,
            promptVersion: r.promptVersion,
            receivedAt: new Date(d.job.receivedAt),
          });
        }
        forComparison.push({
          id,
          workflow: d.job.workflow,
          itemId: d.job.itemId,
          segment: d.job.segment,
          version: d.job.version,
          valid: r.valid,
          decision: r.decision,
          confidence: r.confidence,
          routeAction: null,
          routeStage: null,
          routeThreshold: null,
          decidedAt: now,
        });
      }
      const plan = await this.routing.plan(tx, routable, acc);
      for (const c of forComparison) {
        const route = plan.routes.get(c.id);
        c.routeAction = route?.action ?? null;
        c.routeStage = route?.stage ?? null;
        c.routeThreshold = route?.threshold ?? null;
      }
      await this.comparisons.onAiDecisions(tx, forComparison, acc);

      const undecided = undecidedOutcomes(batch, now);
      outcomes.push(...undecided.outcomes);
      for (const c of undecided.calls) acc.addAiCall(c);
      await this.jobs.record(tx, outcomes, this.config.instanceId);
      if (spent) await this.budget.commit(tx, day, spent);
      await this.rollups.write(tx, acc);
      return plan;
    });
    const workflowOf = new Map(batch.map((b) => [b.job.id, b.job.workflow]));
    for (const o of outcomes) this.metrics.jobs.inc({ workflow: workflowOf.get(o.id) ?? 'unknown', state: o.state });
    return () => {
      if (spent) this.budget.written(day, spent);
      routing.committed();
    };
  }

  private isChampion(d: Decided): boolean {
    return this.workflows.activeOf(d.job.workflow)?.champion.version === d.job.version;
  }

  async onModuleDestroy(): Promise<void> {
    try {
      await Promise.race([this.drain(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    } finally {
      this.buffer.close();
    }
  }
}
