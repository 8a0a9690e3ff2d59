import type { SegmentSplit } from '../../flags/domain/segment-split';
import type { Stage } from '../../flags/domain/stage';
import type { ClassGuardParams, ClassGuardState, GuardParams, GuardState } from '../../stats/domain';
import type { GuardBaseline, GuardedStage } from './guard-arming';
import type { DriftWatch } from './drift-watch';
import type { GuardrailState } from './guardrails';
import type { SegmentCounts } from './segment-counts';

export type KnownSplit = SegmentSplit & { irregular?: string; pending?: boolean; writtenAt?: string };

export type PauseKind = 'hold' | 'guard' | 'operator';

/** One workflow × segment: its stage, traffic split and everything the controller keeps about it. */
export interface SegmentState {
  workflow: string;
  segment: string;
  /** The workflow version whose evidence earned the stage (null: a row from before versions were tracked). */
  version: number | null;
  stage: Stage;
  trafficPct: number;
  stageStartedAt: Date;
  stepStartedAt: Date;
  paused: boolean;
  pauseKind: PauseKind | null;
  pauseReason: string | null;
  pausedAt: Date | null;
  pausedBy: string | null;
  /**
   * What the segment's strategy in Unleash is known to hold: written or adopted; `irregular` when
   * it adopted an operator's odd split, `pending` while a write is owed to Unleash (the stored stage
   * is already in force), `writtenAt` when the write was confirmed.
   */
  flagSplit: KnownSplit | null;
  stepBase: (SegmentCounts & { rangeStart: string }) | null;
  pendingStep: SegmentSplit | null;
  approvedStep: SegmentSplit | null;
  lastVerdict: Record<string, unknown> | null;
  lastEvaluatedAt: Date | null;
  /** What the guard defends (domain/guard-arming.ts); older rows lack stage, source and detail and are re-armed. */
  baseline: (Omit<GuardBaseline, 'stage' | 'source' | 'detail' | 'arl0'> & Partial<Pick<GuardBaseline, 'stage' | 'source' | 'detail' | 'arl0'>>) | null;
  guardState: (GuardState & { totalsN: number; totalsAgree: number }) | null;
  guardParams: GuardParams | null;
  guardWindowStartedAt: Date | null;
  threshold: number | null;
  thresholdSource: 'none' | 'computed' | 'fixed';
  thresholdDetails: Record<string, unknown> | null;
  thresholdUpdatedAt: Date | null;
  /** The critical classes' own guards (recall and precision), by class name; null until armed above shadow. */
  classGuards: Record<string, ClassGuardEntry> | null;
  /** The guardrails' watermarks (domain/guardrails.ts); null: every guardrail counts from the stage's start. */
  guardrailState: GuardrailState | null;
  /** The label-free drift monitor and its adaptive audit (domain/drift-watch.ts); null in shadow or until armed. */
  driftMonitor: DriftWatch | null;
  /** The factor routing multiplies the stage's blind share by (null: the base share); raised by a monitor's alarm. */
  auditFactor: number | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One critical class's guard: armed for a stage on the class's blind labels before it (domain/class-guards.ts). */
export interface ClassGuardEntry {
  stage: GuardedStage;
  params: ClassGuardParams;
  state: ClassGuardState;
  /** The class's blind counts of the live arm since the stage began, when the guard (re)started: its watermark. */
  totals: [number, number, number];
  baseline: { recall: GuardBaseline; precision: GuardBaseline };
  /** When the current window opened (a statistic above zero), for the re-review list. */
  windowStartedAt: string | null;
}
