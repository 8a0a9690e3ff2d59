import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditRepository } from '../audit/audit.repository';
import { Roles } from '../auth/roles.decorator';
import { toCsv } from './domain/csv';
import { AgreementQuery, AuditQuery, CalibrationQuery, CompareQuery } from './dto/report-query.dto';
import { ReportsService } from './reports.service';

@ApiTags('reports')
@ApiBearerAuth()
@Controller('api')
export class ReportsController {
  constructor(
    private readonly reports: ReportsService,
    private readonly audit: AuditRepository,
  ) {}

  @Get('reports/agreement')
  @Roles('analyst', 'program_manager')
  @ApiOperation({ summary: 'Agreement by segment, day, version, model or prompt version: Wilson interval, kappa, confusion matrix, fields, overrides, human baseline, cost, latency (JSON or CSV)' })
  async agreement(@Query() q: AgreementQuery, @Res({ passthrough: true }) res: Response) {
    if (q.format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="agreement-${q.workflow}-${q.groupBy ?? 'segment'}.csv"`);
      return this.reports.agreementCsv(q);
    }
    return this.reports.agreement(q);
  }

  @Get('reports/calibration')
  @Roles('analyst', 'program_manager')
  @ApiOperation({ summary: 'Confidence bins against agreement, with the threshold recommendation and its coverage' })
  calibration(@Query() q: CalibrationQuery) {
    return this.reports.calibration(q);
  }

  @Get('reports/compare')
  @Roles('analyst', 'program_manager')
  @ApiOperation({ summary: 'Two versions on the same items, paired (McNemar)' })
  compare(@Query() q: CompareQuery) {
    return this.reports.compare(q);
  }

  @Get('audit')
  @Roles('analyst', 'program_manager', 'ops')
  @ApiOperation({ summary: 'The audit log, newest first, with filters (JSON or CSV)' })
  async auditLog(@Query() q: AuditQuery, @Res({ passthrough: true }) res: Response) {
    const events = await this.audit.find({
      workflow: q.workflow,
      segment: q.segment,
      action: q.action,
      actor: q.actor,
      from: q.since ? new Date(q.since) : undefined,
      to: q.until ? new Date(q.until) : undefined,
      limit: q.limit ?? 200,
      beforeId: q.before ? String(q.before) : undefined,
    });
    if (q.format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', 'attachment; filename="audit.csv"');
      return toCsv(['id', 'at', 'actor', 'actorKind', 'action', 'workflow', 'segment', 'reason', 'details'], events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })));
    }
    return { events };
  }
}
