import { ApiProperty } from '@nestjs/swagger';

/** Shapes of the statistics that reports and segments share (src/stats/domain). */

const ARMS = ['shadow', 'supervised', 'confidence-routed'];

/** A proportion with its Wilson score interval (stats/domain/wilson-interval.ts). */
export class WilsonIntervalView {
  @ApiProperty({ minimum: 0 })
  n!: number;

  @ApiProperty({ minimum: 0 })
  successes!: number;

  @ApiProperty({ type: Number, nullable: true, minimum: 0, maximum: 1, description: 'successes / n; null with no observations (the interval is then [0, 1])' })
  rate!: number | null;

  @ApiProperty({ minimum: 0, maximum: 1 })
  lower!: number;

  @ApiProperty({ minimum: 0, maximum: 1 })
  upper!: number;

  @ApiProperty({ example: 0.95 })
  confidence!: number;
}

/** Blind labels: the person decided without seeing the AI's answer; decisions use these alone. */
export class BlindEvidenceView {
  @ApiProperty()
  n!: number;

  @ApiProperty()
  agree!: number;

  @ApiProperty({ type: () => WilsonIntervalView })
  agreement!: WilsonIntervalView;
}

/** Anchored reviews: the person saw the AI's answer; they overstate agreement and give the override rate. */
export class AnchoredEvidenceView {
  @ApiProperty()
  n!: number;

  @ApiProperty()
  agree!: number;

  @ApiProperty()
  overridden!: number;

  @ApiProperty({ type: () => WilsonIntervalView })
  agreement!: WilsonIntervalView;
}

/** Blind beside anchored labels of one arm (the items routed under one stage). */
export class ArmEvidenceView {
  @ApiProperty({ enum: ARMS })
  arm!: string;

  @ApiProperty({ type: () => BlindEvidenceView })
  blind!: BlindEvidenceView;

  @ApiProperty({ type: () => AnchoredEvidenceView })
  anchored!: AnchoredEvidenceView;
}

/** One candidate threshold tested for certification, from the highest down (stats/domain/threshold.ts). */
export class ThresholdCandidateView {
  @ApiProperty({ minimum: 0, maximum: 1, description: 'λ, the lower edge of the bin' })
  threshold!: number;

  @ApiProperty({ type: 'integer' })
  binIndex!: number;

  @ApiProperty({ description: 'Labelled items with confidence ≥ λ' })
  n!: number;

  @ApiProperty()
  correct!: number;

  @ApiProperty()
  accuracy!: number;

  @ApiProperty({ description: 'Anytime-valid (or, for a single look, exact binomial) p-value against "accuracy above λ is below the target"' })
  pValue!: number;

  @ApiProperty()
  rejected!: boolean;
}

/** The lowest confidence threshold certified to keep accuracy at or above the target above it. */
export class ThresholdRecommendationView {
  @ApiProperty({ enum: ['certified', 'no-labels', 'too-few-labels', 'not-certified'] })
  status!: string;

  @ApiProperty({ type: Number, nullable: true, description: 'The lowest certified threshold; null: none is certified yet (see reason)' })
  threshold!: number | null;

  @ApiProperty({ type: 'integer', nullable: true })
  binIndex!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Share of labelled items at or above the threshold: how much would go auto' })
  coverage!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  nAbove!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  correctAbove!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  accuracyAbove!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Wilson bounds of the accuracy above the threshold, for reading' })
  accuracyLower!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  accuracyUpper!: number | null;

  @ApiProperty()
  confidence!: number;

  @ApiProperty({ description: 'The guarantee: P(accuracy above the threshold ≥ target) ≥ 1 − delta' })
  target!: number;

  @ApiProperty()
  delta!: number;

  @ApiProperty({ description: 'Candidates with fewer labelled items above them are not tested' })
  minCount!: number;

  @ApiProperty({ enum: ['anytime', 'fixed-sample'] })
  test!: string;

  @ApiProperty({ description: 'Labelled items in all' })
  n!: number;

  @ApiProperty({ type: () => [ThresholdCandidateView] })
  tested!: ThresholdCandidateView[];

  @ApiProperty({ description: 'One sentence for a program manager' })
  reason!: string;
}
