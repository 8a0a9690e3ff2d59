import { ApiProperty } from '@nestjs/swagger';

export class WorkflowVersionSummary {
  @ApiProperty({ example: 'support-triage' })
  workflow!: string;

  @ApiProperty({ type: 'integer', minimum: 1 })
  version!: number;

  @ApiProperty({
    enum: ['champion', 'challenger', 'retired'],
    description: 'champion: its decisions are routed; challenger: runs in shadow beside it; retired: stored, not run',
  })
  role!: string;

  @ApiProperty({ description: 'The model’s name' })
  model!: string;

  @ApiProperty()
  promptVersion!: string;
}

export class WorkflowVersionView extends WorkflowVersionSummary {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The whole workflow definition as stored (the format of config/workflows.yaml without role; README, "Workflows"), defaults filled in',
  })
  definition!: Record<string, unknown>;
}

export class WorkflowView {
  @ApiProperty({ example: 'support-triage' })
  workflow!: string;

  @ApiProperty()
  title!: string;

  @ApiProperty({ description: 'Empty when the definition has none' })
  description!: string;

  @ApiProperty({ type: [String], example: ['channel', 'region'], description: 'The attributes whose values name a segment' })
  segmentBy!: string[];

  @ApiProperty({ type: () => WorkflowVersionSummary })
  champion!: WorkflowVersionSummary;

  @ApiProperty({ type: () => [WorkflowVersionSummary] })
  challengers!: WorkflowVersionSummary[];
}
