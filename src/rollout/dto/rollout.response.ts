import { ApiProperty } from '@nestjs/swagger';
import { STAGES } from '../../flags/domain/stage';

/** One segment's share of the rollout's risk (rollout/domain/rollout-risk.ts). */
export class SegmentRiskView {
  @ApiProperty()
  workflow!: string;

  @ApiProperty()
  segment!: string;

  @ApiProperty({ enum: [...STAGES] })
  stage!: string;

  @ApiProperty({ description: 'Expected false reverts a day if the segment is healthy' })
  falseRevertsPerDay!: number;

  @ApiProperty({ description: 'Bound on the expected false promotions among its steps of the last day' })
  falsePromotionsLastDay!: number;

  @ApiProperty({ description: 'Bound on the chance that its pending step is a false promotion (0 when none is pending)' })
  falsePromotionPending!: number;
}

export class RolloutRiskResponse {
  @ApiProperty({ description: 'Expected false reverts a day over all segments, if every one is healthy' })
  falseRevertsPerDay!: number;

  @ApiProperty({ description: 'Upper bound on the expected false promotions among the steps taken in the last day' })
  falsePromotionsLastDay!: number;

  @ApiProperty({ description: 'Upper bound on the expected false promotions among the steps now pending' })
  falsePromotionsPending!: number;

  @ApiProperty({ type: () => [SegmentRiskView] })
  segments!: SegmentRiskView[];

  @ApiProperty({ type: [String], description: 'Workflows whose promotions are also judged together by e-BH' })
  shareControlledWorkflows!: string[];

  @ApiProperty({ description: 'One sentence for a program manager' })
  summary!: string;
}

export class KillSwitchResponse {
  @ApiProperty({ description: 'On when PostgreSQL or Unleash says so' })
  enabled!: boolean;

  @ApiProperty({ description: 'What PostgreSQL holds' })
  stored!: boolean;

  @ApiProperty({ type: Boolean, nullable: true, description: 'What Unleash holds; null when it does not answer' })
  unleash!: boolean | null;

  @ApiProperty({ description: 'A write to Unleash is owed' })
  pending!: boolean;
}

export class KillSwitchChangeResponse {
  @ApiProperty()
  enabled!: boolean;

  @ApiProperty({ enum: ['written', 'pending'], description: 'pending: stored in PostgreSQL (in force), written to Unleash when it answers again' })
  unleash!: string;
}
