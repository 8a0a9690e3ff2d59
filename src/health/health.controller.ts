import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/roles.decorator';
import type { Response } from 'express';
import { HealthResponse } from './dto/health.response';
import { HealthService } from './health.service';

/** /health for load balancers and people: 200 when up or degraded, 503 when down. */
@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('health')
  @Public()
  @ApiOperation({ summary: 'PostgreSQL, Kafka, Unleash and the model circuit: 200 up or degraded, 503 down' })
  @ApiOkResponse({ type: HealthResponse, description: 'Up or degraded' })
  @ApiServiceUnavailableResponse({ type: HealthResponse, description: 'Down: PostgreSQL does not answer' })
  async get(@Res() res: Response): Promise<void> {
    const report = await this.health.report();
    res.status(report.status === 'down' ? 503 : 200).json(report);
  }
}
