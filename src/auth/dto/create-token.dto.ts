import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { EXPIRES_IN_PATTERN, Role, ROLES } from '../domain/token';
import { MAX_SCOPED_WORKFLOWS, WORKFLOW_NAME_PATTERN } from '../domain/workflow-scope';

export class CreateTokenDto {
  @ApiProperty({ description: 'Who or what the token is for', example: 'maria (program manager)' })
  @IsString()
  @Length(1, 100)
  @Matches(/^[\p{L}\p{N} ._@()'-]+$/u, { message: "name may contain letters, digits, spaces and . _ @ ( ) ' -" })
  name!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES as unknown as string[])
  role!: Role;

  @ApiPropertyOptional({ description: 'Lifetime: a whole number of s, m, h or d, at most 3650d; without it the token never expires', example: '90d' })
  @IsOptional()
  @IsString()
  @Matches(EXPIRES_IN_PATTERN, { message: 'expiresIn must be a whole number of s, m, h or d, e.g. 90d' })
  expiresIn?: string;

  @ApiPropertyOptional({
    type: [String],
    description: 'The workflows the token may act on and read; without it, every workflow. Not for admin tokens.',
    example: ['support-triage'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SCOPED_WORKFLOWS)
  @IsString({ each: true })
  @Matches(WORKFLOW_NAME_PATTERN, { each: true, message: 'workflows must be workflow names: lower-case letters, digits and dashes, starting with a letter' })
  workflows?: string[];
}
