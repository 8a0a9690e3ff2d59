import { Inject, Injectable } from '@nestjs/common';
import { Clock, CLOCK } from '../common/clock';
import { AuditRepository } from '../audit/audit.repository';
import type { ActorKind } from '../audit/audit-event.entity';
import type { Tx } from '../database/sql';
import type { SegmentSplit } from '../flags/domain/segment-split';
import type { FlagGateway } from '../flags/flag-gateway';
import { FLAG_GATEWAY } from '../flags/flags.module';
import { EvidenceRepository } from '../comparison/evidence.repository';
import type { Arm } from '../comparison/domain/evidence';
import { initialGuardState } from '../stats/domain';
import type { WorkflowVersion } from '../workflows/domain/workflow-definition';
import { describeSplit } from './domain/steps';
import { GuardArmer } from './guard-armer';
import { PauseKind, SegmentRepository, SegmentState } from './segment.repository';

export interface Actor {
  name: string;
  kind: ActorKind;
}

/**
 * The moves a segment can make — promote one step, revert, adopt an operator's split, pause,
 * resume — each written to Unleash, the segment row and the audit log together. Used by the
 * controller and by people's actions alike, always under the segment's row lock. A move into a
 * stage above shadow arms that stage's regression guard at once, whoever made it.
 */
@Injectable()
export class SegmentTransitions {
  constructor(
    private readonly segments: SegmentRepository,
    private readonly audit: AuditRepository,
    private readonly evidence: EvidenceRepository,
    private readonly guards: GuardArmer,
    @Inject(FLAG_GATEWAY) private readonly flags: FlagGateway,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Moves a segment to a split (promotion or rollback) and restarts its step. */
  async moveTo(
    tx: Tx,
    champion: WorkflowVersion,
    s: SegmentState,
    to: SegmentSplit,
    opts: { actor: Actor; action: string; reason: string; details: Record<string, unknown>; pause?: { kind: PauseKind; reason: string } },
  ): Promise<string> {
    const now = this.clock.now();
    const from: SegmentSplit = { stage: s.stage, trafficPct: s.trafficPct };
    await this.flags.writeSegmentSplit(s.workflow, s.segment, to);
    const stageChanged = from.stage !== to.stage;
    const rangeStart = stageChanged ? now : s.stageStartedAt;
    const totals = await this.segments.totals(s.workflow, s.segment, champion.version, rangeStart, tx);
    const patch: Partial<SegmentState> = {
      stage: to.stage,
      trafficPct: to.stage === 'shadow' ? 100 : to.trafficPct,
      stepStartedAt: now,
      stepBase: { ...totals, rangeStart: rangeStart.toISOString() },
      flagSplit: to,
      pendingStep: null,
      approvedStep: null,
      lastVerdict: null, // it judged the step that ended; the next cycle judges this one
    };
    let armed: Record<string, unknown> | null = null;
    if (stageChanged) {
      patch.stageStartedAt = now;
      patch.guardState = await this.guardWatermark(tx, champion, s, to.stage as Arm, now);
      patch.guardWindowStartedAt = null;
      patch.guardParams = null;
      patch.baseline = null;
      if (to.stage !== 'shadow') {
        const g = await this.guards.arm(tx, champion, s, to.stage, now);
        patch.guardParams = g.params;
        patch.baseline = g.baseline;
        armed = { baseline: g.baseline, params: g.params };
      }
    }
    if (opts.pause) {
      patch.paused = true;
      patch.pauseKind = opts.pause.kind;
      patch.pauseReason = opts.pause.reason;
      patch.pausedAt = now;
      patch.pausedBy = opts.actor.name;
    }
    await this.segments.update(tx, s.workflow, s.segment, patch);
    const entry = await this.audit.append(
      {
        actor: opts.actor.name,
        actorKind: opts.actor.kind,
        action: opts.action,
        workflow: s.workflow,
        segment: s.segment,
        reason: opts.reason,
        details: { from, to, fromText: describeSplit(from), toText: describeSplit(to), ...opts.details, ...(armed ? { armedGuard: armed } : {}) },
      },
      tx,
    );
    return entry.id;
  }

  /**
   * A fresh guard state whose watermark is the blind evidence the arm already has from a time on:
   * the guard adds what arrives after it (labels of items the AI decided since `from`).
   */
  async guardWatermark(tx: Tx, champion: WorkflowVersion, s: SegmentState, arm: Arm, from: Date): Promise<NonNullable<SegmentState['guardState']>> {
    const e = await this.evidence.arms(s.workflow, s.segment, champion.version, [arm], from, tx);
    return { ...initialGuardState(), totalsN: e.blindN, totalsAgree: e.blindAgree };
  }

  async pause(tx: Tx, s: SegmentState, kind: PauseKind, actor: Actor, reason: string, action = 'segment.held'): Promise<void> {
    await this.segments.update(tx, s.workflow, s.segment, { paused: true, pauseKind: kind, pauseReason: reason, pausedAt: this.clock.now(), pausedBy: actor.name });
    await this.audit.append({ actor: actor.name, actorKind: actor.kind, action, workflow: s.workflow, segment: s.segment, reason, details: { kind } }, tx);
  }

  /** Lifts a pause; the current step starts again so the gate judges fresh evidence. */
  async resume(tx: Tx, champion: WorkflowVersion, s: SegmentState, actor: Actor, reason: string): Promise<void> {
    const now = this.clock.now();
    const totals = await this.segments.totals(s.workflow, s.segment, champion.version, s.stageStartedAt, tx);
    await this.segments.update(tx, s.workflow, s.segment, {
      paused: false,
      pauseKind: null,
      pauseReason: null,
      pausedAt: null,
      pausedBy: null,
      stepStartedAt: now,
      lastVerdict: null,
      stepBase: { ...totals, rangeStart: new Date(s.stageStartedAt).toISOString() },
      guardState: await this.guardWatermark(tx, champion, s, s.stage as Arm, new Date(s.stageStartedAt)),
      guardWindowStartedAt: null,
    });
    await this.audit.append(
      { actor: actor.name, actorKind: actor.kind, action: 'segment.resumed', workflow: s.workflow, segment: s.segment, reason, details: { was: { kind: s.pauseKind, reason: s.pauseReason } } },
      tx,
    );
  }
}
