import { Injectable } from '@nestjs/common';
import { EvidenceRepository } from '../comparison/evidence.repository';
import { PairCounts, RollupReader, RollupScope } from '../comparison/rollup-reader';
import type { GroupTotals } from './domain/agreement-report';
import type { GroupBy } from './dto/report-query.dto';

export type ReportFilter = RollupScope;

/**
 * What reports read: rollups (through comparison's RollupReader) and the evidence model, never raw
 * comparisons, so they stay fast at millions of rows.
 */
@Injectable()
export class ReportsRepository {
  constructor(
    private readonly rollups: RollupReader,
    private readonly evidence: EvidenceRepository,
  ) {}

  async agreement(f: ReportFilter, groupBy: GroupBy): Promise<GroupTotals[]> {
    // Independent reads, side by side: a month's report is the time of the slowest, not of the sum.
    const [rows, cells, evidence] = await Promise.all([
      this.rollups.groupSums(f, groupBy),
      this.rollups.confusion(f, groupBy),
      this.evidence.grouped(f, groupBy),
    ]);
    return rows.map((r) => ({
      ...(r as unknown as GroupTotals),
      evidence: evidence.filter((e) => e.key === r.key).map(({ key: _key, ...e }) => e),
      latencyHist: (r.latencyHist ?? []).map(Number),
      fieldAgree: Object.fromEntries(Object.entries(r.fieldAgree ?? {}).map(([k, v]) => [k, Number(v)])),
      confusion: cells.filter((c) => c.key === r.key).map((c) => ({ ai: c.ai, human: c.human, n: Number(c.n) })),
    }));
  }

  confidenceBins(f: ReportFilter & { version: number }): Promise<{ n: number[]; agree: number[] }> {
    return this.rollups.confidenceBins(f);
  }

  pairs(f: ReportFilter, versionA: number, versionB: number): Promise<PairCounts> {
    return this.rollups.pairs(f, versionA, versionB);
  }
}
