import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional } from 'class-validator';
import { ReasonDto } from '../../common/http/dto';

export class CreateVersionDto extends ReasonDto {
  @ApiProperty({
    description:
      "The whole workflow definition (as in config/workflows.yaml, without role); its name must be the path's workflow and its version above every stored one",
  })
  @IsObject()
  definition!: Record<string, unknown>;

  @ApiProperty({
    enum: ['champion', 'challenger'],
    required: false,
    default: 'challenger',
    description: 'challenger: runs in shadow beside the champion; champion: its decisions are routed',
  })
  @IsOptional()
  @IsIn(['champion', 'challenger'])
  role?: 'champion' | 'challenger';
}
