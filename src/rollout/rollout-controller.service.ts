import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';
import { AuditRepository } from '../audit/audit.repository';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Clock, CLOCK } from '../common/clock';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { stageIndex } from '../flags/domain/stage';
import type { FlagGateway } from '../flags/flag-gateway';
import { FLAG_GATEWAY } from '../flags/flags.module';
import { BudgetService } from '../inference/budget.service';
import { MetricsService } from '../metrics/metrics.service';
import { SegmentStateCache } from '../routing/segment-state.cache';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { AlertService } from './alert.service';
import { ControllerStatusRepository } from './controller-status.repository';
import { createRolloutCycle, RolloutCycle } from './domain/rollout-cycle';
import type { CycleDecision, SegmentFacts } from './domain/segment-machine';
import { describeSplit } from './domain/steps';
import { FlagSnapshotRepository } from './flag-snapshot.repository';
import { LeaderService } from './leader.service';
import { SegmentDecisions } from './segment-decisions';
import { SegmentRepository } from './segment.repository';

/**
 * The rollout controller's schedule: on the leader only, every CONTROLLER_INTERVAL_MS, one cycle
 * (domain/rollout-cycle.ts: operators' changes adopted, then each segment decided and applied),
 * timed, counted in controller_status, a run skipped while the previous one still runs. This class
 * only wires the cycle's ports to PostgreSQL, Unleash, metrics and logs.
 */
@Injectable()
export class RolloutController implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly log: Logger;
  private readonly core: RolloutCycle<EntityManager>;
  skippedCycles = 0;

  constructor(
    dataSource: DataSource,
    private readonly leader: LeaderService,
    private readonly status: ControllerStatusRepository,
    segments: SegmentRepository,
    snapshots: FlagSnapshotRepository,
    decisions: SegmentDecisions,
    private readonly workflows: WorkflowRegistry,
    budget: BudgetService,
    audit: AuditRepository,
    alerts: AlertService,
    segmentCache: SegmentStateCache,
    private readonly metrics: MetricsService,
    @Inject(FLAG_GATEWAY) flags: FlagGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'controller' });
    this.core = createRolloutCycle<EntityManager>({
      transactions: {
        run: (fn, limits) =>
          dataSource.transaction(async (tx) => {
            if (limits) await segments.limitWaits(tx, limits.lockTimeoutMs, limits.statementTimeoutMs);
            return fn(tx);
          }),
      },
      segments,
      switches: {
        get: (flagName, tx) => snapshots.get(tx ?? dataSource.manager, flagName),
        set: (tx, flagName, state) => snapshots.set(tx, flagName, state),
        confirmWritten: (tx, flagName, enabled, at) => snapshots.confirmWritten(tx, flagName, enabled, at),
      },
      facts: (tx, champion, s, now) => decisions.facts(tx, champion, s, now),
      effects: decisions,
      flagWriter: { write: (w) => decisions.writeFlag(w) },
      flags,
      audit,
      alerts,
      budget,
      clock,
      log: this.log,
      killSwitchFlag: config.unleash.killSwitchFlag,
      observed: (d, f) => this.observe(d, f),
      stateChanged: () => segmentCache.invalidate(),
    });
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

  cycle(): Promise<void> {
    return this.core.run(this.workflows.activeWorkflows());
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

  private recordStatus(ms: number, error: string | null): Promise<void> {
    return this.status.recordCycle(this.config.instanceId, this.leader.leaderSince, ms, error);
  }
}
