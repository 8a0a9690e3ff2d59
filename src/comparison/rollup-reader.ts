import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';
import { CONFIDENCE_BINS, LATENCY_BUCKETS_MS, type ModelCallTotals, type RollupGroupSums, type RollupTotals } from './domain/rollup';
import { arraySum, periodSource, ROLLUP_TABLES, type PeriodScope } from './period-source';

export type { RollupGroupSums, RollupTotals };
import type { EvidenceGrouping } from './evidence.repository';

/**
 * The one reader of the rollup tables (rollup_minute, rollup_hour, rollup_confusion, rollup_pairs),
 * which RollupRepository writes: rollout reads a segment's running totals here, reports its
 * period sums. Rollups count by label time; decisions about quality read the evidence model
 * instead (EvidenceRepository).
 */

/** Which rollup rows a period sum covers. */
export type RollupScope = PeriodScope;

/** A segment's last hour as people see it beside its state. */
export interface RollupLastHour {
  n: number;
  agree: number;
  reviews: number;
  overridden: number;
  aiCalls: number;
  aiFailures: number;
  aiSkipped: number;
  costUsd: number;
  routed: Record<string, number>;
}

export interface ConfusionCell {
  key: string;
  ai: string;
  human: string;
  n: number;
}

export interface PairCounts {
  bothAgree: number;
  aOnly: number;
  bOnly: number;
  neither: number;
}

const KEY: Record<EvidenceGrouping, { minute: string; day: string }> = {
  segment: { minute: 'r.segment', day: 'c.segment' },
  day: { minute: `to_char(r.t AT TIME ZONE 'UTC', 'YYYY-MM-DD')`, day: `to_char(c.day, 'YYYY-MM-DD')` },
  version: { minute: 'r.workflow_version::text', day: 'c.workflow_version::text' },
  model: { minute: 'v.model', day: 'v.model' },
  promptVersion: { minute: 'v.prompt_version', day: 'v.prompt_version' },
};

@Injectable()
export class RollupReader {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Cumulative counts of a version in a segment from a minute on: model calls for the gate's error
   * rate, and the label-time figures audit entries show.
   */
  async totals(workflow: string, segment: string, version: number, rangeStart: Date, tx?: Tx): Promise<RollupTotals> {
    const m = tx ?? this.dataSource.manager;
    const [r] = await m.query(
      `SELECT coalesce(sum(n), 0)::float8 AS n, coalesce(sum(agree), 0)::float8 AS agree,
              coalesce(sum(n_review), 0)::float8 AS reviews, coalesce(sum(n_overridden), 0)::float8 AS overridden,
              coalesce(sum(n_audit), 0)::float8 AS audits, coalesce(sum(agree_audit), 0)::float8 AS "auditAgree",
              coalesce(sum(ai_calls), 0)::float8 AS "aiCalls", coalesce(sum(ai_invalid + ai_failed), 0)::float8 AS "aiFailures"
       FROM rollup_minute
       WHERE workflow = $1 AND segment = $2 AND workflow_version = $3 AND minute >= date_trunc('minute', $4::timestamptz)`,
      [workflow, segment, version, rangeStart],
    );
    return r;
  }

  /** A version's model calls in a segment from a minute on, as the guardrails judge them (rollout/domain/guardrails.ts). */
  async modelCalls(workflow: string, segment: string, version: number, rangeStart: Date, tx?: Tx): Promise<ModelCallTotals> {
    const m = tx ?? this.dataSource.manager;
    const [r] = await m.query(
      `SELECT coalesce(sum(ai_calls), 0)::float8 AS "aiCalls", coalesce(sum(ai_failed), 0)::float8 AS "aiFailed",
              coalesce(sum(ai_invalid), 0)::float8 AS "aiInvalid", coalesce(sum(cost_usd), 0)::float8 AS "costUsd",
              understudy_array_sum_agg(latency_hist) AS "latencyHist"
       FROM rollup_minute
       WHERE workflow = $1 AND segment = $2 AND workflow_version = $3 AND minute >= date_trunc('minute', $4::timestamptz)`,
      [workflow, segment, version, rangeStart],
    );
    const hist = ((r?.latencyHist ?? []) as Array<string | number>).map(Number);
    return { aiCalls: r.aiCalls, aiFailed: r.aiFailed, aiInvalid: r.aiInvalid, costUsd: r.costUsd, latencyHist: hist };
  }

  /**
   * Valid answers per decision cell (confidence bin × answer) of a version in a segment, in the
   * minutes [from, to) — to null: up to now. What the label-free drift monitors watch.
   */
  async decisionCells(workflow: string, segment: string, version: number, from: Date, to: Date | null, tx?: Tx): Promise<Record<string, number>> {
    const m = tx ?? this.dataSource.manager;
    const rows: Array<{ key: string; n: number }> = await m.query(
      `SELECT c.key, sum(c.value::bigint)::float8 AS n
       FROM rollup_minute r, jsonb_each_text(r.decision_cells) c
       WHERE r.workflow = $1 AND r.segment = $2 AND r.workflow_version = $3 AND r.minute >= date_trunc('minute', $4::timestamptz)
         AND ($5::timestamptz IS NULL OR r.minute < date_trunc('minute', $5::timestamptz)) AND r.decision_cells <> '{}'
       GROUP BY c.key`,
      [workflow, segment, version, from, to],
    );
    return Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));
  }

  /** A version's counts in a segment over the last hour (by the database's clock). */
  async lastHour(workflow: string, segment: string, version: number): Promise<RollupLastHour> {
    const [m] = await this.dataSource.query(
      `SELECT coalesce(sum(n),0)::int AS n, coalesce(sum(agree),0)::int AS agree, coalesce(sum(n_review),0)::int AS reviews,
              coalesce(sum(n_overridden),0)::int AS overridden, coalesce(sum(ai_calls),0)::int AS "aiCalls",
              coalesce(sum(ai_invalid + ai_failed),0)::int AS "aiFailures", coalesce(sum(ai_skipped),0)::int AS "aiSkipped",
              coalesce(sum(cost_usd),0)::float8 AS "costUsd", coalesce(understudy_jsonb_sum_agg(routed), '{}') AS routed
       FROM rollup_minute WHERE workflow = $1 AND segment = $2 AND workflow_version = $3 AND minute >= now() - interval '1 hour'`,
      [workflow, segment, version],
    );
    return m;
  }

  /**
   * A period's rollup sums per group (hours and minutes alike, see periodSource). The field
   * counters come from a second query, run beside the first: summed key by key from
   * jsonb_each_text, set-based (understudy_jsonb_sum_agg calls a SQL function per row).
   */
  async groupSums(f: RollupScope, groupBy: EvidenceGrouping): Promise<RollupGroupSums[]> {
    const sumsParams: unknown[] = [];
    const fieldsParams: unknown[] = [];
    const joined = (params: unknown[]) =>
      `${periodSource(ROLLUP_TABLES, f, params)} r JOIN workflow_versions v ON v.workflow = r.workflow AND v.version = r.workflow_version`;
    const [rows, fields] = await Promise.all([
      this.dataSource.query(
        `SELECT ${KEY[groupBy].minute} AS key,
                sum(r.n)::float8 AS n, sum(r.agree)::float8 AS agree, sum(r.n_review)::float8 AS "nReview",
                sum(r.n_overridden)::float8 AS "nOverridden", sum(r.n_audit)::float8 AS "nAudit", sum(r.agree_audit)::float8 AS "agreeAudit",
                sum(r.hh_n)::float8 AS "hhN", sum(r.hh_agree)::float8 AS "hhAgree", sum(r.ai_calls)::float8 AS "aiCalls",
                sum(r.ai_ok)::float8 AS "aiOk", sum(r.ai_invalid)::float8 AS "aiInvalid", sum(r.ai_failed)::float8 AS "aiFailed",
                sum(r.ai_skipped)::float8 AS "aiSkipped", sum(r.prompt_tokens)::float8 AS "promptTokens",
                sum(r.completion_tokens)::float8 AS "completionTokens", sum(r.cost_usd)::float8 AS "costUsd",
                sum(r.latency_sum_ms)::float8 AS "latencySumMs", ${arraySum('r.latency_hist', LATENCY_BUCKETS_MS.length + 1)} AS "latencyHist"
         FROM ${joined(sumsParams)}
         GROUP BY 1 ORDER BY 1`,
        sumsParams,
      ) as Promise<RollupGroupSums[]>,
      this.dataSource.query(
        `SELECT ${KEY[groupBy].minute} AS key, f.key AS field, sum(f.value::bigint)::float8 AS total
         FROM ${joined(fieldsParams)}, jsonb_each_text(r.field_agree) f
         GROUP BY 1, 2`,
        fieldsParams,
      ) as Promise<Array<{ key: string; field: string; total: number }>>,
    ]);
    const byKey = new Map<string, Record<string, number>>();
    for (const x of fields) byKey.set(x.key, { ...byKey.get(x.key), [x.field]: x.total });
    return rows.map((r) => ({ ...r, fieldAgree: byKey.get(r.key) ?? {} }));
  }

  /** The AI-against-human confusion cells of a period's days, per group. */
  async confusion(f: RollupScope, groupBy: EvidenceGrouping): Promise<ConfusionCell[]> {
    const params: unknown[] = [f.workflow, f.from, f.to];
    let whereDay = `c.workflow = $1 AND c.day >= ($2::timestamptz AT TIME ZONE 'UTC')::date AND c.day <= ($3::timestamptz AT TIME ZONE 'UTC')::date`;
    if (f.segment !== undefined) {
      params.push(f.segment);
      whereDay += ` AND c.segment = $${params.length}`;
    }
    if (f.version !== undefined) {
      params.push(f.version);
      whereDay += ` AND c.workflow_version = $${params.length}`;
    }
    return this.dataSource.query(
      `SELECT ${KEY[groupBy].day} AS key, c.ai_label AS ai, c.human_label AS human, sum(c.n)::float8 AS n
       FROM rollup_confusion c JOIN workflow_versions v ON v.workflow = c.workflow AND v.version = c.workflow_version
       WHERE ${whereDay}
       GROUP BY 1, 2, 3`,
      params,
    );
  }

  /** A version's confidence bins over a period: labels and agreements per bin (zeros when none). */
  async confidenceBins(f: RollupScope & { version: number }): Promise<{ n: number[]; agree: number[] }> {
    const params: unknown[] = [];
    const source = periodSource(ROLLUP_TABLES, f, params);
    const [r] = await this.dataSource.query(
      `SELECT ${arraySum('conf_n', CONFIDENCE_BINS)} AS n, ${arraySum('conf_agree', CONFIDENCE_BINS)} AS agree FROM ${source} r`,
      params,
    );
    return { n: ((r?.n as string[] | null) ?? []).map(Number), agree: ((r?.agree as string[] | null) ?? []).map(Number) };
  }

  /** Paired outcomes of two versions on the same items over a period's days, as versionA against versionB. */
  async pairs(f: Omit<RollupScope, 'version'>, versionA: number, versionB: number): Promise<PairCounts> {
    const [lo, hi] = versionA < versionB ? [versionA, versionB] : [versionB, versionA];
    const params: unknown[] = [f.workflow, f.from, f.to, lo, hi];
    let where = `workflow = $1 AND day >= ($2::timestamptz AT TIME ZONE 'UTC')::date AND day <= ($3::timestamptz AT TIME ZONE 'UTC')::date AND version_a = $4 AND version_b = $5`;
    if (f.segment !== undefined) {
      params.push(f.segment);
      where += ` AND segment = $6`;
    }
    const [r] = await this.dataSource.query(
      `SELECT coalesce(sum(both_agree),0)::float8 AS "bothAgree", coalesce(sum(a_only),0)::float8 AS "aOnly",
              coalesce(sum(b_only),0)::float8 AS "bOnly", coalesce(sum(neither),0)::float8 AS neither
       FROM rollup_pairs WHERE ${where}`,
      params,
    );
    // Stored as (lower version, higher version): turn around when asked the other way.
    return versionA < versionB ? r : { bothAgree: r.bothAgree, aOnly: r.bOnly, bOnly: r.aOnly, neither: r.neither };
  }
}
