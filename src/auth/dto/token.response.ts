import { ApiProperty } from '@nestjs/swagger';
import { ROLES } from '../domain/token';

export class MeResponse {
  @ApiProperty({ example: 'maria (program manager)' })
  name!: string;

  @ApiProperty({ enum: ROLES })
  role!: string;

  @ApiProperty({ type: [String], nullable: true, description: 'The workflows the token may act on and read; null: every workflow' })
  workflows!: string[] | null;
}

/** A stored token: never its secret, only the first characters to tell it apart. */
export class TokenView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: ROLES })
  role!: string;

  @ApiProperty({ example: 'us_AbC12x', description: 'The first characters of the secret' })
  tokenPrefix!: string;

  @ApiProperty({ description: 'Who created it (the admin, or the CLI)' })
  createdBy!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Updated at most once a minute' })
  lastUsedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Refused from this instant on (401, the token expired); null: never expires' })
  expiresAt!: string | null;

  @ApiProperty({ type: [String], nullable: true, description: 'The workflows the token may act on and read; null: every workflow' })
  workflows!: string[] | null;
}

export class CreatedTokenView extends TokenView {
  @ApiProperty({ example: 'us_…', description: 'The secret: shown in this answer only, stored as a hash' })
  token!: string;
}
