import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AuditRepository } from '../audit/audit.repository';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Clock, CLOCK } from '../common/clock';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import type { Tx } from '../database/sql';
import type { SegmentSplit } from '../flags/domain/segment-split';
import { stageIndex } from '../flags/domain/stage';
import type { FlagGateway, WorkflowFlagState } from '../flags/flag-gateway';
import { workflowFlagName } from '../flags/flag-gateway';
import { FLAG_GATEWAY } from '../flags/flags.module';
import { BudgetService } from '../inference/budget.service';
import { MetricsService } from '../metrics/metrics.service';
import { SegmentStateCache } from '../routing/segment-state.cache';
import { recommendThreshold, updateGuard, GuardUpdate, initialGuardState } from '../stats/domain';
import type { ActiveWorkflow } from '../workflows/workflow-registry.service';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { AlertService } from './alert.service';
import { evaluateStep } from './domain/evaluate-segment';
import { FlagChange, detectOperatorChanges } from './domain/reconcile';
import { SegmentCounts, since, ZERO_COUNTS } from './domain/segment-counts';
import { describeSplit, revertTarget, sameSplit } from './domain/steps';
import { FlagSnapshotRepository } from './flag-snapshot.repository';
import { LeaderService } from './leader.service';
import { SegmentRepository, SegmentState } from './segment.repository';
import { Actor, SegmentTransitions } from './segment-transitions';

const CONTROLLER: Actor = { name: 'controller', kind: 'controller' };
const OPERATOR: Actor = { name: 'unleash', kind: 'operator' };
const THRESHOLD_MIN_CHANGE_MS = 5 * 60_000;
const THRESHOLD_REGAIN_MS = 60_000;

/**
 * The rollout controller. On the leader only, every CONTROLLER_INTERVAL_MS: reads the flags back
 * from Unleash and adopts what operators changed there; then, per segment, runs the regression
 * guard (revert on a breach) and the promotion gate (one step up when it holds), keeps the
 * confidence threshold current, and writes every move to Unleash and the audit log.
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
    private readonly segments: SegmentRepository,
    private readonly snapshots: FlagSnapshotRepository,
    private readonly transitions: SegmentTransitions,
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
      await this.flags.ensureSetup();
      this.setupDone = true;
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

  private async reconcileKillSwitch(): Promise<void> {
    const live = await this.flags.readKillSwitch();
    const flagName = this.config.unleash.killSwitchFlag;
    await this.dataSource.transaction(async (tx) => {
      const known = await this.snapshots.get(tx, flagName);
      if (known && known.enabled !== live) {
        await this.audit.append(
          {
            ...actorOf(OPERATOR),
            action: 'kill-switch.changed',
            reason: `kill switch turned ${live ? 'ON' : 'off'} in Unleash by an operator`,
            details: { flag: flagName, before: known.enabled, after: live },
          },
          tx,
        );
        await this.alerts.raise(tx, { kind: 'kill-switch.changed', summary: `Kill switch ${live ? 'ON: nothing leaves Understudy' : 'off'}`, details: { before: known.enabled, after: live, by: 'operator' } });
      }
      if (!known || known.enabled !== live) await this.snapshots.set(tx, flagName, { enabled: live });
    });
    this.alerts.committed();
    this.killSwitchOn = live;
  }

  private async cycleWorkflow(active: ActiveWorkflow): Promise<void> {
    const workflow = active.champion.workflow;
    if (!this.ensured.has(workflow)) {
      await this.flags.ensureWorkflowFlag(workflow);
      this.ensured.add(workflow);
    }
    await this.dataSource.transaction(async (tx) => {
      const locked = await this.segments.lockWorkflow(tx, workflow);
      const live = await this.flags.readWorkflowFlag(workflow);
      const flagName = workflowFlagName(workflow);
      const known = await this.snapshots.get(tx, flagName);
      const changes = detectOperatorChanges(live, known?.enabled ?? null, locked.map((s) => ({ segment: s.segment, flagSplit: s.flagSplit, state: { stage: s.stage, trafficPct: s.trafficPct } })));
      for (const c of changes) await this.adopt(tx, active, locked, c);
      if (!known || known.enabled !== live.enabled) await this.snapshots.set(tx, flagName, { enabled: live.enabled });
      const liveSegments = new Set(live.segments.map((s) => s.segment));
      for (const s of await this.segments.list(workflow, tx)) {
        await this.evaluate(tx, active, s, live, liveSegments.has(s.segment));
      }
    });
    this.alerts.committed();
  }

  /** An operator changed the flag in Unleash: record it and make it the segment's state — never overwrite it. */
  private async adopt(tx: Tx, active: ActiveWorkflow, segments: SegmentState[], c: FlagChange): Promise<void> {
    const workflow = active.champion.workflow;
    if (c.kind === 'workflow-enabled') {
      const reason = c.after
        ? `workflow flag enabled in Unleash by an operator: the rollout resumes`
        : `workflow flag disabled in Unleash by an operator: every item goes to humans only`;
      await this.audit.append({ ...actorOf(OPERATOR), action: 'flag.operator-change', workflow, reason, details: { change: c } }, tx);
      await this.alerts.raise(tx, { kind: 'flag.operator-change', workflow, summary: reason, details: { change: c } });
      return;
    }
    const s = segments.find((x) => x.segment === c.segment)!;
    const after: SegmentSplit = c.kind === 'segment-split' ? c.after : { stage: 'shadow', trafficPct: 100 };
    const what =
      c.kind === 'segment-removed'
        ? `the strategy of segment ${c.segment} was removed in Unleash (its items fall back to shadow)`
        : `segment ${c.segment} set to ${describeSplit(c.after)} in Unleash${c.irregular ? ` (irregular: ${c.irregular})` : ''}`;
    const reason = `operator change adopted: ${what}; promotion is held until a person resumes`;
    if (c.kind === 'segment-removed') {
      // Writing shadow back gives the same routing as the fallback the operator left; it keeps the
      // contract (one strategy per segment) without undoing anything.
      await this.transitions.moveTo(tx, active.champion, s, after, {
        actor: OPERATOR,
        action: 'flag.operator-change',
        reason,
        details: { change: c },
        pause: { kind: 'operator', reason },
      });
    } else {
      const now = this.clock.now();
      const stageChanged = s.stage !== after.stage;
      const rangeStart = stageChanged ? now : new Date(s.stageStartedAt);
      const totals = await this.segments.totals(workflow, s.segment, active.champion.version, rangeStart, tx);
      await this.segments.update(tx, workflow, s.segment, {
        stage: after.stage,
        trafficPct: after.stage === 'shadow' ? 100 : after.trafficPct,
        // The irregularity is remembered with the split, so the same operator change is adopted once.
        flagSplit: c.kind === 'segment-split' && c.irregular ? { ...after, irregular: c.irregular } : after,
        stepStartedAt: now,
        lastVerdict: null,
        ...(stageChanged ? { stageStartedAt: now, guardParams: after.stage === 'shadow' ? null : s.guardParams } : {}),
        stepBase: { ...totals, rangeStart: rangeStart.toISOString() },
        guardState: { ...initialGuardState(), totalsN: totals.guardN, totalsAgree: totals.guardAgree },
        guardWindowStartedAt: null,
        pendingStep: null,
        approvedStep: null,
        paused: true,
        pauseKind: 'operator',
        pauseReason: reason,
        pausedAt: now,
        pausedBy: OPERATOR.name,
      });
      await this.audit.append({ ...actorOf(OPERATOR), action: 'flag.operator-change', workflow, segment: s.segment, reason, details: { change: c } }, tx);
    }
    await this.alerts.raise(tx, { kind: 'flag.operator-change', workflow, segment: c.segment, summary: reason, details: { change: c } });
  }

  private async evaluate(tx: Tx, active: ActiveWorkflow, s: SegmentState, live: WorkflowFlagState, hasStrategy: boolean): Promise<void> {
    const champion = active.champion;
    const def = champion.definition;
    const workflow = s.workflow;
    const now = this.clock.now();
    const current: SegmentSplit = { stage: s.stage, trafficPct: s.trafficPct };

    if (!hasStrategy && live.exists) {
      // A segment seen for the first time: it gets its strategy (shadow) so ops see it in Unleash.
      await this.flags.writeSegmentSplit(workflow, s.segment, current);
      await this.segments.update(tx, workflow, s.segment, { flagSplit: current });
      await this.audit.append(
        { ...actorOf(CONTROLLER), action: s.flagSplit ? 'flag.written' : 'segment.discovered', workflow, segment: s.segment, reason: `strategy written: ${describeSplit(current)}`, details: { split: current } },
        tx,
      );
    }

    const rangeStart = new Date(s.stageStartedAt);
    const totals = await this.segments.totals(workflow, s.segment, champion.version, rangeStart, tx);
    const stepBase = s.stepBase && s.stepBase.rangeStart === rangeStart.toISOString() ? s.stepBase : null;
    const step = since(totals, stepBase);
    const threshold = await this.refreshThreshold(tx, active, s, now);

    const patch: Partial<SegmentState> = { lastEvaluatedAt: now };
    // A segment's first step counts from the start of its range.
    if (!stepBase) patch.stepBase = { ...ZERO_COUNTS, rangeStart: rangeStart.toISOString() };

    // The regression guard: the live stage against its baseline, on the evidence since the last look.
    if (s.stage !== 'shadow' && s.guardParams && !(s.paused && s.pauseKind === 'guard')) {
      const gs = s.guardState ?? { ...initialGuardState(), totalsN: 0, totalsAgree: 0 };
      const batch = { n: totals.guardN - gs.totalsN, agree: totals.guardAgree - gs.totalsAgree };
      if (batch.n > 0 && batch.agree >= 0 && batch.agree <= batch.n) {
        const update = updateGuard(gs, batch, s.guardParams);
        let windowStartedAt = s.guardWindowStartedAt;
        if (gs.s === 0 && update.state.s > 0) windowStartedAt = s.lastEvaluatedAt ?? rangeStart;
        if (update.state.s === 0) windowStartedAt = null;
        if (update.breached) {
          await this.revert(tx, active, s, update, windowStartedAt ?? rangeStart, totals);
          return;
        }
        patch.guardState = { ...update.state, totalsN: totals.guardN, totalsAgree: totals.guardAgree };
        patch.guardWindowStartedAt = windowStartedAt;
      }
    }

    const budget = await this.budget.healthy(def);
    const ev = evaluateStep({
      current,
      step,
      dwellMs: now.getTime() - new Date(s.stepStartedAt).getTime(),
      rollout: def.rollout,
      budgetOk: budget.ok,
      approvedStep: s.approvedStep,
      threshold,
    });
    const holdReason = s.paused
      ? `paused (${s.pauseKind}) by ${s.pausedBy}: ${s.pauseReason}`
      : !live.enabled
        ? 'the workflow flag is disabled in Unleash: humans only'
        : this.killSwitchOn
          ? 'the kill switch is on'
          : null;
    patch.lastVerdict = { ...(ev.gate ?? {}), verdict: ev.verdict, target: ev.target, approvalRequired: ev.approvalRequired, holdReason, evaluatedAt: now.toISOString(), counts: step, budget };
    this.metrics.stage.set({ workflow, segment: s.segment }, stageIndex(s.stage));
    this.metrics.trafficPct.set({ workflow, segment: s.segment }, s.stage === 'shadow' ? 100 : s.trafficPct);
    if (step.n > 0) this.metrics.agreement.set({ workflow, segment: s.segment }, step.agree / step.n);

    if (!holdReason && ev.target && ev.verdict === 'pass') {
      await this.segments.update(tx, workflow, s.segment, patch);
      await this.transitions.moveTo(tx, champion, s, ev.target, {
        actor: CONTROLLER,
        action: 'stage.promoted',
        reason: ev.gate?.summary ?? 'gate passed',
        details: { gate: ev.gate, counts: step, approvedBy: s.approvedStep ? 'program manager' : null },
        evidence: step,
      });
      return;
    }
    if (!holdReason && ev.target && ev.verdict === 'awaiting-approval' && !sameSplit(s.pendingStep, ev.target)) {
      patch.pendingStep = ev.target;
      await this.audit.append(
        {
          ...actorOf(CONTROLLER),
          action: 'segment.awaiting-approval',
          workflow,
          segment: s.segment,
          reason: `gate holds for ${describeSplit(ev.target)}; a program manager's approval is required`,
          details: { gate: ev.gate, counts: step },
        },
        tx,
      );
    }
    await this.segments.update(tx, workflow, s.segment, patch);
  }

  private async revert(tx: Tx, active: ActiveWorkflow, s: SegmentState, g: GuardUpdate, windowStart: Date, totals: SegmentCounts): Promise<void> {
    const def = active.champion.definition;
    const from: SegmentSplit = { stage: s.stage, trafficPct: s.trafficPct };
    const to = revertTarget(from, def.rollout.revert);
    const rate = g.window.rate === null ? 'n/a' : g.window.rate.toFixed(3);
    const reason =
      `regression guard breached: agreement ${rate} over the last ${g.window.n} comparisons against a baseline of ` +
      `${g.baseline.toFixed(3)} (CUSUM ${g.statistic.toFixed(2)} ≥ ${g.threshold.toFixed(2)}); reverted to ${describeSplit(to)} and locked until a person resumes`;
    const numbers = { statistic: g.statistic, threshold: g.threshold, baseline: g.baseline, alternative: g.alternative, window: g.window, windowStartedAt: windowStart.toISOString(), stageTotals: totals, stageBaseline: s.baseline };
    const auditId = await this.transitions.moveTo(tx, active.champion, s, to, {
      actor: CONTROLLER,
      action: 'stage.reverted',
      reason,
      details: { guard: numbers },
      pause: { kind: 'guard', reason },
    });
    // Reverting the flag does not undo what the AI already decided on its own: those go to people.
    const rereview = await this.segments.listForRereview(tx, s.workflow, s.segment, windowStart, auditId);
    if (to.stage !== 'shadow' && s.guardParams) await this.segments.update(tx, s.workflow, s.segment, { guardParams: s.guardParams, baseline: s.baseline });
    await this.alerts.raise(tx, {
      kind: 'stage.reverted',
      workflow: s.workflow,
      segment: s.segment,
      summary: `${s.workflow} / ${s.segment}: ${reason}`,
      details: { from, to, guard: numbers, rereviewItems: rereview, auditId },
    });
    this.log.warn({ workflow: s.workflow, segment: s.segment, from: describeSplit(from), to: describeSplit(to), rereview }, 'segment reverted by the regression guard');
  }

  /**
   * Keeps the computed threshold current (a fixed one is left alone) and returns the one in force.
   * The first certification and losing one apply at once; regaining one waits THRESHOLD_REGAIN_MS and
   * moving a certified threshold THRESHOLD_MIN_CHANGE_MS, so noise at the edge does not flap it.
   */
  private async refreshThreshold(tx: Tx, active: ActiveWorkflow, s: SegmentState, now: Date): Promise<number | null> {
    if (s.thresholdSource === 'fixed') return s.threshold;
    const r = active.champion.definition.rollout;
    const bins = await this.segments.confidenceBins(s.workflow, s.segment, active.champion.version, new Date(now.getTime() - r.thresholdWindowDays * 86_400_000));
    const rec = recommendThreshold({ n: bins.n, correct: bins.correct, target: r.accuracyTarget, delta: r.delta, minCount: r.minLabelsPerThreshold });
    const value = rec.status === 'certified' ? rec.threshold : null;
    const details = { ...rec, tested: rec.tested.slice(0, 20) } as unknown as Record<string, unknown>;
    const last = s.thresholdUpdatedAt ? new Date(s.thresholdUpdatedAt).getTime() : 0;
    // Losing the certification applies at once (safety); regaining it right after a loss waits a
    // minute, so a segment at the edge does not flap in and out every cycle.
    const sinceLast = now.getTime() - last;
    const mayMove =
      value === null ||
      (s.threshold === null ? last === 0 || sinceLast >= THRESHOLD_REGAIN_MS : sinceLast >= THRESHOLD_MIN_CHANGE_MS);
    if (value !== s.threshold && mayMove) {
      await this.segments.update(tx, s.workflow, s.segment, { threshold: value, thresholdSource: value === null ? 'none' : 'computed', thresholdDetails: details, thresholdUpdatedAt: now });
      await this.audit.append(
        {
          ...actorOf(CONTROLLER),
          action: 'threshold.changed',
          workflow: s.workflow,
          segment: s.segment,
          reason: rec.reason,
          details: { before: s.threshold, after: value, coverage: rec.coverage, accuracyAbove: rec.accuracyAbove, accuracyLower: rec.accuracyLower, nAbove: rec.nAbove, n: rec.n, target: rec.target, delta: rec.delta },
        },
        tx,
      );
      return value;
    }
    await this.segments.update(tx, s.workflow, s.segment, { thresholdDetails: details });
    return s.threshold;
  }

  private async recordStatus(ms: number, error: string | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE controller_status SET leader = $1, leader_since = $2, last_cycle_at = now(), last_cycle_ms = $3, last_error = $4, cycles = cycles + 1 WHERE id = 1`,
      [this.config.instanceId, this.leader.leaderSince, ms, error],
    );
  }
}

function actorOf(a: Actor): { actor: string; actorKind: Actor['kind'] } {
  return { actor: a.name, actorKind: a.kind };
}
