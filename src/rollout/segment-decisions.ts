import { Inject, Injectable } from '@nestjs/common';
import { AuditRepository } from '../audit/audit.repository';
import { ARMS } from '../comparison/domain/evidence';
import { EvidenceRepository } from '../comparison/evidence.repository';
import type { Tx } from '../database/sql';
import type { FlagGateway } from '../flags/flag-gateway';
import { FLAG_GATEWAY } from '../flags/flags.module';
import type { WorkflowVersion } from '../workflows/domain/workflow-definition';
import { calibrationFrom, Effects, guardWindowStart, SegmentFacts } from './domain/segment-machine';
import { AlertService } from './alert.service';
import { SegmentRepository, SegmentState } from './segment.repository';

/**
 * The two impure halves of a segment decision (domain/segment-machine.ts decides): loading the
 * facts a transition needs, under the segment's row lock, and applying its effects once — the
 * flag write, the row, the audit entries, the re-review list and the alerts, in one transaction.
 */
@Injectable()
export class SegmentDecisions {
  constructor(
    private readonly segments: SegmentRepository,
    private readonly evidence: EvidenceRepository,
    private readonly audit: AuditRepository,
    private readonly alerts: AlertService,
    @Inject(FLAG_GATEWAY) private readonly flags: FlagGateway,
  ) {}

  async facts(tx: Tx, champion: WorkflowVersion, s: SegmentState, now: Date): Promise<SegmentFacts> {
    const r = champion.definition.rollout;
    const v = champion.version;
    const { workflow, segment } = s;
    const stageStart = new Date(s.stageStartedAt);
    const stageTotals = await this.segments.totals(workflow, segment, v, stageStart, tx);
    const minuteTotals = await this.segments.totals(workflow, segment, v, now, tx);
    const stageEvidence = await this.evidence.arms(workflow, segment, v, [s.stage], stageStart, tx);
    const stepEvidence = await this.evidence.arms(workflow, segment, v, [s.stage], new Date(s.stepStartedAt), tx);
    const minute = await this.evidence.byArm(workflow, segment, v, now, tx);
    const minuteEvidence = Object.fromEntries(ARMS.map((arm) => {
      const e = minute.find((m) => m.arm === arm);
      return [arm, { blindN: e?.blindN ?? 0, blindAgree: e?.blindAgree ?? 0 }];
    })) as SegmentFacts['minuteEvidence'];
    const windowStart = new Date(now.getTime() - r.thresholdWindowDays * 86_400_000);
    const baseline = await this.evidence.arms(workflow, segment, v, ['shadow', 'supervised'], windowStart, tx);
    const earliestLabelledInWindow = s.stage === 'shadow' ? null : await this.evidence.earliestDecisionLabelledSince(workflow, segment, v, s.stage, guardWindowStart(s), tx);
    const calibration = await this.evidence.calibrationBins(workflow, segment, v, calibrationFrom(s, r, now), tx);
    const parityAsked = r.gates.supervised.humanParityMargin !== undefined || r.gates['confidence-routed'].humanParityMargin !== undefined;
    const parityPairs = parityAsked ? await this.evidence.parityPairs(workflow, segment, v, windowStart, tx) : null;
    const audits = s.threshold !== null && s.thresholdUpdatedAt ? await this.evidence.arms(workflow, segment, v, ['confidence-routed'], new Date(s.thresholdUpdatedAt), tx) : null;
    return {
      now,
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
    };
  }

  /** Applies a decision's effects in the caller's transaction; the alerts go out when it commits (AlertService.committed). */
  async apply(tx: Tx, at: { workflow: string; segment: string | null }, e: Effects): Promise<void> {
    if (e.flagWrite && at.segment) await this.flags.writeSegmentSplit(at.workflow, at.segment, e.flagWrite);
    if (at.segment) await this.segments.update(tx, at.workflow, at.segment, e.patch);
    const ids: string[] = [];
    for (const entry of e.audit) ids.push((await this.audit.append(entry, tx)).id);
    let rereview: { rereviewItems: number; auditId: string } | null = null;
    if (e.rereview && at.segment) {
      const auditId = ids[e.rereview.auditIndex];
      rereview = { rereviewItems: await this.segments.listForRereview(tx, at.workflow, at.segment, e.rereview.from, auditId), auditId };
    }
    for (const { withRereview, ...alert } of e.alerts) {
      await this.alerts.raise(tx, withRereview && rereview ? { ...alert, details: { ...alert.details, ...rereview } } : alert);
    }
  }
}
