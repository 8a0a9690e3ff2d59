import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ComparisonService } from '../comparison/comparison.service';
import { RollupAccumulator } from '../comparison/domain/rollup';
import { RollupRepository } from '../comparison/rollup.repository';
import { lockItems, Tx } from '../database/sql';
import { JOB_QUEUE, JobQueue } from '../inference/job-queue';
import { MetricsService } from '../metrics/metrics.service';
import { segmentKey } from '../workflows/domain/segment-key';
import { distinctSegments, hasNewSegments, isFull, planSegments, SegmentCap, SegmentPlan } from './domain/segment-cap';
import type { ActiveWorkflow } from '../workflows/domain/versions';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import type { z } from 'zod';
import { decodeMessage } from './domain/decode-message';
import { validateEvent, workDecisionEventSchema, workItemEventSchema } from './domain/work-events';
import { IngestRepository, NewHumanDecision, NewWorkItem } from './ingest.repository';
import { SEGMENT_REGISTRY, SegmentRegistry } from './segment-registry';

export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, unknown>;
}

export interface Refused {
  message: IncomingMessage;
  reason: string;
}

export interface BatchResult {
  stored: number;
  duplicates: number;
  refused: Refused[];
}

/**
 * Validates and stores one batch of messages from one topic in one transaction: work items
 * with their AI jobs, or human decisions with the comparisons they complete. What cannot be
 * stored is returned with its reason for the dead-letter topic.
 */
@Injectable()
export class IngestService {
  /** Each workflow's segments as last read from PostgreSQL (segments are never removed). */
  private readonly knownSegments = new Map<string, Set<string>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: IngestRepository,
    @Inject(JOB_QUEUE) private readonly jobQueue: JobQueue,
    @Inject(SEGMENT_REGISTRY) private readonly segments: SegmentRegistry,
    private readonly workflows: WorkflowRegistry,
    private readonly comparisons: ComparisonService,
    private readonly rollups: RollupRepository,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Whether the database answers a trivial query now (a failure that is not the data's tells an outage from a poison message). */
  databaseAnswers(): Promise<boolean> {
    return this.repo.databaseAnswers();
  }

  async handleBatch(topic: string, messages: IncomingMessage[]): Promise<BatchResult> {
    const { workItems, workDecisions } = this.config.kafka.topics;
    if (topic === workItems) return this.handleItems(messages);
    if (topic === workDecisions) return this.handleDecisions(messages);
    return { stored: 0, duplicates: 0, refused: messages.map((m) => ({ message: m, reason: `unexpected topic ${topic}` })) };
  }

  private async handleItems(messages: IncomingMessage[]): Promise<BatchResult> {
    const refused: Refused[] = [];
    const items: NewWorkItem[] = [];
    for (const m of messages) {
      const checked = this.accept(m, workItemEventSchema, 'work.items');
      if (!checked.ok) {
        refused.push({ message: m, reason: checked.reason });
        continue;
      }
      const { event: e, active } = checked;
      const seg = segmentKey(active.champion.definition.segmentBy, e.attributes);
      if (!seg.ok) {
        refused.push({ message: m, reason: seg.error });
        continue;
      }
      items.push({
        eventId: e.eventId,
        workflow: e.workflow,
        itemId: e.itemId,
        segment: seg.segment,
        attributes: e.attributes,
        input: e.input,
        occurredAt: e.occurredAt,
      });
    }
    await this.boundSegments(items);
    const versions: Record<string, number[]> = {};
    for (const w of new Set(items.map((i) => i.workflow))) {
      const a = this.workflows.activeOf(w)!;
      versions[w] = [a.champion.version, ...a.challengers.map((c) => c.version)];
    }
    let stored = 0;
    if (items.length > 0) {
      stored = await this.dataSource
        .transaction(async (tx) => {
          await lockItems(tx, items);
          await this.segments.ensure(tx, distinctSegments(items));
          const inserted = await this.repo.insertItems(tx, items);
          await this.jobQueue.enqueue(tx, inserted, versions);
          const acc = new RollupAccumulator();
          await this.comparisons.onItems(tx, inserted, acc);
          await this.rollups.write(tx, acc);
          return inserted;
        })
        .then((inserted) => {
          this.countOverflow(inserted);
          return inserted.length;
        });
      // The runner of this instance claims them at once instead of at its next poll.
      if (stored > 0) this.jobQueue.announce(stored);
    }
    this.count(this.config.kafka.topics.workItems, stored, items.length - stored, refused.length);
    return { stored, duplicates: items.length - stored, refused };
  }

  /**
   * Keeps each workflow within its segment bound: items of a value beyond it are stored in the
   * overflow segment (their attributes keep the value). Known segments are cached per instance; only
   * a batch with a new one takes the workflow's lock.
   */
  private async boundSegments(items: NewWorkItem[]): Promise<void> {
    const byWorkflow = new Map<string, NewWorkItem[]>();
    for (const i of items) byWorkflow.set(i.workflow, [...(byWorkflow.get(i.workflow) ?? []), i]);
    for (const [workflow, list] of byWorkflow) {
      const { rollout } = this.workflows.activeOf(workflow)!.champion.definition;
      const cap = { maxSegments: rollout.maxSegments, overflowSegment: rollout.overflowSegment };
      const keys = list.map((i) => i.segment);
      const cached = this.knownSegments.get(workflow) ?? new Set<string>();
      if (!hasNewSegments(keys, cached, cap)) continue;
      let plan: SegmentPlan;
      if (isFull(cached, cap)) {
        plan = planSegments(keys, cached, cap); // no room left: nothing to take a lock for
      } else {
        const registered = await this.dataSource.transaction((tx) => this.registerSegments(tx, workflow, keys, cap));
        this.knownSegments.set(workflow, registered.known);
        plan = registered.plan;
      }
      for (const i of list) i.segment = plan.segmentOf.get(i.segment)!;
    }
  }

  /**
   * Registers a workflow's new segments within its bound, one instance at a time: the known
   * segments are read under the workflow's lock, then what `planSegments` admits (and the overflow
   * segment, once something is pooled) is registered. Returns the plan and the known segments after it.
   */
  private async registerSegments(tx: Tx, workflow: string, keys: string[], cap: SegmentCap): Promise<{ plan: SegmentPlan; known: Set<string> }> {
    const known = await this.segments.lockAndList(tx, workflow);
    const plan = planSegments(keys, known, cap);
    await this.segments.ensure(
      tx,
      plan.register.map((segment) => ({ workflow, segment })),
    );
    for (const s of plan.register) known.add(s);
    return { plan, known };
  }

  /** Items stored (not redelivered copies) in their workflow's overflow segment. */
  private countOverflow(inserted: Array<{ workflow: string; segment: string }>): void {
    const byWorkflow = new Map<string, number>();
    for (const i of inserted) {
      if (i.segment !== this.workflows.activeOf(i.workflow)?.champion.definition.rollout.overflowSegment) continue;
      byWorkflow.set(i.workflow, (byWorkflow.get(i.workflow) ?? 0) + 1);
    }
    for (const [workflow, n] of byWorkflow) this.metrics.segmentOverflow.inc({ workflow }, n);
  }

  private async handleDecisions(messages: IncomingMessage[]): Promise<BatchResult> {
    const refused: Refused[] = [];
    const decisions: NewHumanDecision[] = [];
    for (const m of messages) {
      const checked = this.accept(m, workDecisionEventSchema, 'work.decisions');
      if (!checked.ok) {
        refused.push({ message: m, reason: checked.reason });
        continue;
      }
      const { event: e, active } = checked;
      const missing = Object.keys(active.champion.definition.comparator.fields).filter((f) => !(f in e.decision));
      if (missing.length > 0) {
        refused.push({
          message: m,
          reason: `decision.${missing[0]} is required: ${e.workflow} compares ${Object.keys(active.champion.definition.comparator.fields).join(', ')}`,
        });
        continue;
      }
      decisions.push({
        eventId: e.eventId,
        workflow: e.workflow,
        itemId: e.itemId,
        decision: e.decision,
        actor: e.actor,
        kind: e.kind,
        aiDecisionId: e.aiDecisionId === undefined ? null : String(e.aiDecisionId),
        verdict: e.verdict ?? null,
        decidedAt: e.decidedAt,
      });
    }
    let stored = 0;
    if (decisions.length > 0) {
      stored = await this.dataSource.transaction(async (tx) => {
        await lockItems(tx, decisions);
        const inserted = await this.repo.insertDecisions(tx, decisions);
        const acc = new RollupAccumulator();
        await this.comparisons.onHumanDecisions(tx, inserted, acc);
        await this.rollups.write(tx, acc);
        return inserted.length;
      });
    }
    this.count(this.config.kafka.topics.workDecisions, stored, decisions.length - stored, refused.length);
    return { stored, duplicates: decisions.length - stored, refused };
  }

  /** Decodes a message, validates it as an event of its topic, and finds its workflow; or says why not. */
  private accept<T extends { workflow: string }>(
    m: IncomingMessage,
    schema: z.ZodType<T>,
    name: string,
  ): { ok: true; event: T; active: ActiveWorkflow } | { ok: false; reason: string } {
    const decoded = decodeMessage(m.value, this.config.kafka.maxMessageBytes);
    if (!decoded.ok) return decoded;
    const v = validateEvent(schema, decoded.value, name);
    if (!v.ok) return v;
    if (v.ignoredFields.length > 0) this.metrics.unknownFields.inc({ topic: m.topic });
    const active = this.workflows.activeOf(v.event.workflow);
    if (!active) return { ok: false, reason: `unknown workflow "${v.event.workflow}"` };
    return { ok: true, event: v.event, active };
  }

  private count(topic: string, stored: number, duplicates: number, refused: number): void {
    if (stored) this.metrics.eventsIn.inc({ topic, outcome: 'stored' }, stored);
    if (duplicates) this.metrics.eventsIn.inc({ topic, outcome: 'duplicate' }, duplicates);
    if (refused) this.metrics.eventsIn.inc({ topic, outcome: 'dlq' }, refused);
  }
}
