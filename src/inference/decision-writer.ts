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
import { lockItems, Tx } from '../database/sql';
import { MetricsService } from '../metrics/metrics.service';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { BudgetService } from './budget.service';
import type { ClaimedJob, JobOutcome } from './domain/job';
import { JobRepository } from './job.repository';
import { ROUTING_PLANNER, RoutableDecision, RoutingPlanner } from './routing-planner';

export interface DecisionRecord {
  valid: boolean;
  decision: Record<string, unknown> | null;
  rawOutput: string | null;
  error: string | null;
  confidence: number | null;
  confidenceSource: 'logprobs' | 'self-reported' | 'none';
  inputHash: string;
  model: string;
  promptVersion: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number;
}

/** What became of one claimed job. */
export type FinishedJob =
  | { kind: 'decided'; job: ClaimedJob; record: DecisionRecord }
  | { kind: 'retry'; job: ClaimedJob; error: string; nextAttemptAt: Date; refundAttempt: boolean; usage?: CallUsage }
  | { kind: 'failed'; job: ClaimedJob; error: string; usage?: CallUsage }
  | { kind: 'skipped'; job: ClaimedJob; reason: string };

export interface CallUsage {
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number | null;
}

const MAX_BATCH = 500;
const LINGER_MS = 2;

/**
 * Writes finished jobs in batches, each batch in one transaction: the AI decisions, the jobs'
 * states, the routing and outbox rows, the comparisons they complete, the rollups and the
 * budget usage. Either all of it is durable or none of it; a failed flush is retried.
 */
@Injectable()
export class DecisionWriter implements OnModuleDestroy {
  private buffer: FinishedJob[] = [];
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;
  private failures = 0;
  private closed = false;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly dataSource: DataSource,
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
  }

  /** Jobs waiting to be written; the runner stops claiming while this is high (backpressure). */
  get backlog(): number {
    return this.buffer.length;
  }

  submit(f: FinishedJob): void {
    this.buffer.push(f);
    if (this.buffer.length >= MAX_BATCH) this.kick(0);
    else this.kick(LINGER_MS);
  }

  /** Jobs whose outcome is submitted but not yet written (their leases are still this instance's to keep). */
  heldJobIds(): string[] {
    return this.buffer.map((f) => f.job.id);
  }

  /** Resolves once everything submitted so far is durable. */
  async drain(): Promise<void> {
    while (this.buffer.length > 0 || this.flushing) {
      if (!this.flushing) this.kick(0);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private kick(delayMs: number): void {
    if (this.flushing || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushing = this.flush().finally(() => {
        this.flushing = null;
        this.waiters.splice(0).forEach((w) => w());
        if (this.buffer.length > 0 && !this.closed) this.kick(this.failures > 0 ? Math.min(5000, 100 * 2 ** this.failures) : 0);
      });
    }, delayMs);
  }

  private async flush(): Promise<void> {
    const batch = this.buffer.slice(0, MAX_BATCH);
    if (batch.length === 0) return;
    try {
      const committed = await this.write(batch);
      this.buffer.splice(0, batch.length);
      this.failures = 0;
      committed();
    } catch (e) {
      this.failures++;
      this.log.error({ err: errorMessage(e), batch: batch.length, failures: this.failures }, 'writing decisions failed; will retry');
    }
  }

  /** Writes one batch in one transaction; returns what to do once it has committed. */
  private async write(batch: FinishedJob[]): Promise<() => void> {
    const now = this.clock.now();
    const acc = new RollupAccumulator();
    const outcomes: JobOutcome[] = [];
    const decided = batch.filter((f): f is Extract<FinishedJob, { kind: 'decided' }> => f.kind === 'decided');
    // A job whose lease expired while its call was still out is claimed again, so the same job can
    // finish twice and both answers can land in one batch. Only the first is a candidate for storing;
    // otherwise both would be handed the one stored decision's id and routed (two outbox rows) and counted twice.
    const firstOfKey = new Map<string, Extract<FinishedJob, { kind: 'decided' }>>();
    for (const d of decided) {
      const key = `${d.job.workflow}\u0001${d.job.itemId}\u0001${d.job.version}`;
      if (!firstOfKey.has(key)) firstOfKey.set(key, d);
    }
    const plan = await this.dataSource.transaction(async (tx) => {
      await lockItems(tx, decided.map((d) => d.job));
      const inserted = await this.insertDecisions(tx, [...firstOfKey.values()]);
      const insertedIds = new Map(inserted.map((r) => [`${r.workflow}\u0001${r.itemId}\u0001${r.version}`, r.id]));

      const routable: RoutableDecision[] = [];
      const forComparison: AiDecisionForComparison[] = [];
      for (const d of decided) {
        const key = `${d.job.workflow}\u0001${d.job.itemId}\u0001${d.job.version}`;
        const id = firstOfKey.get(key) === d ? insertedIds.get(key) : undefined;
        outcomes.push({ id: d.job.id, state: d.record.valid ? 'completed' : 'failed', error: d.record.error });
        if (!id) continue; // a late duplicate of a decision another worker already stored
        const r = d.record;
        acc.addAiCall({ workflow: d.job.workflow, segment: d.job.segment, version: d.job.version, at: now, outcome: r.valid ? 'ok' : 'invalid', promptTokens: r.promptTokens, completionTokens: r.completionTokens, costUsd: r.costUsd, latencyMs: r.latencyMs });
        const champion = this.workflows.activeOf(d.job.workflow)?.champion.version === d.job.version;
        if (champion) {
          routable.push({ aiDecisionId: id, workflow: d.job.workflow, itemId: d.job.itemId, segment: d.job.segment, version: d.job.version, valid: r.valid, decision: r.decision, confidence: r.confidence, model: r.model, promptVersion: r.promptVersion, receivedAt: new Date(d.job.receivedAt) });
        }
        forComparison.push({ id, workflow: d.job.workflow, itemId: d.job.itemId, segment: d.job.segment, version: d.job.version, valid: r.valid, decision: r.decision, confidence: r.confidence, routeAction: null, routeStage: null, routeThreshold: null, decidedAt: now });
      }
      const routing = await this.routing.plan(tx, routable, acc);
      for (const c of forComparison) {
        const route = routing.routes.get(c.id);
        c.routeAction = route?.action ?? null;
        c.routeStage = route?.stage ?? null;
        c.routeThreshold = route?.threshold ?? null;
      }
      await this.comparisons.onAiDecisions(tx, forComparison, acc);

      for (const f of batch) {
        if (f.kind === 'retry') {
          outcomes.push({ id: f.job.id, state: 'retrying', error: f.error, nextAttemptAt: f.nextAttemptAt, refundAttempt: f.refundAttempt });
          if (f.usage) acc.addAiCall({ workflow: f.job.workflow, segment: f.job.segment, version: f.job.version, at: now, outcome: 'failed', ...f.usage });
        } else if (f.kind === 'failed') {
          outcomes.push({ id: f.job.id, state: 'failed', error: f.error });
          if (f.usage) acc.addAiCall({ workflow: f.job.workflow, segment: f.job.segment, version: f.job.version, at: now, outcome: 'failed', ...f.usage });
        } else if (f.kind === 'skipped') {
          outcomes.push({ id: f.job.id, state: 'skipped', skipReason: f.reason });
          acc.addAiCall({ workflow: f.job.workflow, segment: f.job.segment, version: f.job.version, at: now, outcome: 'skipped', promptTokens: 0, completionTokens: 0, costUsd: 0, latencyMs: null });
        }
      }
      await this.jobs.record(tx, outcomes, this.config.instanceId);
      const spent = await this.recordBudget(tx, batch, now);
      await this.rollups.write(tx, acc);
      return { routing, spent };
    });
    const workflowOf = new Map(batch.map((b) => [b.job.id, b.job.workflow]));
    for (const o of outcomes) this.metrics.jobs.inc({ workflow: workflowOf.get(o.id) ?? 'unknown', state: o.state });
    return () => {
      if (plan.spent) this.budget.written(plan.spent.day, plan.spent.byWorkflow);
      plan.routing.committed();
    };
  }

  private async insertDecisions(tx: Tx, decided: Array<Extract<FinishedJob, { kind: 'decided' }>>): Promise<Array<{ id: string; workflow: string; itemId: string; version: number }>> {
    if (decided.length === 0) return [];
    const rows = decided.map((d) => {
      const champion = this.workflows.activeOf(d.job.workflow)?.champion.version === d.job.version;
      return {
        jobId: d.job.id,
        workflow: d.job.workflow,
        itemId: d.job.itemId,
        segment: d.job.segment,
        version: d.job.version,
        isChampion: champion,
        attempts: d.job.attempts,
        ...d.record,
      };
    });
    return tx.query(
      `INSERT INTO ai_decisions (job_id, workflow, item_id, segment, workflow_version, is_champion, model, prompt_version, valid,
         decision, raw_output, error, confidence, confidence_source, input_hash, prompt_tokens, completion_tokens, cost_usd,
         latency_ms, attempts)
       SELECT "jobId"::bigint, workflow, "itemId", segment, version, "isChampion", model, "promptVersion", valid, decision,
         "rawOutput", error, confidence, "confidenceSource", "inputHash", "promptTokens", "completionTokens", "costUsd",
         "latencyMs", attempts
       FROM jsonb_to_recordset($1::jsonb) AS x("jobId" text, workflow text, "itemId" text, segment text, version int,
         "isChampion" boolean, model text, "promptVersion" text, valid boolean, decision jsonb, "rawOutput" text, error text,
         confidence double precision, "confidenceSource" text, "inputHash" text, "promptTokens" int, "completionTokens" int,
         "costUsd" numeric, "latencyMs" int, attempts int)
       ON CONFLICT (workflow, item_id, workflow_version) DO NOTHING
       RETURNING id::text, workflow, item_id AS "itemId", workflow_version AS version`,
      [JSON.stringify(rows)],
    );
  }

  /** Adds the batch's usage to the day's committed usage, and takes it out of this instance's budget claims. */
  private async recordBudget(tx: Tx, batch: FinishedJob[], now: Date): Promise<{ day: string; byWorkflow: Map<string, { tokens: number; cost: number }> } | null> {
    const byWorkflow = new Map<string, { tokens: number; cost: number }>();
    for (const f of batch) {
      const usage = f.kind === 'decided' ? f.record : f.kind === 'retry' || f.kind === 'failed' ? f.usage : undefined;
      if (!usage) continue;
      const u = byWorkflow.get(f.job.workflow) ?? { tokens: 0, cost: 0 };
      u.tokens += usage.promptTokens + usage.completionTokens;
      u.cost += usage.costUsd;
      byWorkflow.set(f.job.workflow, u);
    }
    if (byWorkflow.size === 0) return null;
    const day = now.toISOString().slice(0, 10);
    const entries = [...byWorkflow.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    await tx.query(
      `INSERT INTO budget_usage AS b (workflow, day, tokens, cost_usd)
       SELECT w, $4::date, t, c FROM unnest($1::text[], $2::bigint[], $3::numeric[]) AS x(w, t, c)
       ON CONFLICT (workflow, day) DO UPDATE SET tokens = b.tokens + EXCLUDED.tokens, cost_usd = b.cost_usd + EXCLUDED.cost_usd`,
      [entries.map(([w]) => w), entries.map(([, u]) => u.tokens), entries.map(([, u]) => u.cost), day],
    );
    await this.budget.moveToCommitted(tx, day, byWorkflow);
    return { day, byWorkflow };
  }

  async onModuleDestroy(): Promise<void> {
    try {
      await Promise.race([this.drain(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    } finally {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
    }
  }
}
