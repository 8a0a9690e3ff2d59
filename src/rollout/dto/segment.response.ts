import { ApiProperty } from '@nestjs/swagger';
import { ArmEvidenceView, ThresholdRecommendationView, WilsonIntervalView } from '../../common/http/stats.response';
import { STAGES } from '../../flags/domain/stage';

/*
 * What the segment routes answer (segments.controller.ts `view`). Several parts are stored as
 * JSON by the controller (the gate, the guard's baseline, the threshold's details); fields not
 * marked required may be missing from rows an older version wrote.
 */

const CRITERIA = [
  'minimum-sample',
  'minimum-dwell',
  'agreement',
  'override-rate',
  'error-rate',
  'budget',
  'approval',
  'threshold',
  'human-parity',
  'cross-segment',
];

export class SegmentSplitView {
  @ApiProperty({ enum: [...STAGES] })
  stage!: string;

  @ApiProperty({ minimum: 0, maximum: 100, description: 'Share of the segment’s items at this stage; the rest are at the stage below' })
  trafficPct!: number;
}

/** What Unleash holds for the segment, as last written or adopted. */
export class FlagSplitView extends SegmentSplitView {
  @ApiProperty({ description: 'A write to Unleash is owed (the stored stage is in force meanwhile)' })
  pending!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'When Unleash confirmed the write (ISO-8601)' })
  writtenAt!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'An operator’s odd split that was adopted, and what is odd about it' })
  irregular!: string | null;
}

export class CriterionIntervalView {
  @ApiProperty()
  lower!: number;

  @ApiProperty()
  upper!: number;

  @ApiProperty()
  confidence!: number;
}

/** One criterion of the gate with the number it was judged on (stats/domain/gate.ts). */
export class GateCriterionView {
  @ApiProperty({ enum: CRITERIA })
  name!: string;

  @ApiProperty({ type: Boolean, nullable: true, description: 'true: holds; false: does not; null: the data cannot tell yet' })
  holds!: boolean | null;

  @ApiProperty({
    oneOf: [{ type: 'number' }, { type: 'boolean' }],
    nullable: true,
    description: 'The measured value (a rate, a count, milliseconds or yes/no); null when there is none',
  })
  actual!: number | boolean | null;

  @ApiProperty({ oneOf: [{ type: 'number' }, { type: 'boolean' }], description: 'What it is compared with' })
  required!: number | boolean;

  @ApiProperty({ type: Number, nullable: true, description: 'Signed distance from the requirement, positive on the good side' })
  margin!: number | null;

  @ApiProperty({ type: () => CriterionIntervalView, required: false, description: 'The confidence sequence of a rate criterion' })
  interval?: CriterionIntervalView;

  @ApiProperty({ description: 'One sentence for people' })
  detail!: string;
}

/** The evidence the gate judged: the arm at the segment's stage, items the AI decided during the step. */
export class GateCountsView {
  @ApiProperty({ enum: [...STAGES] })
  arm!: string;

  @ApiProperty({ description: 'Blind labels' })
  n!: number;

  @ApiProperty()
  agree!: number;

  @ApiProperty({ description: 'Anchored reviews' })
  reviews!: number;

  @ApiProperty()
  overridden!: number;

  @ApiProperty()
  anchoredAgree!: number;

  @ApiProperty()
  aiCalls!: number;

  @ApiProperty()
  aiFailures!: number;
}

export class GateBudgetView {
  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ description: 'Tokens used today' })
  tokens!: number;

  @ApiProperty({ description: 'USD spent today' })
  cost!: number;

  @ApiProperty({ required: false })
  dailyTokens?: number;

  @ApiProperty({ required: false })
  dailyCostUsd?: number;
}

/** The controller's last judgement of the segment's next step. */
export class GateStatusView {
  @ApiProperty({
    enum: ['pass', 'fail', 'inconclusive', 'awaiting-approval', 'top'],
    description: 'top: the segment is at the top of the ladder, nothing to judge',
  })
  verdict!: string;

  @ApiProperty({ type: () => SegmentSplitView, nullable: true, description: 'The step being judged (null at the top)' })
  target!: SegmentSplitView | null;

  @ApiProperty()
  approvalRequired!: boolean;

  @ApiProperty({ format: 'date-time' })
  evaluatedAt!: string;

  @ApiProperty({ enum: [...STAGES], required: false, description: 'The stage the segment is at (absent at the top)' })
  stage?: string;

  @ApiProperty({ type: 'integer', required: false, description: 'Index of the current traffic step' })
  step?: number;

  @ApiProperty({ type: () => [GateCriterionView], required: false })
  criteria?: GateCriterionView[];

  @ApiProperty({
    type: Number,
    nullable: true,
    required: false,
    description: 'How many more blind labels should let the gate decide, if the current rate holds',
  })
  moreSamplesNeeded?: number | null;

  @ApiProperty({ required: false })
  summary?: string;

  @ApiProperty({
    type: String,
    nullable: true,
    required: false,
    description: 'Why a passing gate does not promote now (paused, Unleash unreachable, flag disabled, kill switch)',
  })
  holdReason?: string | null;

  @ApiProperty({ type: () => GateCountsView, required: false })
  counts?: GateCountsView;

  @ApiProperty({ type: () => GateBudgetView, required: false })
  budget?: GateBudgetView;

  @ApiProperty({
    type: () => [GuardrailReadingView],
    nullable: true,
    required: false,
    description: 'The guardrails beyond agreement at this look (null: none configured, or in shadow)',
  })
  guardrails?: GuardrailReadingView[] | null;
}

/** What the regression guard defends and where the number came from (rollout/domain/guard-arming.ts). */
export class GuardBaselineView {
  @ApiProperty({ enum: ['supervised', 'confidence-routed'], required: false })
  stage?: string;

  @ApiProperty({
    enum: ['measured', 'target'],
    required: false,
    description: 'measured: blind agreement of the kind the guard watches; target: too little of it, the stage’s target is defended',
  })
  source?: string;

  @ApiProperty()
  n!: number;

  @ApiProperty()
  agree!: number;

  @ApiProperty()
  rate!: number;

  @ApiProperty({ description: 'The lower bound the false-revert rate is guaranteed at' })
  lower!: number;

  @ApiProperty({ required: false, description: 'Expected blind labels between false reverts' })
  arl0?: number;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({ required: false })
  detail?: string;
}

export class GuardWindowView {
  @ApiProperty({ description: 'Blind labels since the statistic last left zero' })
  n!: number;

  @ApiProperty()
  agree!: number;
}

/** The regression guard's CUSUM now. */
export class GuardView {
  @ApiProperty({ description: 'The CUSUM statistic' })
  statistic!: number;

  @ApiProperty({ description: 'It reverts when the statistic reaches this' })
  threshold!: number;

  @ApiProperty({ description: 'The agreement defended' })
  baseline!: number;

  @ApiProperty({ description: 'The lowered agreement it is tuned to catch fastest' })
  alternative!: number;

  @ApiProperty({ type: () => GuardWindowView })
  window!: GuardWindowView;
}

/** The computed threshold's last recommendation, kept by the controller. */
export class ThresholdDetailsView extends ThresholdRecommendationView {
  @ApiProperty({ type: String, nullable: true, required: false, description: 'Where the calibration set starts after audits withdrew a threshold (ISO-8601)' })
  calibrationFrom?: string | null;

  @ApiProperty({ required: false, description: 'Why the threshold moved or stayed at the last look' })
  lastMove?: string;
}

export class SegmentView {
  @ApiProperty()
  workflow!: string;

  @ApiProperty({ example: 'email|eu' })
  segment!: string;

  @ApiProperty({ enum: [...STAGES] })
  stage!: string;

  @ApiProperty({ minimum: 0, maximum: 100, description: 'Share at the stage; the rest is at the stage below (100 in shadow)' })
  trafficPct!: number;

  @ApiProperty({ format: 'date-time' })
  stageStartedAt!: string;

  @ApiProperty({ format: 'date-time' })
  stepStartedAt!: string;

  @ApiProperty()
  paused!: boolean;

  @ApiProperty({
    type: String,
    enum: ['hold', 'guard', 'operator'],
    nullable: true,
    description: 'hold: a person; guard: a revert; operator: a change in Unleash',
  })
  pauseKind!: string | null;

  @ApiProperty({ type: String, nullable: true })
  pauseReason!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  pausedAt!: string | null;

  @ApiProperty({ type: String, nullable: true })
  pausedBy!: string | null;

  @ApiProperty({ type: () => SegmentSplitView, nullable: true, description: 'The step waiting for a program manager’s approval' })
  pendingStep!: SegmentSplitView | null;

  @ApiProperty({ type: () => SegmentSplitView, nullable: true, description: 'The step a program manager approved' })
  approvedStep!: SegmentSplitView | null;

  @ApiProperty({ type: () => GateStatusView, nullable: true, description: 'null until the controller has judged the current step' })
  gate!: GateStatusView | null;

  @ApiProperty({ type: () => FlagSplitView, nullable: true })
  flag!: FlagSplitView | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastEvaluatedAt!: string | null;

  @ApiProperty({ type: () => GuardBaselineView, nullable: true })
  baseline!: GuardBaselineView | null;

  @ApiProperty({ type: () => GuardView, nullable: true, description: 'null in shadow or before the guard is armed' })
  guard!: GuardView | null;

  @ApiProperty({ type: Number, nullable: true, description: 'The confidence threshold in force' })
  threshold!: number | null;

  @ApiProperty({ enum: ['none', 'computed', 'fixed'] })
  thresholdSource!: string;

  @ApiProperty({ type: () => ThresholdDetailsView, nullable: true })
  thresholdDetails!: ThresholdDetailsView | null;

  @ApiProperty({ type: () => DriftMonitorView, nullable: true, description: 'null in shadow, with monitors off, or before it is armed' })
  monitor!: DriftMonitorView | null;

  @ApiProperty({ type: Number, nullable: true, description: 'The blind share in force (raised after a drift alarm); null in shadow' })
  blindShare!: number | null;

  @ApiProperty({ type: () => [ClassGuardView], description: 'The critical classes’ own guards (empty: none named, or in shadow)' })
  classGuards!: ClassGuardView[];
}

/** The champion's rollups of the segment over the last hour. */
export class LastHourView {
  @ApiProperty({ description: 'Comparisons with a human decision' })
  n!: number;

  @ApiProperty()
  agree!: number;

  @ApiProperty()
  reviews!: number;

  @ApiProperty()
  overridden!: number;

  @ApiProperty()
  aiCalls!: number;

  @ApiProperty({ description: 'Invalid or failed model answers' })
  aiFailures!: number;

  @ApiProperty()
  aiSkipped!: number;

  @ApiProperty()
  costUsd!: number;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { auto: 12, review: 3 }, description: 'Items routed, by route' })
  routed!: Record<string, number>;

  @ApiProperty({ type: () => WilsonIntervalView, description: 'All comparisons (blind and anchored)' })
  agreement!: WilsonIntervalView;

  @ApiProperty({ type: () => WilsonIntervalView, nullable: true, description: 'null without reviews' })
  overrideRate!: WilsonIntervalView | null;
}

export class SegmentEvidenceView {
  @ApiProperty({ format: 'date-time', description: 'The stage began: items the AI decided since count' })
  since!: string;

  @ApiProperty({ type: () => [ArmEvidenceView] })
  arms!: ArmEvidenceView[];
}

export class SegmentDetailView extends SegmentView {
  @ApiProperty({ type: () => LastHourView })
  lastHour!: LastHourView;

  @ApiProperty({ type: 'integer' })
  openRereviewItems!: number;

  @ApiProperty({ type: () => SegmentEvidenceView, description: 'Blind beside anchored labels, per arm, since the stage began' })
  evidence!: SegmentEvidenceView;
}

/** An item the AI decided auto inside a regressed window. */
export class RereviewItemView {
  @ApiProperty({ example: '42' })
  id!: string;

  @ApiProperty()
  itemId!: string;

  @ApiProperty({ format: 'date-time', description: 'When the revert listed it' })
  listedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  resolvedAt!: string | null;

  @ApiProperty({ type: String, nullable: true })
  resolvedBy!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'The AI’s decision (the workflow’s decision schema)' })
  decision!: Record<string, unknown> | null;

  @ApiProperty({ type: Number, nullable: true })
  confidence!: number | null;

  @ApiProperty({ format: 'date-time', description: 'When it was routed' })
  decidedAt!: string;

  @ApiProperty({ description: 'The audit entry of the revert' })
  revertAuditId!: string;
}

export class ResolvedRereviewView {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  workflow!: string;

  @ApiProperty()
  segment!: string;

  @ApiProperty()
  itemId!: string;
}

/** One guardrail beyond agreement at the last look (rollout/domain/guardrails.ts). */
export class GuardrailLatencyView {
  @ApiProperty({ type: Number, nullable: true, description: 'The latency-bucket bound actually judged: the smallest at or above max' })
  judgedAboveMs!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'The p95 interpolated from the histogram, for people (not what is judged)' })
  p95Ms!: number | null;
}

export class GuardrailReadingView {
  @ApiProperty({ enum: ['errorRate', 'latencyP95Ms', 'costPerItemUsd'] })
  name!: string;

  @ApiProperty({ description: 'Model calls since the stage began or the guardrail last restarted' })
  n!: number;

  @ApiProperty({ type: Number, nullable: true })
  observed!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'What is compared with the limit: an anytime lower bound (cost: the mean)' })
  bound!: number | null;

  @ApiProperty()
  max!: number;

  @ApiProperty()
  limit!: number;

  @ApiProperty({ type: Number, nullable: true })
  confidence!: number | null;

  @ApiProperty({ type: () => GuardrailLatencyView, required: false })
  latency?: GuardrailLatencyView;

  @ApiProperty()
  judged!: boolean;

  @ApiProperty()
  breached!: boolean;

  @ApiProperty({ enum: ['stage', 'restart'] })
  since!: string;

  @ApiProperty()
  detail!: string;
}

/** A direction the drift monitor watches, by evidence. */
export class DriftDirectionView {
  @ApiProperty({ example: 'confidence < 0.7 · other' })
  name!: string;

  @ApiProperty({ description: 'Its share of the reference decisions' })
  referenceShare!: number;

  @ApiProperty({ description: 'The upper bound of that share the monitor bets against' })
  upper!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'Its share among recent decisions (half-life 500)' })
  recentShare!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'ln of its part of the evidence (nats)' })
  evidence!: number | null;

  @ApiProperty()
  alternative!: number;
}

/** The label-free drift monitor of the segment's stage and the blind share it raised (rollout/domain/drift-watch.ts). */
export class DriftMonitorView {
  @ApiProperty({ enum: ['collecting', 'watching'], description: 'collecting: the reference has fewer decisions than rollout.monitors.minReference' })
  status!: string;

  @ApiProperty({ description: 'Decisions in the reference' })
  referenceN!: number;

  @ApiProperty({ description: 'Decisions watched since the monitor (re)started' })
  n!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'ln of the evidence of a shift (nats)' })
  statistic!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'ln of rollout.monitors.targetArl0: it alarms there' })
  threshold!: number | null;

  @ApiProperty({ type: () => [DriftDirectionView] })
  leading!: DriftDirectionView[];

  @ApiProperty({ description: 'The blind share is raised after an alarm' })
  raised!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  raisedAt!: string | null;

  @ApiProperty({ description: 'Blind labels since the raise, and their agreements (the all-clear’s evidence)' })
  labelsSinceRaise!: number;

  @ApiProperty()
  agreeSinceRaise!: number;
}

/** One stream of a critical class's guard. */
export class ClassStreamView {
  @ApiProperty()
  statistic!: number;

  @ApiProperty()
  threshold!: number;

  @ApiProperty()
  baseline!: number;

  @ApiProperty()
  alternative!: number;

  @ApiProperty({ enum: ['measured', 'target'], required: false })
  source?: string;
}

export class ClassGuardView {
  @ApiProperty({ example: 'priority=urgent' })
  name!: string;

  @ApiProperty({ type: () => ClassStreamView, description: 'Of the blind labels whose person chose the class, did the AI?' })
  recall!: ClassStreamView;

  @ApiProperty({ type: () => ClassStreamView, description: 'Of the blind labels where the AI chose the class, did the person?' })
  precision!: ClassStreamView;
}
