import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { AuditRepository } from '../audit/audit.repository';
import { Clock, CLOCK } from '../common/clock';
import { LOGGER } from '../common/logger';
import { ARMS } from '../comparison/domain/evidence';
import { EvidenceRepository } from '../comparison/evidence.repository';
import { RollupReader } from '../comparison/rollup-reader';
import type { Tx } from '../database/sql';
import type { FlagGateway } from '../flags/flag-gateway';
import { FLAG_GATEWAY } from '../flags/flags.module';
import type { WorkflowVersion } from '../workflows/domain/workflow-definition';
import { AlertService } from './alert.service';
import { classGuardsNeedArming } from './domain/class-guards';
import { DriftFacts, driftNeedsArming } from './domain/drift-watch';
import { createFlagWriter, FlagWriter, OwedFlagWrite } from './domain/flag-write';
import { createSegmentEffects, EffectTarget, SegmentEffects } from './domain/segment-effects';
import { calibrationFrom, Effects, evidenceWindowStart, SegmentFacts } from './domain/segment-machine';
import { SegmentRepository, SegmentState } from './segment.repository';

export type { OwedFlagWrite };

/**
 * The impure halves of a segment decision (domain/segment-machine.ts decides): loading the facts
 * a transition needs, under the segment's row lock; and the wiring of the pure cores that apply
 * its effects once (domain/segment-effects.ts) and, after the commit, write the flag it owes
 * Unleash (domain/flag-write.ts).
 */
@Injectable()
export class SegmentDecisions {
  constructor(
    segments: SegmentRepository,
    private readonly evidence: EvidenceRepository,
    private readonly rollups: RollupReader,
    audit: AuditRepository,
    alerts: AlertService,
    @Inject(FLAG_GATEWAY) flags: FlagGateway,
    @Inject(CLOCK) clock: Clock,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.effects = createSegmentEffects<Tx>({ segments, audit, alerts });
    this.writer = createFlagWriter({ flags, segments, clock, log: logger.child({ component: 'segment-decisions' }) });
  }

  private readonly effects: SegmentEffects<Tx>;
  private readonly writer: FlagWriter;

  async facts(tx: Tx, champion: WorkflowVersion, s: SegmentState, now: Date): Promise<SegmentFacts> {
    const r = champion.definition.rollout;
    const v = champion.version;
    const { workflow, segment } = s;
    const stageStart = new Date(s.stageStartedAt);
    const stageTotals = await this.rollups.totals(workflow, segment, v, stageStart, tx);
    const minuteTotals = await this.rollups.totals(workflow, segment, v, now, tx);
    const stageEvidence = await this.evidence.arms(workflow, segment, v, [s.stage], stageStart, tx);
    const stepEvidence = await this.evidence.arms(workflow, segment, v, [s.stage], new Date(s.stepStartedAt), tx);
    const minute = await this.evidence.byArm(workflow, segment, v, now, tx);
    const minuteEvidence = Object.fromEntries(
      ARMS.map((arm) => {
        const e = minute.find((m) => m.arm === arm);
        return [arm, { blindN: e?.blindN ?? 0, blindAgree: e?.blindAgree ?? 0 }];
      }),
    ) as SegmentFacts['minuteEvidence'];
    const windowStart = new Date(now.getTime() - r.thresholdWindowDays * 86_400_000);
    const baseline = await this.evidence.arms(workflow, segment, v, ['shadow', 'supervised'], windowStart, tx);
    const earliestLabelledInWindow =
      s.stage === 'shadow' ? null : await this.evidence.earliestDecisionLabelledSince(workflow, segment, v, s.stage, evidenceWindowStart(s), tx);
    const calibration = await this.evidence.calibrationBins(workflow, segment, v, calibrationFrom(s, r, now), tx);
    const parityAsked = r.gates.supervised.humanParityMargin !== undefined || r.gates['confidence-routed'].humanParityMargin !== undefined;
    const parityPairs = parityAsked ? await this.evidence.parityPairs(workflow, segment, v, windowStart, tx) : null;
    const audits =
      s.threshold !== null && s.thresholdUpdatedAt
        ? await this.evidence.arms(workflow, segment, v, ['confidence-routed'], new Date(s.thresholdUpdatedAt), tx)
        : null;
    const classes = champion.definition.decision.criticalClasses;
    const critical =
      classes.length > 0 && s.stage !== 'shadow'
        ? {
            classes,
            stage: await this.evidence.criticalClasses(workflow, segment, v, [s.stage], stageStart, tx),
            // Read only when the guards are armed (the next look after a stage move).
            baseline: classGuardsNeedArming(s.stage, classes, s.classGuards)
              ? await this.evidence.criticalClasses(workflow, segment, v, ['shadow', 'supervised'], windowStart, tx)
              : {},
          }
        : null;
    const g = r.guardrails;
    const guardrailTotals =
      s.stage !== 'shadow' && (g.errorRate || g.latencyP95Ms || g.costPerItemUsd) ? await this.rollups.modelCalls(workflow, segment, v, stageStart, tx) : null;
    const drift = r.monitors.enabled && s.stage !== 'shadow' ? await this.driftFacts(tx, champion, s, stageStart, windowStart) : null;
    return {
      now,
      version: v,
      rollout: r,
      stageTotals,
      minuteTotals,
      stageEvidence,
      stepEvidence,
      minuteEvidence,
      supervisedBaseline: { n: baseline.blindN, agree: baseline.blindAgree },
      earliestLabelledInWindow,
      calibration,
      auditsAbove: audits ? { n: audits.blindN, agree: audits.blindAgree } : null,
      parityPairs,
      critical,
      guardrailTotals,
      drift,
    };
  }

  /** The decisions the drift monitor watches: the stage's, and (when it is armed) the window's before the stage. */
  private async driftFacts(tx: Tx, champion: WorkflowVersion, s: SegmentState, stageStart: Date, windowStart: Date): Promise<DriftFacts> {
    const { workflow, segment } = s;
    const v = champion.version;
    const def = champion.definition;
    const field = def.decision.labelField;
    const property = field ? ((def.decision.schema as { properties?: Record<string, { enum?: unknown[] }> }).properties?.[field] ?? null) : null;
    const answers = (property?.enum ?? []).map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
    const arming = driftNeedsArming(s.stage, s.driftMonitor, def.rollout.monitors);
    return {
      answers,
      stageCells: await this.rollups.decisionCells(workflow, segment, v, stageStart, null, tx),
      referenceCells: arming ? await this.rollups.decisionCells(workflow, segment, v, windowStart, stageStart, tx) : null,
    };
  }

  /** Applies a decision's effects in the caller's transaction (domain/segment-effects.ts); returns the flag write it owes. */
  apply(tx: Tx, at: EffectTarget, e: Effects): Promise<OwedFlagWrite | null> {
    return this.effects.apply(tx, at, e);
  }

  /** Writes an owed split to Unleash after the commit (domain/flag-write.ts); false when it stays owed and is retried. */
  writeFlag(w: OwedFlagWrite): Promise<boolean> {
    return this.writer.write(w);
  }
}
