import { ApiProperty } from '@nestjs/swagger';
import { AnchoredEvidenceView, ArmEvidenceView, BlindEvidenceView, ThresholdRecommendationView, WilsonIntervalView } from '../../common/http/stats.response';
import { GROUP_BY } from './report-query.dto';

/** What the report routes answer (reports.service.ts, reports/domain/agreement-report.ts). */

export class KappaView {
  @ApiProperty({ type: Number, nullable: true, description: 'Cohen’s κ; null when undefined (no items, or both sides always give one label)' })
  kappa!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Large-sample 95 % interval, clipped to [−1, 1]' })
  lower!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  upper!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  observedAgreement!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  expectedAgreement!: number | null;

  @ApiProperty({ type: [String], description: 'Every label seen on either side, in the order of matrix' })
  labels!: string[];

  @ApiProperty({
    type: 'array',
    items: { type: 'array', items: { type: 'number' } },
    description: 'matrix[i][j]: items the AI labelled labels[i] and the person labels[j]',
  })
  matrix!: number[][];

  @ApiProperty()
  n!: number;
}

export class FieldAgreementView {
  @ApiProperty()
  field!: string;

  @ApiProperty()
  n!: number;

  @ApiProperty()
  agree!: number;

  @ApiProperty()
  disagree!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'null when the field was never compared' })
  rate!: number | null;

  @ApiProperty()
  lower!: number;

  @ApiProperty()
  upper!: number;

  @ApiProperty()
  confidence!: number;
}

export class OverrideRateView {
  @ApiProperty()
  reviews!: number;

  @ApiProperty()
  overridden!: number;

  @ApiProperty({ type: Number, nullable: true })
  rate!: number | null;

  @ApiProperty()
  lower!: number;

  @ApiProperty()
  upper!: number;

  @ApiProperty()
  confidence!: number;
}

export class EvidenceSummaryView {
  @ApiProperty({ type: () => BlindEvidenceView, description: 'Over all arms' })
  blind!: BlindEvidenceView;

  @ApiProperty({ type: () => AnchoredEvidenceView, description: 'Over all arms' })
  anchored!: AnchoredEvidenceView;

  @ApiProperty({ type: () => [ArmEvidenceView] })
  arms!: ArmEvidenceView[];
}

export class RateView {
  @ApiProperty()
  n!: number;

  @ApiProperty()
  agree!: number;

  @ApiProperty({ type: Number, nullable: true })
  rate!: number | null;

  @ApiProperty()
  lower!: number;

  @ApiProperty()
  upper!: number;
}

export class ProportionDifferenceView {
  @ApiProperty({ description: 'p1 − p2' })
  difference!: number;

  @ApiProperty()
  lower!: number;

  @ApiProperty()
  upper!: number;

  @ApiProperty()
  confidence!: number;

  @ApiProperty({ enum: ['newcombe-hybrid-score', 'newcombe-paired-score'] })
  method!: string;
}

/** The AI's agreement beside how often two people agree on items both decided. */
export class HumanBaselineView {
  @ApiProperty({ type: () => RateView })
  ai!: RateView;

  @ApiProperty({ type: () => RateView })
  humans!: RateView;

  @ApiProperty({ type: () => ProportionDifferenceView, nullable: true, description: 'ai − humans' })
  difference!: ProportionDifferenceView | null;

  @ApiProperty({ type: String, enum: ['below', 'above', 'indistinguishable'], nullable: true })
  verdict!: string | null;
}

export class ModelCallsView {
  @ApiProperty()
  calls!: number;

  @ApiProperty()
  ok!: number;

  @ApiProperty()
  invalid!: number;

  @ApiProperty()
  failed!: number;

  @ApiProperty()
  skipped!: number;

  @ApiProperty({ type: Number, nullable: true, description: '(invalid + failed) / calls; null without calls' })
  errorRate!: number | null;
}

export class CostView {
  @ApiProperty()
  totalUsd!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'Per model call; null without calls' })
  perItemUsd!: number | null;

  @ApiProperty()
  promptTokens!: number;

  @ApiProperty()
  completionTokens!: number;
}

export class LatencyView {
  @ApiProperty({ type: Number, nullable: true })
  mean!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  p50!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  p95!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  p99!: number | null;
}

export class AgreementRowView {
  @ApiProperty({ description: 'The group: a segment, a day (YYYY-MM-DD), a version, a model or a prompt version' })
  key!: string;

  @ApiProperty({ description: 'Comparisons with a human decision' })
  n!: number;

  @ApiProperty()
  agree!: number;

  @ApiProperty({ type: () => WilsonIntervalView, description: 'All comparisons (blind and anchored); evidence tells them apart' })
  agreement!: WilsonIntervalView;

  @ApiProperty({ type: () => KappaView, nullable: true, description: 'null without a label field or confusion counts' })
  kappa!: KappaView | null;

  @ApiProperty({ type: () => [FieldAgreementView], description: 'Worst field first' })
  fields!: FieldAgreementView[];

  @ApiProperty({ type: () => OverrideRateView, nullable: true, description: 'null without reviews' })
  overrideRate!: OverrideRateView | null;

  @ApiProperty({ type: () => WilsonIntervalView, nullable: true, description: 'Accuracy on blind audits; null without audits' })
  audit!: WilsonIntervalView | null;

  @ApiProperty({ type: () => EvidenceSummaryView })
  evidence!: EvidenceSummaryView;

  @ApiProperty({ type: () => HumanBaselineView, nullable: true, description: 'null without double-labelled items' })
  humanBaseline!: HumanBaselineView | null;

  @ApiProperty({ type: () => ModelCallsView })
  ai!: ModelCallsView;

  @ApiProperty({ type: () => CostView })
  cost!: CostView;

  @ApiProperty({ type: () => LatencyView })
  latencyMs!: LatencyView;
}

export class AgreementReportResponse {
  @ApiProperty()
  workflow!: string;

  @ApiProperty({ enum: [...GROUP_BY] })
  groupBy!: string;

  @ApiProperty({ format: 'date-time' })
  from!: string;

  @ApiProperty({ format: 'date-time' })
  to!: string;

  @ApiProperty({ type: String, nullable: true })
  segment!: string | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'null: every version (grouped by version, model or prompt version)' })
  version!: number | null;

  @ApiProperty({ type: () => [AgreementRowView] })
  rows!: AgreementRowView[];
}

export class CalibrationBinView {
  @ApiProperty({ type: 'integer' })
  index!: number;

  @ApiProperty({ description: 'The bin covers [from, to); the last includes 1' })
  from!: number;

  @ApiProperty()
  to!: number;

  @ApiProperty()
  n!: number;

  @ApiProperty()
  agree!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'null when the bin is empty' })
  rate!: number | null;

  @ApiProperty()
  lower!: number;

  @ApiProperty()
  upper!: number;

  @ApiProperty()
  meanConfidence!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'rate − meanConfidence: negative is over-confident' })
  gap!: number | null;
}

export class CalibrationView {
  @ApiProperty({ type: () => [CalibrationBinView] })
  bins!: CalibrationBinView[];

  @ApiProperty()
  n!: number;

  @ApiProperty()
  agree!: number;

  @ApiProperty({ type: Number, nullable: true })
  expectedCalibrationError!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  maxCalibrationError!: number | null;

  @ApiProperty({ enum: ['mean', 'midpoint'] })
  confidenceSource!: string;
}

export class CalibrationReportResponse {
  @ApiProperty()
  workflow!: string;

  @ApiProperty({ type: 'integer' })
  version!: number;

  @ApiProperty({ type: String, nullable: true })
  segment!: string | null;

  @ApiProperty({ format: 'date-time' })
  from!: string;

  @ApiProperty({ format: 'date-time' })
  to!: string;

  @ApiProperty({ type: () => CalibrationView })
  calibration!: CalibrationView;

  @ApiProperty({ type: () => ThresholdRecommendationView })
  recommendation!: ThresholdRecommendationView;
}

export class PairCountsView {
  @ApiProperty()
  bothAgree!: number;

  @ApiProperty({ description: 'Only version A agreed with the person' })
  aOnly!: number;

  @ApiProperty()
  bOnly!: number;

  @ApiProperty()
  neither!: number;
}

export class McNemarView {
  @ApiProperty()
  n!: number;

  @ApiProperty()
  discordant!: number;

  @ApiProperty({ type: Number, nullable: true })
  accuracyA!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  accuracyB!: number | null;

  @ApiProperty({ type: () => ProportionDifferenceView, nullable: true, description: 'accuracyA − accuracyB; null when n = 0' })
  difference!: ProportionDifferenceView | null;

  @ApiProperty()
  exactPValue!: number;

  @ApiProperty()
  midPValue!: number;

  @ApiProperty({ type: Number, nullable: true })
  chiSquareCorrected!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  chiSquareCorrectedPValue!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  chiSquare!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  chiSquarePValue!: number | null;

  @ApiProperty()
  alpha!: number;

  @ApiProperty({ enum: ['A better', 'B better', 'no significant difference'] })
  verdict!: string;
}

export class CompareReportResponse {
  @ApiProperty()
  workflow!: string;

  @ApiProperty({ type: 'integer' })
  versionA!: number;

  @ApiProperty({ type: 'integer' })
  versionB!: number;

  @ApiProperty({ type: String, nullable: true })
  segment!: string | null;

  @ApiProperty({ format: 'date-time' })
  from!: string;

  @ApiProperty({ format: 'date-time' })
  to!: string;

  @ApiProperty({ type: () => PairCountsView })
  counts!: PairCountsView;

  @ApiProperty({ type: () => McNemarView })
  mcnemar!: McNemarView;
}

export class AuditEventView {
  @ApiProperty({ example: '1042' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({ example: 'maria (program_manager)' })
  actor!: string;

  @ApiProperty({ enum: ['person', 'controller', 'operator', 'system'] })
  actorKind!: string;

  @ApiProperty({ example: 'stage.promoted' })
  action!: string;

  @ApiProperty({ type: String, nullable: true })
  workflow!: string | null;

  @ApiProperty({ type: String, nullable: true })
  segment!: string | null;

  @ApiProperty({ type: String, nullable: true })
  reason!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What the action changed, by action' })
  details!: Record<string, unknown>;
}

export class AuditLogResponse {
  @ApiProperty({ type: () => [AuditEventView], description: 'Newest first' })
  events!: AuditEventView[];
}
