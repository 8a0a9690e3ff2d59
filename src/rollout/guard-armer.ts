import { Injectable } from '@nestjs/common';
import { EvidenceRepository } from '../comparison/evidence.repository';
import type { Tx } from '../database/sql';
import type { GuardParams } from '../stats/domain';
import type { WorkflowVersion } from '../workflows/domain/workflow-definition';
import { armGuard, GuardBaseline, GuardedStage } from './domain/guard-arming';

/** What arming needs of a segment: where it is and the threshold in force (with what certified it). */
export interface ArmableSegment {
  workflow: string;
  segment: string;
  threshold: number | null;
  thresholdSource: 'none' | 'computed' | 'fixed';
  thresholdDetails: Record<string, unknown> | null;
}

/**
 * Loads the blind evidence a stage's guard defends and arms it (domain/guard-arming.ts): at
 * supervised, blind agreement over every item of the last thresholdWindowDays (shadow and
 * supervised arms: both sample every item); at confidence-routed, the calibration set's accuracy
 * above the threshold in force, which is what the audits then watch.
 */
@Injectable()
export class GuardArmer {
  constructor(private readonly evidence: EvidenceRepository) {}

  async arm(tx: Tx, champion: WorkflowVersion, s: ArmableSegment, stage: GuardedStage, now: Date): Promise<{ params: GuardParams; baseline: GuardBaseline }> {
    const r = champion.definition.rollout;
    let measured: { n: number; agree: number } | null = null;
    let target: number;
    if (stage === 'supervised') {
      target = r.gates.supervised.agreementTarget;
      const from = new Date(now.getTime() - r.thresholdWindowDays * 86_400_000);
      const e = await this.evidence.arms(s.workflow, s.segment, champion.version, ['shadow', 'supervised'], from, tx);
      measured = { n: e.blindN, agree: e.blindAgree };
    } else {
      target = r.accuracyTarget;
      const d = s.thresholdDetails as { threshold?: number | null; nAbove?: number | null; correctAbove?: number | null } | null;
      if (s.thresholdSource === 'computed' && s.threshold !== null && d?.threshold === s.threshold && d.nAbove && d.correctAbove !== null && d.correctAbove !== undefined) {
        measured = { n: d.nAbove, agree: d.correctAbove };
      }
    }
    return armGuard({ stage, measured, target, guard: r.guard, at: now });
  }
}
