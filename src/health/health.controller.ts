import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { HealthService } from './health.service';

/** /health for load balancers and people: 200 when up or degraded, 503 when down. */
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('health')
  async get(@Res() res: Response): Promise<void> {
    const report = await this.health.report();
    res.status(report.status === 'down' ? 503 : 200).json(report);
  }
}
