import { ApiProperty } from '@nestjs/swagger';

const STATUSES = ['up', 'degraded', 'down'];

export class HealthCheckView {
  @ApiProperty({ enum: STATUSES })
  status!: string;

  @ApiProperty({ required: false, description: 'Why, when not plainly up (or what is still loading)' })
  detail?: string;

  @ApiProperty({ required: false, description: 'How long the check took; absent for the model circuit' })
  latencyMs?: number;
}

export class HealthChecksView {
  @ApiProperty({ type: () => HealthCheckView, description: 'down makes the service down' })
  postgres!: HealthCheckView;

  @ApiProperty({ type: () => HealthCheckView })
  kafka!: HealthCheckView;

  @ApiProperty({ type: () => HealthCheckView, description: 'degraded while routing on the last known flag state' })
  unleash!: HealthCheckView;

  @ApiProperty({ type: () => HealthCheckView, description: 'degraded while the circuit to the model is open or half-open' })
  model!: HealthCheckView;
}

export class HealthResponse {
  @ApiProperty({ enum: STATUSES, description: 'down (503) when PostgreSQL is down; degraded when anything else is' })
  status!: string;

  @ApiProperty({ description: 'The instance that answered' })
  instance!: string;

  @ApiProperty({ type: () => HealthChecksView })
  checks!: HealthChecksView;
}

export class LivenessResponse {
  @ApiProperty({ enum: ['up'] })
  status!: string;

  @ApiProperty({ description: 'The instance that answered' })
  instance!: string;
}

export class ReadinessResponse {
  @ApiProperty({ enum: ['ready', 'not-ready'] })
  status!: string;

  @ApiProperty({ type: [String], description: 'Why not, one line per unmet condition (empty when ready)' })
  reasons!: string[];

  @ApiProperty({ description: 'The instance that answered' })
  instance!: string;
}
