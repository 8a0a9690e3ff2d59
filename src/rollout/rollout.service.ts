import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditRepository } from '../audit/audit.repository';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Clock, CLOCK } from '../common/clock';
import { DomainError, ErrorCode } from '../common/domain-error';
import type { SegmentSplit } from '../flags/domain/segment-split';
import type { FlagGateway } from '../flags/flag-gateway';
import { FLAG_GATEWAY } from '../flags/flags.module';
import { SegmentStateCache } from '../routing/segment-state.cache';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { AlertService } from './alert.service';
import { EvidenceRepository } from '../comparison/evidence.repository';
import type { Arm } from '../comparison/domain/evidence';
import { guardArl } from '../stats/domain';
import { rolloutRisk, RolloutRisk, SegmentRiskInput } from './domain/rollout-risk';
import { since } from './domain/segment-counts';
import { describeSplit, nextStep, revertTarget } from './domain/steps';
import { FlagSnapshotRepository } from './flag-snapshot.repository';
import { SegmentRepository, SegmentState } from './segment.repository';
import { Actor, SegmentTransitions } from './segment-transitions';

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
    private readonly transitions: SegmentTransitions,
    private readonly workflows: WorkflowRegistry,
    private readonly audit: AuditRepository,
    private readonly alerts: AlertService,
    private readonly snapshots: FlagSnapshotRepository,
    private readonly segmentCache: SegmentStateCache,
    private readonly evidence: EvidenceRepository,
    @Inject(FLAG_GATEWAY) private readonly flags: FlagGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private champion(workflow: string) {
    const active = this.workflows.activeOf(workflow);
    if (!active) throw new DomainError(ErrorCode.NotFound, `workflow ${workflow} was not found`);
    return active.champion;
  }

  private async withSegment<T>(workflow: string, segment: string, fn: (tx: import('typeorm').EntityManager, s: SegmentState) => Promise<T>): Promise<T> {
    this.champion(workflow);
    const result = await this.dataSource.transaction(async (tx) => {
      const s = await this.segments.lockOne(tx, workflow, segment);
      if (!s) throw new DomainError(ErrorCode.NotFound, `segment ${segment} of ${workflow} was not found`);
      return fn(tx, s);
    });
    this.alerts.committed();
    this.segmentCache.invalidate();
    return result;
  }

  /** One step up now, on a program manager's word — only when the gate holds (or awaits approval). */
  async promote(workflow: string, segment: string, actor: Actor, reason: string): Promise<SegmentState> {
    return this.withSegment(workflow, segment, async (tx, s) => {
      const champion = this.champion(workflow);
      const current: SegmentSplit = { stage: s.stage, trafficPct: s.trafficPct };
      const target = nextStep(current, champion.definition.rollout.steps);
      if (!target) throw new DomainError(ErrorCode.InvalidTransition, `${segment} is already at the top (${describeSplit(current)})`);
      if (s.paused) throw new DomainError(ErrorCode.InvalidTransition, `${segment} is paused (${s.pauseKind}): resume it first`, { pauseReason: s.pauseReason });
      const last = s.lastVerdict as { verdict?: string; summary?: string; criteria?: unknown; evaluatedAt?: string } | null;
      // A verdict from before the step (re)started judged other evidence: it does not count.
      const verdict = last?.evaluatedAt && new Date(last.evaluatedAt) >= new Date(s.stepStartedAt) ? last : null;
      if (!verdict || (verdict.verdict !== 'pass' && verdict.verdict !== 'awaiting-approval')) {
        throw new DomainError(ErrorCode.InvalidTransition, `the gate for ${describeSplit(target)} does not hold: ${verdict?.summary ?? 'not evaluated yet for this step'}`, {
          verdict: verdict?.verdict ?? null,
          criteria: verdict?.criteria ?? null,
        });
      }
      const totals = await this.segments.totals(workflow, segment, champion.version, new Date(s.stageStartedAt), tx);
      const step = since(totals, s.stepBase);
      await this.transitions.moveTo(tx, champion, s, target, { actor, action: 'stage.promoted', reason, details: { gate: verdict, counts: step, manual: true } });
      return (await this.segments.get(workflow, segment, tx))!;
    });
  }

  /** Approves the step the controller is waiting on; the controller takes it at its next cycle if the gate still holds. */
  async approve(workflow: string, segment: string, actor: Actor, reason: string): Promise<SegmentState> {
    return this.withSegment(workflow, segment, async (tx, s) => {
      if (!s.pendingStep) throw new DomainError(ErrorCode.InvalidTransition, `${segment} is not waiting for an approval`);
      await this.segments.update(tx, workflow, segment, { approvedStep: s.pendingStep });
      await this.audit.append({ actor: actor.name, actorKind: actor.kind, action: 'segment.approved', workflow, segment, reason, details: { step: s.pendingStep, gate: s.lastVerdict } }, tx);
      return (await this.segments.get(workflow, segment, tx))!;
    });
  }

  async hold(workflow: string, segment: string, actor: Actor, reason: string): Promise<SegmentState> {
    return this.withSegment(workflow, segment, async (tx, s) => {
      if (s.paused) throw new DomainError(ErrorCode.Conflict, `${segment} is already paused (${s.pauseKind})`);
      await this.transitions.pause(tx, s, 'hold', actor, reason);
      return (await this.segments.get(workflow, segment, tx))!;
    });
  }

  async resume(workflow: string, segment: string, actor: Actor, reason: string): Promise<SegmentState> {
    return this.withSegment(workflow, segment, async (tx, s) => {
      if (!s.paused) throw new DomainError(ErrorCode.Conflict, `${segment} is not paused`);
      await this.transitions.resume(tx, this.champion(workflow), s, actor, reason);
      return (await this.segments.get(workflow, segment, tx))!;
    });
  }

  /** Back one stage (or to shadow) now, and hold there until someone resumes. */
  async rollback(workflow: string, segment: string, actor: Actor, reason: string, toShadow = false): Promise<SegmentState> {
    return this.withSegment(workflow, segment, async (tx, s) => {
      if (s.stage === 'shadow') throw new DomainError(ErrorCode.InvalidTransition, `${segment} is already in shadow`);
      const to = revertTarget({ stage: s.stage, trafficPct: s.trafficPct }, toShadow ? 'to-shadow' : 'one-stage');
      await this.transitions.moveTo(tx, this.champion(workflow), s, to, {
        actor,
        action: 'stage.rolled-back',
        reason,
        details: {},
        pause: { kind: 'hold', reason: `rolled back by ${actor.name}: ${reason}` },
      });
      await this.alerts.raise(tx, { kind: 'stage.rolled-back', workflow, segment, summary: `${workflow} / ${segment} rolled back to ${describeSplit(to)} by ${actor.name}: ${reason}`, details: { to, by: actor.name } });
      return (await this.segments.get(workflow, segment, tx))!;
    });
  }

  /** A fixed threshold set by a program manager, or null to return to the computed one. */
  async setThreshold(workflow: string, segment: string, threshold: number | null, actor: Actor, reason: string): Promise<SegmentState> {
    return this.withSegment(workflow, segment, async (tx, s) => {
      if (threshold !== null && !(threshold >= 0 && threshold <= 1)) throw new DomainError(ErrorCode.Validation, 'threshold must be between 0 and 1, or null for the computed one');
      await this.segments.update(tx, workflow, segment, {
        threshold,
        thresholdSource: threshold === null ? 'none' : 'fixed',
        thresholdUpdatedAt: this.clock.now(),
      });
      await this.audit.append(
        { actor: actor.name, actorKind: actor.kind, action: 'threshold.changed', workflow, segment, reason, details: { before: s.threshold, beforeSource: s.thresholdSource, after: threshold, source: threshold === null ? 'computed' : 'fixed' } },
        tx,
      );
      return (await this.segments.get(workflow, segment, tx))!;
    });
  }

  /** The rollout's risk over every segment of every active workflow (domain/rollout-risk.ts). */
  async risk(): Promise<RolloutRisk> {
    const now = this.clock.now();
    const dayAgo = new Date(now.getTime() - 86_400_000);
    const promotions = await this.audit.promotionsSince(dayAgo);
    const inputs: SegmentRiskInput[] = [];
    for (const s of await this.segments.list()) {
      const champion = this.workflows.activeOf(s.workflow)?.champion;
      if (!champion) continue;
      const gates = champion.definition.rollout.gates;
      const gateOf = (stage: string) => (stage === 'supervised' || stage === 'confidence-routed' ? gates[stage].confidence : null);
      const target = s.paused ? null : nextStep({ stage: s.stage, trafficPct: s.trafficPct }, champion.definition.rollout.steps);
      let guard: SegmentRiskInput['guard'] = null;
      if (s.stage !== 'shadow' && s.guardParams) {
        const arl0 = s.baseline?.arl0 ?? guardArl(s.baseline?.lower ?? s.guardParams.p0, s.guardParams);
        const e = await this.evidence.arms(s.workflow, s.segment, champion.version, [s.stage as Arm], dayAgo);
        guard = { arl0, blindLastDay: e.blindN };
      }
      inputs.push({
        workflow: s.workflow,
        segment: s.segment,
        stage: s.stage,
        pendingGateConfidence: target ? gateOf(target.stage) : null,
        promotionsLastDay: promotions.filter((p) => p.workflow === s.workflow && p.segment === s.segment).map((p) => gateOf(p.toStage) ?? 1),
        guard,
      });
    }
    return rolloutRisk(inputs);
  }

  async setKillSwitch(enabled: boolean, actor: Actor, reason: string): Promise<{ enabled: boolean }> {
    await this.flags.setKillSwitch(enabled);
    await this.dataSource.transaction(async (tx) => {
      await this.snapshots.set(tx, this.config.unleash.killSwitchFlag, { enabled });
      await this.audit.append({ actor: actor.name, actorKind: actor.kind, action: 'kill-switch.changed', reason, details: { after: enabled, flag: this.config.unleash.killSwitchFlag } }, tx);
      await this.alerts.raise(tx, { kind: 'kill-switch.changed', summary: `Kill switch ${enabled ? 'ON: nothing leaves Understudy' : 'off'} (${actor.name}: ${reason})`, details: { after: enabled, by: actor.name } });
    });
    this.alerts.committed();
    return { enabled };
  }
}
