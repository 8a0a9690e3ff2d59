import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';

export const GROUP_BY = ['segment', 'day', 'version', 'model', 'promptVersion'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export class PeriodQuery {
  @ApiProperty({ description: 'Workflow name', example: 'support-triage' })
  @IsString()
  @Length(1, 100)
  workflow!: string;

  @ApiProperty({ required: false, description: 'Start (inclusive), ISO-8601; default 7 days ago' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiProperty({ required: false, description: 'End (exclusive), ISO-8601; default now' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiProperty({ required: false, description: 'Only this segment' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  segment?: string;
}

export class AgreementQuery extends PeriodQuery {
  @ApiProperty({ required: false, enum: GROUP_BY, default: 'segment' })
  @IsOptional()
  @IsIn(GROUP_BY as unknown as string[])
  groupBy?: GroupBy;

  @ApiProperty({ required: false, description: 'Only this workflow version (default: the champion, except when grouping by version, model or prompt version)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  version?: number;

  @ApiProperty({ required: false, enum: ['json', 'csv'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

export class CalibrationQuery extends PeriodQuery {
  @ApiProperty({ required: false, description: 'Workflow version (default: the champion)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  version?: number;
}

export class CompareQuery extends PeriodQuery {
  @ApiProperty({ description: 'First version' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  versionA!: number;

  @ApiProperty({ description: 'Second version' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  versionB!: number;
}

export class AuditQuery {
  @ApiProperty({ required: false })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  workflow?: string;

  @ApiProperty({ required: false })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  segment?: string;

  @ApiProperty({ required: false, description: 'An action, or a prefix ending in * (e.g. stage.*)' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  action?: string;

  @ApiProperty({ required: false })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  actor?: string;

  @ApiProperty({ required: false, description: 'From (inclusive), ISO-8601' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiProperty({ required: false, description: 'Until (exclusive), ISO-8601' })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;

  @ApiProperty({ required: false, default: 200, minimum: 1, maximum: 5000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;

  @ApiProperty({ required: false, description: 'Only events older than this id (paging)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  before?: number;

  @ApiProperty({ required: false, enum: ['json', 'csv'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}
