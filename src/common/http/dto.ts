import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** Every action that changes a rollout takes a reason; it lands in the audit log. */
export class ReasonDto {
  @ApiProperty({ description: 'Why: recorded in the audit log', example: 'gate holds for a week; approved in the weekly review', minLength: 3, maxLength: 500 })
  @IsString()
  @Length(3, 500)
  reason!: string;
}
