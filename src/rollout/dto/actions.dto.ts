import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsNumber, IsOptional, Max, Min, ValidateIf } from 'class-validator';
import { ReasonDto } from '../../common/http/dto';

export class RollbackDto extends ReasonDto {
  @ApiProperty({ required: false, default: false, description: 'Straight back to shadow instead of one stage back' })
  @IsOptional()
  @IsBoolean()
  toShadow?: boolean;
}

export class ThresholdDto extends ReasonDto {
  @ApiProperty({ type: Number, nullable: true, description: 'A fixed confidence threshold in [0, 1], or null to return to the computed one' })
  @ValidateIf((o: ThresholdDto) => o.threshold !== null)
  @IsNumber()
  @Min(0)
  @Max(1)
  threshold!: number | null;
}

export class KillSwitchDto extends ReasonDto {
  @ApiProperty({ description: 'true: nothing leaves Understudy for any workflow' })
  @IsBoolean()
  enabled!: boolean;
}
