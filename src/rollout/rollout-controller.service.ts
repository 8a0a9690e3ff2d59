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
import type { Arm } from '../comparison/domain/evidence';
import { EvidenceRepository } from '../comparison/evidence.repository';
import { initialGuardState, recommendThreshold, updateGuard, GuardUpdate } from '../stats/domain';
import type { ActiveWorkflow } from '../workflows/workflow-registry.service';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { AlertService } from './alert.service';
import { evaluateStep, StepEvidence } from './domain/evaluate-segment';
import { needsArming, rereviewFrom } from './domain/guard-arming';
import { nextThreshold } from './domain/threshold-policy';
import { FlagChange, detectOperatorChanges } from './domain/reconcile';
import { SegmentCounts, since, ZERO_COUNTS } from './domain/segment-counts';
import { describeSplit, revertTarget, sameSplit } from './domain/steps';
import { FlagSnapshotRepository } from './flag-snapshot.repository';
import { GuardArmer } from './guard-armer';
import { LeaderService } from './leader.service';
import { SegmentRepository, SegmentState } from './segment.repository';
import { Actor, SegmentTransitions } from './segment-transitions';

const CONTROLLER: Actor = { name: 'controller', kind: 'controller' };
const OPERATOR: Actor = { name: 'unleash', kind: 'operator' };

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
    private readonly evidence: EvidenceRepository,
    private readonly guards: GuardArmer,
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
      // A stage an operator chose is guarded like any other: armed here, on the new stage's evidence.
      const guard = stageChanged && after.stage !== 'shadow' ? await this.guards.arm(tx, active.champion, s, after.stage, now) : null;
      await this.segments.update(tx, workflow, s.segment, {
        stage: after.stage,
        trafficPct: after.stage === 'shadow' ? 100 : after.trafficPct,
        // The irregularity is remembered with the split, so the same operator change is adopted once.
        flagSplit: c.kind === 'segment-split' && c.irregular ? { ...after, irregular: c.irregular } : after,
        stepStartedAt: now,
        lastVerdict: null,
        ...(stageChanged ? { stageStartedAt: now, guardParams: guard?.params ?? null, baseline: guard?.baseline ?? null } : {}),
        stepBase: { ...totals, rangeStart: rangeStart.toISOString() },
        guardState: await this.transitions.guardWatermark(tx, active.champion, s, after.stage as Arm, rangeStart),
        guardWindowStartedAt: null,
        pendingStep: null,
        approvedStep: null,
        paused: true,
        pauseKind: 'operator',
        pauseReason: reason,
        pausedAt: now,
        pausedBy: OPERATOR.name,
      });
      await this.audit.append({ ...actorOf(OPERATOR), action: 'flag.operator-change', workflow, segment: s.segment, reason, details: { change: c, ...(guard ? { guard } : {}) } }, tx);
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
    const arm = s.stage as Arm;
    const totals = await this.segments.totals(workflow, s.segment, champion.version, rangeStart, tx);
    const stepBase = s.stepBase && s.stepBase.rangeStart === rangeStart.toISOString() ? s.stepBase : null;
    const step = since(totals, stepBase);
    const threshold = await this.refreshThreshold(tx, active, s, now);

    const patch: Partial<SegmentState> = { lastEvaluatedAt: now };
    // A segment's first step counts from the start of its range.
    if (!stepBase) patch.stepBase = { ...ZERO_COUNTS, rangeStart: rangeStart.toISOString() };

    // Every stage above shadow is guarded, whoever put the segment there (and re-armed after a threshold move).
    let guardParams = s.guardParams;
    if (needsArming(s.stage, s.guardParams, s.baseline)) {
      // refreshThreshold above kept s's threshold and its details current.
      const g = await this.guards.arm(tx, champion, s, s.stage, now);
      guardParams = g.params;
      patch.guardParams = g.params;
      patch.baseline = g.baseline;
      await this.audit.append(
        { ...actorOf(CONTROLLER), action: 'guard.armed', workflow, segment: s.segment, reason: `regression guard armed for ${s.stage}: ${g.baseline.detail}`, details: { baseline: g.baseline, params: g.params } },
        tx,
      );
    }

    // The regression guard: blind evidence of the live arm (items the AI decided since the stage
    // began, counted as their labels arrive) against its baseline.
    if (s.stage !== 'shadow' && guardParams) {
      const stageEvidence = await this.evidence.arms(workflow, s.segment, champion.version, [arm], rangeStart, tx);
      const gs = s.guardState ?? { ...initialGuardState(), totalsN: 0, totalsAgree: 0 };
      const batch = { n: stageEvidence.blindN - gs.totalsN, agree: stageEvidence.blindAgree - gs.totalsAgree };
      if (batch.n < 0 || batch.agree < 0 || batch.agree > batch.n) {
        // A watermark from other counts (a state written before the evidence model): restart it here.
        patch.guardState = { ...gs, totalsN: stageEvidence.blindN, totalsAgree: stageEvidence.blindAgree };
      } else if (batch.n > 0) {
        const update = updateGuard(gs, batch, guardParams);
        let windowStartedAt = s.guardWindowStartedAt;
        if (gs.s === 0 && update.state.s > 0) windowStartedAt = s.lastEvaluatedAt ?? rangeStart;
        if (update.state.s === 0) windowStartedAt = null;
        if (update.breached) {
          await this.segments.update(tx, workflow, s.segment, patch);
          await this.revert(tx, active, { ...s, ...patch } as SegmentState, update, windowStartedAt ?? rangeStart, totals);
          return;
        }
        patch.guardState = { ...update.state, totalsN: stageEvidence.blindN, totalsAgree: stageEvidence.blindAgree };
        patch.guardWindowStartedAt = windowStartedAt;
      }
    }

    // The gate judges the arm at the current stage on items the AI decided during this step.
    const armStep = await this.evidence.arms(workflow, s.segment, champion.version, [arm], new Date(s.stepStartedAt), tx);
    const evidence: StepEvidence = {
      blind: { n: armStep.blindN, agree: armStep.blindAgree },
      anchored: { n: armStep.anchoredN, overridden: armStep.anchoredOverridden },
      aiCalls: step.aiCalls,
      aiFailures: step.aiFailures,
    };
    const budget = await this.budget.healthy(def);
    const ev = evaluateStep({
      current,
      evidence,
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
    const counts = { arm, n: evidence.blind.n, agree: evidence.blind.agree, reviews: evidence.anchored.n, overridden: evidence.anchored.overridden, anchoredAgree: armStep.anchoredAgree, aiCalls: evidence.aiCalls, aiFailures: evidence.aiFailures };
    patch.lastVerdict = { ...(ev.gate ?? {}), verdict: ev.verdict, target: ev.target, approvalRequired: ev.approvalRequired, holdReason, evaluatedAt: now.toISOString(), counts, budget };
    this.metrics.stage.set({ workflow, segment: s.segment }, stageIndex(s.stage));
    this.metrics.trafficPct.set({ workflow, segment: s.segment }, s.stage === 'shadow' ? 100 : s.trafficPct);
    if (evidence.blind.n > 0) this.metrics.agreement.set({ workflow, segment: s.segment }, evidence.blind.agree / evidence.blind.n);

    if (!holdReason && ev.target && ev.verdict === 'pass') {
      await this.segments.update(tx, workflow, s.segment, patch);
      await this.transitions.moveTo(tx, champion, s, ev.target, {
        actor: CONTROLLER,
        action: 'stage.promoted',
        reason: ev.gate?.summary ?? 'gate passed',
        details: { gate: ev.gate, counts, approvedBy: s.approvedStep ? 'program manager' : null },
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
          details: { gate: ev.gate, counts },
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
    // Labels arrive late: the window's evidence is about items the AI decided earlier than it opened.
    const earliest = await this.evidence.earliestDecisionLabelledSince(s.workflow, s.segment, active.champion.version, s.stage as Arm, windowStart, tx);
    const rereviewStart = rereviewFrom(windowStart, earliest);
    const numbers = {
      statistic: g.statistic,
      threshold: g.threshold,
      baseline: g.baseline,
      alternative: g.alternative,
      window: g.window,
      windowStartedAt: windowStart.toISOString(),
      rereviewFrom: rereviewStart.toISOString(),
      stageTotals: totals,
      stageBaseline: s.baseline,
    };
    const auditId = await this.transitions.moveTo(tx, active.champion, s, to, {
      actor: CONTROLLER,
      action: 'stage.reverted',
      reason,
      details: { guard: numbers },
      pause: { kind: 'guard', reason },
    });
    // Reverting the flag does not undo what the AI already decided on its own: those go to people.
    const rereview = await this.segments.listForRereview(tx, s.workflow, s.segment, rereviewStart, auditId);
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
   * It is certified on the calibration set (blind labels drawn alike at every confidence) with
   * anytime-valid tests, withdrawn at once when blind audits above it contradict it, raised at once,
   * and lowered or regained only after a wait (domain/threshold-policy.ts).
   */
  private async refreshThreshold(tx: Tx, active: ActiveWorkflow, s: SegmentState, now: Date): Promise<number | null> {
    if (s.thresholdSource === 'fixed') return s.threshold;
    const r = active.champion.definition.rollout;
    const version = active.champion.version;
    const previous = s.thresholdDetails as { calibrationFrom?: string } | null;
    // After audits contradicted a threshold, only labels of what the AI decided since count.
    const windowFrom = now.getTime() - r.thresholdWindowDays * 86_400_000;
    const from = new Date(Math.max(windowFrom, previous?.calibrationFrom ? new Date(previous.calibrationFrom).getTime() : 0));
    const bins = await this.evidence.calibrationBins(s.workflow, s.segment, version, from, tx);
    const rec = recommendThreshold({ n: bins.n, correct: bins.correct, target: r.accuracyTarget, delta: r.delta, minCount: r.minLabelsPerThreshold, test: 'anytime' });
    const auditsAbove =
      s.threshold !== null && s.thresholdUpdatedAt
        ? await this.evidence.arms(s.workflow, s.segment, version, ['confidence-routed'], new Date(s.thresholdUpdatedAt), tx)
        : null;
    const move = nextThreshold({
      current: s.threshold,
      source: s.thresholdSource,
      lastChangedAt: s.thresholdUpdatedAt ? new Date(s.thresholdUpdatedAt) : null,
      certified: rec.status === 'certified' ? rec.threshold : null,
      auditsAbove: { n: auditsAbove?.blindN ?? 0, agree: auditsAbove?.blindAgree ?? 0 },
      target: r.accuracyTarget,
      delta: r.delta,
      now,
    });
    const calibrationFrom = move.kind === 'set' && move.withdrawnByAudits ? now.toISOString() : (previous?.calibrationFrom ?? null);
    const details = { ...rec, tested: rec.tested.slice(0, 20), calibrationFrom, lastMove: move.reason } as unknown as Record<string, unknown>;
    if (move.kind === 'set' && move.value !== s.threshold) {
      const before = s.threshold;
      await this.segments.update(tx, s.workflow, s.segment, {
        threshold: move.value,
        thresholdSource: move.value === null ? 'none' : 'computed',
        thresholdDetails: details,
        thresholdUpdatedAt: now,
        // The confidence-routed guard defends the accuracy above the threshold: re-armed for the new one.
        ...(s.stage === 'confidence-routed' ? { guardParams: null } : {}),
      });
      if (s.stage === 'confidence-routed') s.guardParams = null;
      s.thresholdDetails = details;
      s.threshold = move.value;
      await this.audit.append(
        {
          ...actorOf(CONTROLLER),
          action: 'threshold.changed',
          workflow: s.workflow,
          segment: s.segment,
          reason: move.value === null ? move.reason : `${move.reason}: ${rec.reason}`,
          details: {
            before,
            after: move.value,
            withdrawnByAudits: move.withdrawnByAudits,
            auditsAbove,
            coverage: rec.coverage,
            accuracyAbove: rec.accuracyAbove,
            accuracyLower: rec.accuracyLower,
            nAbove: rec.nAbove,
            n: rec.n,
            target: rec.target,
            delta: rec.delta,
            test: rec.test,
          },
        },
        tx,
      );
      if (move.withdrawnByAudits) {
        await this.alerts.raise(tx, { kind: 'threshold.withdrawn', workflow: s.workflow, segment: s.segment, summary: `${s.workflow} / ${s.segment}: ${move.reason}`, details: { auditsAbove } });
      }
      return move.value;
    }
    await this.segments.update(tx, s.workflow, s.segment, { thresholdDetails: details });
    s.thresholdDetails = details;
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
