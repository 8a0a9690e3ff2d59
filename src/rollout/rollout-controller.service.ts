import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AuditRepository } from '../audit/audit.repository';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Clock, CLOCK } from '../common/clock';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { stageIndex } from '../flags/domain/stage';
import type { FlagGateway } from '../flags/flag-gateway';
import { workflowFlagName } from '../flags/flag-gateway';
import { FLAG_GATEWAY } from '../flags/flags.module';
import { BudgetService } from '../inference/budget.service';
import { MetricsService } from '../metrics/metrics.service';
import { SegmentStateCache } from '../routing/segment-state.cache';
import type { ActiveWorkflow } from '../workflows/workflow-registry.service';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { AlertService } from './alert.service';
import { ControllerStatusRepository } from './controller-status.repository';
import { crossSegmentControl, promotionCandidate } from './domain/cross-segment';
import { detectOperatorChanges } from './domain/reconcile';
import { adoptOperatorChange, adoptWorkflowChange, CycleDecision, decideCycle, OPERATOR, SegmentFacts } from './domain/segment-machine';
import { describeSplit } from './domain/steps';
import { FlagSnapshotRepository } from './flag-snapshot.repository';
import { LeaderService } from './leader.service';
import { OwedFlagWrite, SegmentDecisions } from './segment-decisions';
import { SegmentRepository, SegmentState } from './segment.repository';

const UNREACHABLE = Symbol('unleash unreachable');
/** The controller waits this long for a row a person's action holds, and gives up the cycle for that workflow. */
const CONTROLLER_LOCK_TIMEOUT_MS = 5_000;
const CONTROLLER_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * The rollout controller. On the leader only, every CONTROLLER_INTERVAL_MS: reads the flags back
 * from Unleash and adopts what operators changed there; then, per segment, loads its facts, lets
 * the segment's state machine decide (domain/segment-machine.ts: threshold, guard, revert, gate,
 * promotion) and applies the decision — Unleash, the row, the audit log and alerts — once.
 */
@Injectable()
export class RolloutController implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private setupDone = false;
  private readonly ensured = new Set<string>();
  private killSwitchOn = false;
  private readonly log: Logger;
  skippedCycles = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly leader: LeaderService,
    private readonly status: ControllerStatusRepository,
    private readonly segments: SegmentRepository,
    private readonly snapshots: FlagSnapshotRepository,
    private readonly decisions: SegmentDecisions,
    private readonly workflows: WorkflowRegistry,
    private readonly budget: BudgetService,
    private readonly audit: AuditRepository,
    private readonly alerts: AlertService,
    private readonly segmentCache: SegmentStateCache,
    private readonly metrics: MetricsService,
    @Inject(FLAG_GATEWAY) private readonly flags: FlagGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'controller' });
  }

  onApplicationBootstrap(): void {
    if (!this.config.controller.enabled) return;
    this.timer = setInterval(() => void this.tick(), this.config.controller.intervalMs);
    setTimeout(() => void this.tick(), 200).unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One scheduled run: skipped while the previous one still runs, and on any instance but the leader. */
  async tick(): Promise<void> {
    if (this.running) {
      this.skippedCycles++;
      this.log.debug('previous controller cycle still running; this one is skipped');
      return;
    }
    this.running = true;
    const started = performance.now();
    try {
      if (!(await this.leader.tryLead())) return;
      await this.cycle();
      await this.recordStatus(Math.round(performance.now() - started), null);
    } catch (e) {
      this.log.error({ err: errorMessage(e) }, 'controller cycle failed');
      await this.recordStatus(Math.round(performance.now() - started), errorMessage(e)).catch(() => undefined);
    } finally {
      this.metrics.controllerCycle.observe((performance.now() - started) / 1000);
      this.running = false;
    }
  }

  async cycle(): Promise<void> {
    if (!this.setupDone) {
      // Unleash may be down: the cycle goes on from PostgreSQL (guard, reverts) and sets up later.
      this.setupDone = await this.unleash('setting up the flags', () => this.flags.ensureSetup()).then((r) => r !== UNREACHABLE);
    }
    await this.reconcileKillSwitch();
    for (const active of this.workflows.activeWorkflows()) {
      try {
        await this.cycleWorkflow(active);
      } catch (e) {
        this.log.error({ err: errorMessage(e), workflow: active.champion.workflow }, 'controller cycle failed for a workflow');
      }
    }
    this.segmentCache.invalidate();
  }

  /** Calls Unleash; a failure is logged and returned as UNREACHABLE, never thrown. */
  private async unleash<T>(what: string, fn: () => Promise<T>): Promise<T | typeof UNREACHABLE> {
    try {
      return await fn();
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, `${what} failed: Unleash did not answer; the controller goes on from PostgreSQL`);
      return UNREACHABLE;
    }
  }

  /**
   * The kill switch: a write owed to Unleash (set through the API while Unleash was down) is made
   * first; then an operator's change in Unleash is adopted — unless the stored state changed after
   * the flag was read. The stored state is in force either way (routing reads it).
   */
  private async reconcileKillSwitch(): Promise<void> {
    const flagName = this.config.unleash.killSwitchFlag;
    const owed = await this.snapshots.get(this.dataSource.manager, flagName);
    if (owed?.pending) {
      const written = await this.unleash('writing the kill switch', () => this.flags.setKillSwitch(owed.enabled));
      if (written !== UNREACHABLE) await this.dataSource.transaction((tx) => this.snapshots.confirmWritten(tx, flagName, owed.enabled, this.clock.now()));
    }
    const readAt = this.clock.now();
    const live = await this.unleash('reading the kill switch', () => this.flags.readKillSwitch());
    await this.dataSource.transaction(async (tx) => {
      const known = await this.snapshots.get(tx, flagName);
      this.killSwitchOn = (known?.enabled ?? false) || live === true;
      if (live === UNREACHABLE || known?.pending || (known?.writtenAt && new Date(known.writtenAt) >= readAt)) return;
      if (known && known.enabled !== live) {
        await this.audit.append(
          {
            actor: OPERATOR.name,
            actorKind: OPERATOR.kind,
            action: 'kill-switch.changed',
            reason: `kill switch turned ${live ? 'ON' : 'off'} in Unleash by an operator`,
            details: { flag: flagName, before: known.enabled, after: live },
          },
          tx,
        );
        await this.alerts.raise(tx, { kind: 'kill-switch.changed', summary: `Kill switch ${live ? 'ON: nothing leaves Understudy' : 'off'}`, details: { before: known.enabled, after: live, by: 'operator' } });
      }
      if (!known || known.enabled !== live) await this.snapshots.set(tx, flagName, { enabled: live });
      this.killSwitchOn = live;
    });
    this.alerts.committed();
  }

  private async cycleWorkflow(active: ActiveWorkflow): Promise<void> {
    const champion = active.champion;
    const workflow = champion.workflow;
    if (!this.ensured.has(workflow) && (await this.unleash('creating the workflow flag', () => this.flags.ensureWorkflowFlag(workflow))) !== UNREACHABLE) {
      this.ensured.add(workflow);
    }
    // Writes owed to Unleash (moves made while it did not answer) go first, so the flag read below shows them.
    for (const s of await this.segments.owingFlagWrites(workflow)) {
      await this.decisions.writeFlag({ workflow, segment: s.segment, split: { stage: s.flagSplit!.stage, trafficPct: s.flagSplit!.trafficPct }, before: null });
    }
    // Unleash is read before any row is locked: people's actions never wait behind a call to it.
    const readAt = this.clock.now();
    const read = await this.unleash('reading the workflow flag', () => this.flags.readWorkflowFlag(workflow));
    const live = read === UNREACHABLE ? null : read;
    const owed: OwedFlagWrite[] = [];
    await this.dataSource.transaction(async (tx) => {
      await this.segments.limitWaits(tx, CONTROLLER_LOCK_TIMEOUT_MS, CONTROLLER_STATEMENT_TIMEOUT_MS);
      const locked = await this.segments.lockWorkflow(tx, workflow);
      if (live) {
        const flagName = workflowFlagName(workflow);
        const known = await this.snapshots.get(tx, flagName);
        const changes = detectOperatorChanges(live, known?.enabled ?? null, locked.map((s) => ({ segment: s.segment, flagSplit: s.flagSplit, state: { stage: s.stage, trafficPct: s.trafficPct } })), readAt);
        // An operator's change in Unleash becomes the segment's state: recorded, never overwritten.
        for (const c of changes) {
          if (c.kind === 'workflow-enabled') {
            await this.decisions.apply(tx, { workflow, segment: null }, adoptWorkflowChange(workflow, c));
          } else {
            const s = locked.find((x) => x.segment === c.segment)!;
            const d = adoptOperatorChange(s, c, await this.decisions.facts(tx, champion, s, this.clock.now()));
            const w = await this.decisions.apply(tx, s, d.effects);
            if (w) owed.push(w);
          }
        }
        if (!known || known.enabled !== live.enabled) await this.snapshots.set(tx, flagName, { enabled: live.enabled });
      }
      const liveSegments = new Set((live?.segments ?? []).map((s) => s.segment));
      const budget = await this.budget.healthy(champion.definition);
      const rollout = champion.definition.rollout;
      const looks: Array<{ s: SegmentState; facts: SegmentFacts }> = [];
      for (const s of await this.segments.list(workflow, tx)) looks.push({ s, facts: await this.decisions.facts(tx, champion, s, this.clock.now()) });
      // With e-BH, each segment's promotion also depends on the evidence of its peers, judged together.
      const cross =
        rollout.falsePromotionControl === 'e-bh'
          ? crossSegmentControl(looks.flatMap(({ s, facts }) => promotionCandidate(s, { n: facts.stepEvidence.blindN, agree: facts.stepEvidence.blindAgree }, rollout) ?? []), rollout)
          : null;
      for (const { s, facts } of looks) {
        const d = decideCycle(s, facts, { live, hasStrategy: liveSegments.has(s.segment), killSwitchOn: this.killSwitchOn, budget, crossSegment: cross?.get(s.segment) ?? null });
        const w = await this.decisions.apply(tx, s, d.effects);
        if (w) owed.push(w);
        this.observe(d, facts);
      }
    });
    this.alerts.committed();
    this.segmentCache.invalidate();
    // The stored stages are in force; Unleash catches up (or the writes stay owed until it answers).
    for (const w of owed) await this.decisions.writeFlag(w);
  }

  private observe(d: CycleDecision, f: SegmentFacts): void {
    const { workflow, segment, stage, trafficPct } = d.state;
    this.metrics.stage.set({ workflow, segment }, stageIndex(stage));
    this.metrics.trafficPct.set({ workflow, segment }, stage === 'shadow' ? 100 : trafficPct);
    if (d.evaluation && f.stepEvidence.blindN > 0) this.metrics.agreement.set({ workflow, segment }, f.stepEvidence.blindAgree / f.stepEvidence.blindN);
    if (d.effects.rereview) {
      this.log.warn({ workflow, segment, to: describeSplit(d.state), rereviewFrom: d.effects.rereview.from }, 'segment reverted by the regression guard');
    }
  }

  private async recordStatus(ms: number, error: string | null): Promise<void> {
    await this.status.recordCycle(this.config.instanceId, this.leader.leaderSince, ms, error);
  }
}
