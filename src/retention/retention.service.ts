import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Logger } from 'pino';
import type { Actor } from '../audit/domain/actor';
import { AuditRepository } from '../audit/audit.repository';
import { Clock, CLOCK } from '../common/clock';
import { DomainError, ErrorCode, errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { lockItems, Tx } from '../database/sql';
import { JobRepository, StoredAiOutputText } from '../inference/job.repository';
import { IngestRepository } from '../ingest/ingest.repository';
import { OutboxRepository } from '../outbox/outbox.repository';
import type { WorkflowVersion } from '../workflows/domain/workflow-definition';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import {
  addCounts,
  anyRemoved,
  keptDecisionFields,
  nextBatchWanted,
  NO_REMOVALS,
  planErasureJobs,
  purgeReason,
  RemovalCause,
  RemovalCounts,
  removeAiOutput,
  removeHumanFreeText,
  removeInput,
  removeRoutingPayload,
  retentionCutoffs,
  retentionEnabled,
} from './domain/retention';
import { RetentionRepository } from './retention.repository';

const PURGE_INTERVAL = 'retention-purge';
export const ERASED_JOB_REASON = 'personal data erased';

export interface PurgeRun {
  cutoffs: { inputs: string | null; modelOutputs: string | null };
  removed: RemovalCounts;
  batches: number;
  ms: number;
}

export interface ErasureResult {
  itemId: string;
  workflows: string[];
  /** What this request removed. */
  removed: RemovalCounts;
  /** Rows of the item whose personal content was already gone (an earlier erasure or the retention). */
  alreadyRemoved: Omit<RemovalCounts, 'routingEvents'>;
  /** AI jobs of the item that had not run yet and never will. */
  jobsSkipped: number;
  auditId: string;
}

/**
 * Retention and erasure of personal content. The purge runs on a schedule (@nestjs/schedule's
 * registry, every RETENTION_INTERVAL_MS) on one instance at a time (a PostgreSQL advisory lock),
 * skips a run while the previous one still runs, and removes in bounded batches, oldest first.
 * The rules are in domain/retention.ts; this class only wires them to the repositories of the
 * tables that hold the content (ingest's, inference's, the outbox's) and to the log.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private running = false;
  private readonly log: Logger;
  private readonly policy: AppConfig['retention'];

  constructor(
    private readonly repo: RetentionRepository,
    private readonly ingest: IngestRepository,
    private readonly jobs: JobRepository,
    private readonly outbox: OutboxRepository,
    private readonly audit: AuditRepository,
    private readonly workflows: WorkflowRegistry,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'retention' });
    this.policy = config.retention;
  }

  onApplicationBootstrap(): void {
    if (!retentionEnabled(this.policy)) {
      this.log.info('retention is off (RETENTION_INPUT_DAYS and RETENTION_MODEL_OUTPUT_DAYS are 0): personal content is kept');
      return;
    }
    this.scheduler.addInterval(
      PURGE_INTERVAL,
      setInterval(() => void this.tick(), this.policy.intervalMs),
    );
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', PURGE_INTERVAL)) this.scheduler.deleteInterval(PURGE_INTERVAL);
  }

  /** One scheduled run: skipped while the previous one still runs; failures are logged, never thrown. */
  async tick(): Promise<void> {
    if (this.running) {
      this.log.debug('previous retention run still running; this one is skipped');
      return;
    }
    this.running = true;
    try {
      const run = await this.purge();
      if (run && anyRemoved(run.removed)) this.log.info({ ...run }, 'retention removed personal content past its retention');
    } catch (e) {
      this.log.error({ err: errorMessage(e) }, 'retention run failed; the next run goes on');
    } finally {
      this.running = false;
    }
  }

  /** One purge run, if no other instance is running one (undefined then). Audited when it removed anything. */
  async purge(): Promise<PurgeRun | undefined> {
    return this.repo.whileHoldingPurgeLock(async () => {
      const started = performance.now();
      const cutoffs = retentionCutoffs(this.policy, this.clock.now());
      const kept = this.keptFields();
      let removed = NO_REMOVALS;
      let batches = 0;
      const inBatches = async (step: (tx: Tx) => Promise<{ taken: number; removed: RemovalCounts }>) => {
        for (let done = 0; ;) {
          const r = await this.repo.transaction(step);
          done++;
          batches++;
          removed = addCounts(removed, r.removed);
          if (!nextBatchWanted(r.taken, done, this.policy)) return;
        }
      };
      const { inputs, modelOutputs } = cutoffs;
      const size = this.policy.batchSize;
      if (inputs) {
        await inBatches(async (tx) => {
          const rows = await this.ingest.inputsPastRetention(tx, inputs, size);
          return { taken: rows.length, removed: { ...NO_REMOVALS, inputs: await this.ingest.removeInputs(tx, rows.map(removeInput), 'retention') } };
        });
        await inBatches(async (tx) => {
          const rows = await this.ingest.humanDecisionsPastRetention(tx, inputs, size);
          const plans = rows.map((r) => removeHumanFreeText(r, kept(r.workflow)));
          return { taken: rows.length, removed: { ...NO_REMOVALS, humanDecisions: await this.ingest.removeHumanFreeText(tx, plans, 'retention') } };
        });
      }
      if (modelOutputs) {
        await inBatches(async (tx) => {
          const rows = await this.jobs.aiOutputsPastRetention(tx, modelOutputs, size);
          return { taken: rows.length, removed: await this.removeAiOutputs(tx, rows, kept, 'retention') };
        });
      }
      const run: PurgeRun = {
        cutoffs: { inputs: inputs?.toISOString() ?? null, modelOutputs: modelOutputs?.toISOString() ?? null },
        removed,
        batches,
        ms: Math.round(performance.now() - started),
      };
      // A run that found nothing leaves no entry: the log would otherwise fill with empty runs.
      if (anyRemoved(removed)) {
        await this.audit.append({ actor: 'retention', actorKind: 'system', action: 'retention.purged', reason: purgeReason(this.policy), details: { ...run } });
      }
      return run;
    });
  }

  /**
   * Removes one item's personal content in every workflow that holds it, in one transaction with
   * its audit entry. Asking again removes nothing more and is audited again (who asked, and why).
   */
  async eraseItem(itemId: string, actor: Actor, reason: string): Promise<ErasureResult> {
    const kept = this.keptFields();
    return this.repo.transaction(async (tx) => {
      const workflows = await this.ingest.workflowsHoldingItem(tx, itemId);
      if (workflows.length === 0) {
        throw new DomainError(ErrorCode.NotFound, `item "${itemId}" was not found: no workflow holds a work item or a decision with this itemId`, { itemId });
      }
      // The same item locks ingest and the decision writer take: nothing of the item is written meanwhile.
      await lockItems(
        tx,
        workflows.map((workflow) => ({ workflow, itemId })),
      );
      const jobs = planErasureJobs(await this.jobs.itemJobsForErasure(tx, itemId, workflows));
      if (jobs.kind === 'in-flight') {
        throw new DomainError(
          ErrorCode.Conflict,
          `item "${itemId}" is being decided by the AI right now (${jobs.running} call${jobs.running === 1 ? '' : 's'} in flight): ask again in a minute, once the answer is stored, and it is erased with the rest`,
          { itemId },
        );
      }
      await this.jobs.skipJobs(tx, jobs.skip, ERASED_JOB_REASON);
      const inputs = await this.ingest.itemInputsForErasure(tx, itemId, workflows);
      const humans = await this.ingest.itemHumanDecisionsForErasure(tx, itemId, workflows);
      const outputs = await this.jobs.itemAiOutputsForErasure(tx, itemId, workflows);
      const removed: RemovalCounts = {
        inputs: await this.ingest.removeInputs(tx, inputs.filter((r) => !r.removed).map(removeInput), 'erasure'),
        humanDecisions: await this.ingest.removeHumanFreeText(
          tx,
          humans.filter((r) => !r.removed).map((r) => removeHumanFreeText(r, kept(r.workflow))),
          'erasure',
        ),
        aiOutputs: 0,
        routingEvents: 0,
      };
      const ai = await this.removeAiOutputs(
        tx,
        outputs.filter((r) => !r.removed),
        kept,
        'erasure',
      );
      removed.aiOutputs = ai.aiOutputs;
      removed.routingEvents = ai.routingEvents;
      const alreadyRemoved = {
        inputs: inputs.filter((r) => r.removed).length,
        humanDecisions: humans.filter((r) => r.removed).length,
        aiOutputs: outputs.filter((r) => r.removed).length,
      };
      const entry = await this.audit.append(
        {
          actor: actor.name,
          actorKind: actor.kind,
          action: 'personal-data.erased',
          workflow: workflows.length === 1 ? workflows[0] : null,
          reason,
          details: { itemId, workflows, removed, alreadyRemoved, jobsSkipped: jobs.skip.length },
        },
        tx,
      );
      return { itemId, workflows, removed, alreadyRemoved, jobsSkipped: jobs.skip.length, auditId: String(entry.id) };
    });
  }

  /** AI outputs and the routing events that carried them, in the caller's transaction. */
  private async removeAiOutputs(tx: Tx, rows: StoredAiOutputText[], kept: (workflow: string) => string[], cause: RemovalCause): Promise<RemovalCounts> {
    const aiOutputs = await this.jobs.removeAiOutputs(
      tx,
      rows.map((r) => removeAiOutput(r, kept(r.workflow))),
      cause,
    );
    const events = await this.outbox.payloadsOfAiDecisions(
      tx,
      rows.map((r) => r.id),
    );
    const routingEvents = await this.outbox.removeFreeText(
      tx,
      events.map((e) => ({ id: e.id, payload: removeRoutingPayload(e.payload, kept(String(e.payload.workflow ?? ''))) })),
    );
    return { ...NO_REMOVALS, aiOutputs, routingEvents };
  }

  /** The decision fields any stored version of a workflow compares (its human decisions are compared with every version). */
  private keptFields(): (workflow: string) => string[] {
    const defs = new Map<string, Array<WorkflowVersion['definition']>>();
    for (const v of this.workflows.allVersions()) defs.set(v.workflow, [...(defs.get(v.workflow) ?? []), v.definition]);
    const kept = new Map([...defs].map(([workflow, ds]) => [workflow, keptDecisionFields(ds)]));
    return (workflow) => kept.get(workflow) ?? [];
  }
}
