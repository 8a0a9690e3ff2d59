import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditRepository } from '../audit/audit.repository';
import { CurrentPrincipal } from '../auth/principal.decorator';
import { CrossWorkflow, Roles } from '../auth/roles.decorator';
import type { Principal } from '../auth/token.service';
import { ApiErrors } from '../common/http/error.response';
import { toCsv } from './domain/csv';
import { AgreementQuery, AuditQuery, CalibrationQuery, CompareQuery } from './dto/report-query.dto';
import { AgreementReportResponse, AuditLogResponse, CalibrationReportResponse, CompareReportResponse } from './dto/report.response';
import { ReportsService } from './reports.service';

/** A 200 that is JSON, or CSV with format=csv. */
const jsonOrCsv = (model: new (...args: never[]) => object, csv: string) =>
  ApiOkResponse({
    description: `JSON, or with format=csv ${csv}`,
    content: { 'application/json': { schema: { $ref: getSchemaPath(model) } }, 'text/csv': { schema: { type: 'string' } } },
  });

@ApiTags('reports')
@ApiBearerAuth()
@ApiErrors(401, 403, 429)
@ApiExtraModels(AgreementReportResponse, AuditLogResponse)
@Controller('api')
export class ReportsController {
  constructor(
    private readonly reports: ReportsService,
    private readonly audit: AuditRepository,
  ) {}

  @Get('reports/agreement')
  @Roles('analyst', 'program_manager')
  @ApiOperation({
    summary:
      'Agreement by segment, day, version, model or prompt version: Wilson interval, kappa, confusion matrix, fields, overrides, human baseline, cost, latency (JSON or CSV)',
  })
  @jsonOrCsv(AgreementReportResponse, 'a file with one line per row (README, "For analysts")')
  @ApiErrors(400, 404)
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
  @ApiOkResponse({ type: CalibrationReportResponse })
  @ApiErrors(400, 404)
  calibration(@Query() q: CalibrationQuery) {
    return this.reports.calibration(q);
  }

  @Get('reports/compare')
  @Roles('analyst', 'program_manager')
  @ApiOperation({ summary: 'Two versions on the same items, paired (McNemar)' })
  @ApiOkResponse({ type: CompareReportResponse })
  @ApiErrors(400, 404)
  compare(@Query() q: CompareQuery) {
    return this.reports.compare(q);
  }

  @Get('audit')
  @Roles('analyst', 'program_manager', 'ops')
  @CrossWorkflow()
  @ApiOperation({ summary: 'The audit log, newest first, with filters (JSON or CSV)' })
  @jsonOrCsv(AuditLogResponse, 'a file with one line per event, details as JSON')
  @ApiErrors(400)
  async auditLog(@Query() q: AuditQuery, @CurrentPrincipal() p: Principal, @Res({ passthrough: true }) res: Response) {
    const events = await this.audit.find({
      workflow: q.workflow,
      // A scoped token reads its workflows' entries only (not the global ones: kill switch, tokens).
      workflows: p.workflows ?? undefined,
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
      return toCsv(
        ['id', 'at', 'actor', 'actorKind', 'action', 'workflow', 'segment', 'reason', 'details'],
        events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
      );
    }
    return { events };
  }
}
