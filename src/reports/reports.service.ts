import { Inject, Injectable } from '@nestjs/common';
import { Clock, CLOCK } from '../common/clock';
import { DomainError, ErrorCode } from '../common/domain-error';
import { calibration, mcnemarTest, recommendThreshold } from '../stats/domain';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { agreementCsvRecord, agreementRow, AGREEMENT_CSV_COLUMNS } from './domain/agreement-report';
import { toCsv } from './domain/csv';
import type { AgreementQuery, CalibrationQuery, CompareQuery, PeriodQuery } from './dto/report-query.dto';
import { ReportFilter, ReportsRepository } from './reports.repository';

const WEEK_MS = 7 * 86_400_000;

/** Agreement, calibration and paired comparisons, for analysts — all from rollups. */
@Injectable()
export class ReportsService {
  constructor(
    private readonly repo: ReportsRepository,
    private readonly workflows: WorkflowRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private filter(q: PeriodQuery): ReportFilter & { champion: number } {
    const active = this.workflows.activeOf(q.workflow);
    if (!active) throw new DomainError(ErrorCode.NotFound, `workflow ${q.workflow} was not found`);
    const to = q.to ? new Date(q.to) : this.clock.now();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - WEEK_MS);
    if (!(from < to)) throw new DomainError(ErrorCode.Validation, 'from: must be before to (isBefore)');
    return { workflow: q.workflow, from, to, segment: q.segment, champion: active.champion.version };
  }

  async agreement(q: AgreementQuery) {
    const f = this.filter(q);
    const groupBy = q.groupBy ?? 'segment';
    const byVersion = groupBy === 'version' || groupBy === 'model' || groupBy === 'promptVersion';
    const version = q.version ?? (byVersion ? undefined : f.champion);
    const rows = (await this.repo.agreement({ ...f, version }, groupBy)).map(agreementRow);
    return { workflow: q.workflow, groupBy, from: f.from, to: f.to, segment: q.segment ?? null, version: version ?? null, rows };
  }

  async agreementCsv(q: AgreementQuery): Promise<string> {
    const report = await this.agreement(q);
    return toCsv(AGREEMENT_CSV_COLUMNS, report.rows.map(agreementCsvRecord));
  }

  async calibration(q: CalibrationQuery) {
    const f = this.filter(q);
    const version = q.version ?? f.champion;
    const def = this.workflows.version(q.workflow, version)?.definition;
    if (!def) throw new DomainError(ErrorCode.NotFound, `version ${version} of ${q.workflow} was not found`);
    const bins = await this.repo.confidenceBins({ ...f, version });
    const n = bins.n.length ? bins.n : new Array(20).fill(0);
    const agree = bins.agree.length ? bins.agree : new Array(20).fill(0);
    const r = def.rollout;
    return {
      workflow: q.workflow,
      version,
      segment: q.segment ?? null,
      from: f.from,
      to: f.to,
      calibration: calibration({ n, agree }),
      recommendation: recommendThreshold({ n, correct: agree, target: r.accuracyTarget, delta: r.delta, minCount: r.minLabelsPerThreshold }),
    };
  }

  async compare(q: CompareQuery) {
    const f = this.filter(q);
    if (q.versionA === q.versionB) throw new DomainError(ErrorCode.Validation, 'versionB: must differ from versionA (notEquals)');
    for (const v of [q.versionA, q.versionB]) {
      if (!this.workflows.version(q.workflow, v)) throw new DomainError(ErrorCode.NotFound, `version ${v} of ${q.workflow} was not found`);
    }
    const p = await this.repo.pairs(f, q.versionA, q.versionB);
    return {
      workflow: q.workflow,
      versionA: q.versionA,
      versionB: q.versionB,
      segment: q.segment ?? null,
      from: f.from,
      to: f.to,
      counts: p,
      mcnemar: mcnemarTest({ bothRight: p.bothAgree, onlyARight: p.aOnly, onlyBRight: p.bOnly, bothWrong: p.neither }),
    };
  }
}
