import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/roles.decorator';
import { LivenessResponse, ReadinessResponse } from './dto/health.response';
import { HealthService } from './health.service';

/** Orchestrators' probes: liveness (restart me?) and readiness (send me traffic?). */
@ApiTags('operations')
@Controller('health')
export class ProbesController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process answers; no dependency is checked (a dependency down must not get the instance restarted)' })
  @ApiOkResponse({ type: LivenessResponse })
  live(@Res() res: Response): void {
    res.status(200).json({ status: 'up', instance: this.health.instanceId });
  }

  @Get('ready')
  @Public()
  @ApiOperation({ summary: 'Readiness: PostgreSQL answers and the flag state is loaded; 503 with the reasons otherwise' })
  @ApiOkResponse({ type: ReadinessResponse, description: 'Ready: reasons is empty' })
  @ApiServiceUnavailableResponse({ type: ReadinessResponse, description: 'Not ready, with the reasons' })
  async ready(@Res() res: Response): Promise<void> {
    const r = await this.health.readiness();
    res.status(r.status === 'ready' ? 200 : 503).json(r);
  }
}
