import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Length, Matches } from 'class-validator';
import { Role, ROLES } from '../domain/token';

export class CreateTokenDto {
  @ApiProperty({ description: 'Who or what the token is for', example: 'maria (program manager)' })
  @IsString()
  @Length(1, 100)
  @Matches(/^[\p{L}\p{N} ._@()'-]+$/u, { message: 'name may contain letters, digits, spaces and . _ @ ( ) \' -' })
  name!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES as unknown as string[])
  role!: Role;
}
