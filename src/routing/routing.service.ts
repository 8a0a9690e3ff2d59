import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Clock, CLOCK } from '../common/clock';
import type { RollupAccumulator } from '../comparison/domain/rollup';
import type { Tx } from '../database/sql';
import type { FlagReader } from '../flags/flag-reader';
import { FLAG_READER } from '../flags/flags.module';
import type { RoutableDecision, RoutingPlan, RoutingPlanner } from '../inference/routing-planner';
import { MetricsService } from '../metrics/metrics.service';
import { DirectOutboxRow, OutboxRelay } from '../outbox/outbox.relay';
import { OutboxRepository } from '../outbox/outbox.repository';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import type { RolloutConfig } from '../workflows/domain/workflow-definition';
import { raisedShare } from './domain/blind-share';
import { conservativeStage, decideRoute, Route, stableDraw, storedStageFor } from './domain/decide-route';
import { RoutingRepository } from './routing.repository';
import { SegmentStateCache } from './segment-state.cache';

/** The event published on ai.routing (documented in the README). */
export interface RoutingEvent {
  eventId: string;
  itemId: string;
  workflow: string;
  segment: string;
  stage: string | null;
  action: string;
  /** The AI's decision; null for audit and double-label, which people must decide blind. */
  decision: Record<string, unknown> | null;
  confidence: number | null;
  threshold: number | null;
  /** The share of the stage's items drawn for a blind label (audit) when this one was routed: raised after a drift alarm; null outside supervised and confidence-routed. */
  blindShare: number | null;
  aiDecisionId: string;
  model: string;
  promptVersion: string;
  workflowVersion: number;
  reason: string;
  routedAt: string;
}

/**
 * Decides, for each new champion decision, what leaves Understudy, and writes the routing row
 * (RoutingRepository) and — when something leaves — the outbox row (OutboxRepository) in the same
 * transaction as the decision.
 */
@Injectable()
export class RoutingService implements RoutingPlanner {
  constructor(
    @Inject(FLAG_READER) private readonly flags: FlagReader,
    private readonly segments: SegmentStateCache,
    private readonly repo: RoutingRepository,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    private readonly workflows: WorkflowRegistry,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async plan(tx: Tx, decisions: RoutableDecision[], acc: RollupAccumulator): Promise<RoutingPlan> {
    const routed = new Map<string, { action: string; stage: string | null; threshold: number | null }>();
    if (decisions.length === 0) return { routes: routed, committed: () => undefined };
    const now = this.clock.now();
    // The kill switch holds if either Unleash or PostgreSQL says so.
    const killSwitch = this.flags.killSwitch() || (await this.segments.killSwitch());
    const routes: Array<{ d: RoutableDecision; route: Route; threshold: number | null; blindShare: number | null }> = [];
    for (const d of decisions) {
      const def = this.workflows.version(d.workflow, d.version)?.definition;
      const seg = await this.segments.get(d.workflow, d.segment);
      const route = decideRoute({
        flag: conservativeStage(this.flags.stageFor(d.workflow, d.segment, d.itemId), storedStageFor(seg, d.version)),
        killSwitch,
        valid: d.valid,
        confidence: d.confidence,
        threshold: seg.threshold,
        // A drift alarm raises the segment's blind share (rollout/domain/drift-watch.ts).
        auditShare: raisedShare(def?.rollout.auditShare ?? 0.05, seg.auditFactor, def?.rollout.monitors.auditCap ?? 1),
        supervisedBlindShare: raisedShare(def?.rollout.supervisedBlindShare ?? 0.1, seg.auditFactor, def?.rollout.monitors.auditCap ?? 1),
        doubleLabelShare: def?.rollout.doubleLabelShare ?? 0,
        stale: this.config.routing.maxDelayMs > 0 && now.getTime() - d.receivedAt.getTime() > this.config.routing.maxDelayMs,
        auditDraw: stableDraw(d.itemId, `audit:${d.workflow}`),
        doubleLabelDraw: stableDraw(d.itemId, `double-label:${d.workflow}`),
      });
      routes.push({ d, route, threshold: seg.threshold, blindShare: blindShareOf(route.stage, def?.rollout, seg.auditFactor) });
      routed.set(d.aiDecisionId, { action: route.action, stage: route.stage, threshold: seg.threshold });
      acc.addRouted({ workflow: d.workflow, segment: d.segment, version: d.version, at: now, action: route.action });
      this.metrics.routed.inc({ workflow: d.workflow, segment: d.segment, action: route.action });
    }
    const topic = this.config.kafka.topics.routing;
    const outgoing = routes.filter((r) => r.route.action !== 'none');
    const events: RoutingEvent[] = outgoing.map(({ d, route, threshold, blindShare }) => ({
      eventId: `routing-${d.aiDecisionId}`,
      itemId: d.itemId,
      workflow: d.workflow,
      segment: d.segment,
      stage: route.stage,
      action: route.action,
      decision: route.action === 'audit' || route.action === 'double-label' ? null : d.decision,
      confidence: d.confidence,
      threshold,
      blindShare,
      aiDecisionId: d.aiDecisionId,
      model: d.model,
      promptVersion: d.promptVersion,
      workflowVersion: d.version,
      reason: route.reason,
      routedAt: now.toISOString(),
    }));
    await this.repo.insertDecisions(
      tx,
      routes.map(({ d, route, threshold }) => ({
        aiDecisionId: d.aiDecisionId,
        workflow: d.workflow,
        itemId: d.itemId,
        segment: d.segment,
        stage: route.stage,
        action: route.action,
        reason: route.reason,
        threshold,
        confidence: d.confidence,
      })),
    );
    // Where this instance runs the relay, it publishes the rows itself right after the commit.
    const relayInstance = this.config.roles.relay ? this.config.instanceId : null;
    const ids = await this.outbox.enqueue(
      tx,
      events.map((e) => ({ topic, key: e.itemId, payload: e })),
      relayInstance,
    );
    if (relayInstance === null || ids.length === 0) return { routes: routed, committed: () => undefined };
    const rows: DirectOutboxRow[] = ids.map((id, i) => ({ id, topic, key: events[i].itemId, value: JSON.stringify(events[i]) }));
    // Once the batch commits, its rows go to the relay, which publishes them at once — no poll, no
    // second read of rows just written. Shadow batches write none.
    return { routes: routed, committed: () => this.relay.committed(rows) };
  }
}

/** The blind share in force for an item routed under `stage`. */
function blindShareOf(stage: string | null, rollout: RolloutConfig | undefined, factor: number | null): number | null {
  if (!rollout) return null;
  if (stage === 'confidence-routed') return raisedShare(rollout.auditShare, factor, rollout.monitors.auditCap);
  if (stage === 'supervised') return raisedShare(rollout.supervisedBlindShare, factor, rollout.monitors.auditCap);
  return null;
}
