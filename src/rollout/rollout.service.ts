import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditRepository } from '../audit/audit.repository';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Clock, CLOCK } from '../common/clock';
import { DomainError, ErrorCode } from '../common/domain-error';
import type { FlagGateway } from '../flags/flag-gateway';
import { FLAG_GATEWAY } from '../flags/flags.module';
import { SegmentStateCache } from '../routing/segment-state.cache';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { AlertService } from './alert.service';
import { EvidenceRepository } from '../comparison/evidence.repository';
import type { Arm, ArmEvidence } from '../comparison/domain/evidence';
import { RollupLastHour, RollupReader } from '../comparison/rollup-reader';
import { guardCounts, rolloutRisk, RolloutRisk, SegmentRiskInput, segmentRiskInput } from './domain/rollout-risk';
import * as machine from './domain/segment-machine';
import type { Decision, SegmentFacts } from './domain/segment-machine';
import { FlagSnapshotRepository } from './flag-snapshot.repository';
import type { Actor } from '../audit/domain/actor';
import { RereviewItem, RereviewRepository, ResolvedRereview } from './rereview.repository';
import { SegmentDecisions } from './segment-decisions';
import { SegmentRepository, SegmentState } from './segment.repository';

/** How long a person's action waits for a segment's row lock before it fails with a clear error. */
const PERSON_LOCK_TIMEOUT_MS = 10_000;
/** SQLSTATE of a lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * What people do to a rollout: program managers promote, approve, hold, resume and fix
 * thresholds; ops and program managers roll back and pull the kill switch. Every action takes a
 * reason, is serialised with the controller on the segment's row lock, and lands in the audit log.
 */
@Injectable()
export class RolloutService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly segments: SegmentRepository,
    private readonly decisions: SegmentDecisions,
    private readonly workflows: WorkflowRegistry,
    private readonly audit: AuditRepository,
    private readonly alerts: AlertService,
    private readonly snapshots: FlagSnapshotRepository,
    private readonly segmentCache: SegmentStateCache,
    private readonly evidence: EvidenceRepository,
    private readonly rollups: RollupReader,
    private readonly rereview: RereviewRepository,
    @Inject(FLAG_GATEWAY) private readonly flags: FlagGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private champion(workflow: string) {
    const active = this.workflows.activeOf(workflow);
    if (!active) throw new DomainError(ErrorCode.NotFound, `workflow ${workflow} was not found`);
    return active.champion;
  }

  /**
   * Loads the segment under its row lock, lets the state machine decide, and applies the decision;
   * the flag write it owes goes to Unleash after the commit. Routing obeys the stored stage within a
   * second on every instance, so a rollback holds whether or not Unleash answers.
   */
  private async decide(workflow: string, segment: string, fn: (s: SegmentState, facts: SegmentFacts, now: Date) => Decision): Promise<SegmentState> {
    const champion = this.champion(workflow);
    const { state, owed } = await this.dataSource
      .transaction(async (tx) => {
        // A person's action waits behind a controller cycle at most this long, then says so.
        await this.segments.limitWaits(tx, PERSON_LOCK_TIMEOUT_MS);
        const s = await this.segments.lockOne(tx, workflow, segment);
        if (!s) throw new DomainError(ErrorCode.NotFound, `segment ${segment} of ${workflow} was not found`);
        const now = this.clock.now();
        const d = fn(s, await this.decisions.facts(tx, champion, s, now), now);
        const owed = await this.decisions.apply(tx, s, d.effects);
        return { state: (await this.segments.get(workflow, segment, tx))!, owed };
      })
      .catch((e: unknown) => {
        if ((e as { driverError?: { code?: string } }).driverError?.code === LOCK_NOT_AVAILABLE) {
          throw new DomainError(
            ErrorCode.Conflict,
            `${segment} of ${workflow} is busy (the controller has held it over ${PERSON_LOCK_TIMEOUT_MS / 1000} s): try again`,
          );
        }
        throw e;
      });
    this.alerts.committed();
    this.segmentCache.invalidate();
    if (owed) await this.decisions.writeFlag(owed);
    return owed ? ((await this.segments.get(workflow, segment)) ?? state) : state;
  }

  /**
   * A segment with what people read beside it: the champion's last hour (rollups), its open
   * re-review items, and blind beside anchored evidence per arm for items the AI decided since the
   * stage began (anchored reviews overstate agreement).
   */
  async detail(
    workflow: string,
    segment: string,
  ): Promise<{ state: SegmentState; lastHour: RollupLastHour; openRereviewItems: number; arms: Array<ArmEvidence & { arm: Arm }> }> {
    const champion = this.champion(workflow);
    const s = await this.segments.get(workflow, segment);
    if (!s) throw new DomainError(ErrorCode.NotFound, `segment ${segment} of ${workflow} was not found`);
    const lastHour = await this.rollups.lastHour(workflow, segment, champion.version);
    const openRereviewItems = await this.rereview.openCount(workflow, segment);
    const arms = await this.evidence.byArm(workflow, segment, champion.version, new Date(s.stageStartedAt));
    return { state: s, lastHour, openRereviewItems, arms };
  }

  /** A segment's re-review list, oldest first: open items (resolved false), resolved ones (true), or both. */
  rereviewItems(workflow: string, segment: string, resolved?: boolean): Promise<RereviewItem[]> {
    return this.rereview.list(workflow, segment, resolved);
  }

  /**
   * Marks a re-review item looked at again, with the reason in the audit log. An item of a
   * workflow outside `workflows` (the caller's scope; null: every workflow) is not found: the caller
   * named no workflow, so a refusal would reveal one.
   */
  async resolveRereview(id: number, actor: Actor, reason: string, workflows: readonly string[] | null): Promise<ResolvedRereview> {
    return this.dataSource.transaction(async (tx) => {
      const row = await this.rereview.resolve(tx, id, actor.name, workflows);
      if (!row) throw new DomainError(ErrorCode.NotFound, `open re-review item ${id} was not found`);
      await this.audit.append(
        {
          actor: actor.name,
          actorKind: actor.kind,
          action: 'rereview.resolved',
          workflow: row.workflow,
          segment: row.segment,
          reason,
          details: { itemId: row.itemId, rereviewId: row.id },
        },
        tx,
      );
      return row;
    });
  }

  /** One step up now, on a program manager's word — only when the gate holds (or awaits approval). */
  async promote(workflow: string, segment: string, actor: Actor, reason: string): Promise<SegmentState> {
    return this.decide(workflow, segment, (s, f) => machine.promote(s, actor, reason, f));
  }

  /** Approves the step the controller is waiting on; the controller takes it at its next cycle if the gate still holds. */
  async approve(workflow: string, segment: string, actor: Actor, reason: string): Promise<SegmentState> {
    return this.decide(workflow, segment, (s) => machine.approve(s, actor, reason));
  }

  async hold(workflow: string, segment: string, actor: Actor, reason: string): Promise<SegmentState> {
    return this.decide(workflow, segment, (s, _f, now) => machine.hold(s, actor, reason, now));
  }

  async resume(workflow: string, segment: string, actor: Actor, reason: string): Promise<SegmentState> {
    return this.decide(workflow, segment, (s, f) => machine.resume(s, actor, reason, f));
  }

  /** Back one stage (or to shadow) now, and hold there until someone resumes. */
  async rollback(workflow: string, segment: string, actor: Actor, reason: string, toShadow = false): Promise<SegmentState> {
    return this.decide(workflow, segment, (s, f) => machine.rollback(s, actor, reason, toShadow, f));
  }

  /** A fixed threshold set by a program manager, or null to return to the computed one. */
  async setThreshold(workflow: string, segment: string, threshold: number | null, actor: Actor, reason: string): Promise<SegmentState> {
    return this.decide(workflow, segment, (s, _f, now) => machine.setThreshold(s, threshold, actor, reason, now));
  }

  /** The rollout's risk over every segment of every active workflow, or of those workflows only (domain/rollout-risk.ts). */
  async risk(workflows: readonly string[] | null = null): Promise<RolloutRisk> {
    const now = this.clock.now();
    const dayAgo = new Date(now.getTime() - 86_400_000);
    const promotions = await this.audit.promotionsSince(dayAgo);
    const inputs: SegmentRiskInput[] = [];
    for (const s of await this.segments.list()) {
      if (workflows && !workflows.includes(s.workflow)) continue;
      const champion = this.workflows.activeOf(s.workflow)?.champion;
      if (!champion) continue;
      const blindLastDay = guardCounts(s) ? (await this.evidence.arms(s.workflow, s.segment, champion.version, [s.stage as Arm], dayAgo)).blindN : 0;
      inputs.push(segmentRiskInput(s, champion.definition.rollout, promotions, blindLastDay));
    }
    return rolloutRisk(inputs);
  }

  /** The kill switch: on when PostgreSQL or Unleash says so (Unleash may not answer: null). */
  async killSwitch(): Promise<{ enabled: boolean; stored: boolean; unleash: boolean | null; pending: boolean }> {
    const known = await this.snapshots.get(this.dataSource.manager, this.config.unleash.killSwitchFlag);
    let unleash: boolean | null = null;
    try {
      unleash = await this.flags.readKillSwitch();
    } catch {
      // Unleash down: the stored state is the answer.
    }
    const stored = known?.enabled ?? false;
    return { enabled: stored || unleash === true, stored, unleash, pending: known?.pending ?? false };
  }

  /**
   * The kill switch, stored in PostgreSQL first (routing on every instance obeys it within a
   * second from there), then written to Unleash; if Unleash does not answer, the write is owed and
   * the controller makes it when Unleash is back.
   */
  async setKillSwitch(enabled: boolean, actor: Actor, reason: string): Promise<{ enabled: boolean; unleash: 'written' | 'pending' }> {
    const flagName = this.config.unleash.killSwitchFlag;
    await this.dataSource.transaction(async (tx) => {
      await this.snapshots.set(tx, flagName, { enabled, pending: true });
      await this.audit.append(
        { actor: actor.name, actorKind: actor.kind, action: 'kill-switch.changed', reason, details: { after: enabled, flag: flagName } },
        tx,
      );
      await this.alerts.raise(tx, {
        kind: 'kill-switch.changed',
        summary: `Kill switch ${enabled ? 'ON: nothing leaves Understudy' : 'off'} (${actor.name}: ${reason})`,
        details: { after: enabled, by: actor.name },
      });
    });
    this.alerts.committed();
    this.segmentCache.invalidate();
    try {
      await this.flags.setKillSwitch(enabled);
    } catch {
      return { enabled, unleash: 'pending' };
    }
    await this.dataSource.transaction((tx) => this.snapshots.confirmWritten(tx, flagName, enabled, this.clock.now()));
    return { enabled, unleash: 'written' };
  }
}
