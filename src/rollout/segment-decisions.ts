import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { AuditRepository } from '../audit/audit.repository';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { ARMS } from '../comparison/domain/evidence';
import { EvidenceRepository } from '../comparison/evidence.repository';
import { RollupReader } from '../comparison/rollup-reader';
import type { Tx } from '../database/sql';
import type { SegmentSplit } from '../flags/domain/segment-split';
import { stageIndex } from '../flags/domain/stage';
import type { FlagGateway } from '../flags/flag-gateway';
import { FLAG_GATEWAY } from '../flags/flags.module';
import type { WorkflowVersion } from '../workflows/domain/workflow-definition';
import { AlertService } from './alert.service';
import { calibrationFrom, Effects, guardWindowStart, SegmentFacts } from './domain/segment-machine';
import type { KnownSplit } from './domain/segment-state';
import { sameSplit } from './domain/steps';
import { SegmentRepository, SegmentState } from './segment.repository';

/**
 * The impure halves of a segment decision (domain/segment-machine.ts decides): loading the facts
 * a transition needs, under the segment's row lock; applying its effects once — the row, the
 * audit entries, the re-review list and the alerts, in one transaction; and, after it commits,
 * the flag write it owes Unleash.
 */
@Injectable()
export class SegmentDecisions {
  constructor(
    private readonly segments: SegmentRepository,
    private readonly evidence: EvidenceRepository,
    private readonly rollups: RollupReader,
    private readonly audit: AuditRepository,
    private readonly alerts: AlertService,
    @Inject(FLAG_GATEWAY) private readonly flags: FlagGateway,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'segment-decisions' });
  }

  private readonly log: Logger;

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
    };
  }

  /**
   * Applies a decision's effects in the caller's transaction; the alerts go out when it commits
   * (AlertService.committed). The flag write is returned, owed: the caller passes it to writeFlag
   * after the commit, so no row lock is held while Unleash is called and a move holds from
   * PostgreSQL alone if Unleash does not answer.
   */
  async apply(tx: Tx, at: { workflow: string; segment: string | null; flagSplit?: KnownSplit | null }, e: Effects): Promise<OwedFlagWrite | null> {
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
    if (!e.flagWrite || !at.segment) return null;
    return { workflow: at.workflow, segment: at.segment, split: e.flagWrite, before: at.flagSplit ?? null };
  }

  /**
   * Writes an owed split to Unleash and marks it confirmed. A move up is written only if the
   * strategy still holds what was known before it (an operator's edit in between is adopted at the
   * next cycle, never overwritten); a move down is written whatever the flag holds. Returns false
   * when Unleash did not take it: the write stays owed and the controller retries it every cycle.
   */
  async writeFlag(w: OwedFlagWrite): Promise<boolean> {
    try {
      if (w.before && isMoveUp(w.before, w.split)) {
        const live = (await this.flags.readWorkflowFlag(w.workflow)).segments.find((s) => s.segment === w.segment);
        if (live && !sameSplit(live.split, w.before)) {
          this.log.warn({ workflow: w.workflow, segment: w.segment, live: live.split, expected: w.before }, 'the strategy changed in Unleash since it was read: the move is not written, the operator\'s change is adopted next');
          await this.confirm(w, new Date(0));
          return true;
        }
      }
      await this.flags.writeSegmentSplit(w.workflow, w.segment, w.split);
    } catch (e) {
      this.log.warn({ err: errorMessage(e), workflow: w.workflow, segment: w.segment, split: w.split }, 'writing the split to Unleash failed; the stored stage holds and the write is retried');
      return false;
    }
    await this.confirm(w, new Date());
    return true;
  }

  private async confirm(w: OwedFlagWrite, at: Date): Promise<void> {
    await this.segments.confirmFlagWritten(w.workflow, w.segment, w.split, at);
  }
}

/** A split owed to a segment's strategy in Unleash, and what the strategy was known to hold before. */
export interface OwedFlagWrite {
  workflow: string;
  segment: string;
  split: SegmentSplit;
  before: KnownSplit | null;
}

function isMoveUp(before: SegmentSplit, after: SegmentSplit): boolean {
  const rank = (s: SegmentSplit) => stageIndex(s.stage) * 1000 + (s.stage === 'shadow' ? 0 : s.trafficPct);
  return rank(after) > rank(before);
}
