import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';
import type { ParityPair } from '../stats/domain';
import type { ClassCounts } from './domain/critical-classes';
import type { Arm, ArmEvidence } from './domain/evidence';

export type { ArmEvidence };
import { CONFIDENCE_BINS } from './domain/rollup';
import { EVIDENCE_TABLES, periodSource } from './period-source';

/** The ArmEvidence sums over a set of evidence_minute rows. */
const SUMS = `coalesce(sum(blind_n), 0)::float8 AS "blindN", coalesce(sum(blind_agree), 0)::float8 AS "blindAgree",
  coalesce(sum(anchored_n), 0)::float8 AS "anchoredN", coalesce(sum(anchored_agree), 0)::float8 AS "anchoredAgree",
  coalesce(sum(anchored_overridden), 0)::float8 AS "anchoredOverridden"`;

/** How a report groups the evidence model's rows. */
export type EvidenceGrouping = 'segment' | 'day' | 'version' | 'model' | 'promptVersion';

const GROUP_KEY: Record<EvidenceGrouping, string> = {
  segment: 'e.segment',
  day: `to_char(e.t AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  version: 'e.workflow_version::text',
  model: 'v.model',
  promptVersion: 'v.prompt_version',
};

/**
 * Reads the evidence model (evidence_minute, written with the rollups by RollupRepository): what
 * gates, thresholds and guards are judged on. Every period is in AI-decision time, to the minute:
 * `from` counts the items the AI decided in its minute and after, whenever their labels arrived.
 */
@Injectable()
export class EvidenceRepository {
  constructor(private readonly dataSource: DataSource) {}

  async arms(workflow: string, segment: string, version: number, arms: readonly Arm[], from: Date, tx?: Tx): Promise<ArmEvidence> {
    const m = tx ?? this.dataSource.manager;
    const [r] = await m.query(
      `SELECT ${SUMS}
       FROM evidence_minute
       WHERE workflow = $1 AND segment = $2 AND workflow_version = $3 AND arm = ANY($4::text[]) AND minute >= date_trunc('minute', $5::timestamptz)`,
      [workflow, segment, version, arms, from],
    );
    return r;
  }

  /** Blind labels per critical class of some arms, for items the AI decided from a minute on (the class guards' evidence). */
  async criticalClasses(workflow: string, segment: string, version: number, arms: readonly Arm[], from: Date, tx?: Tx): Promise<ClassCounts> {
    const m = tx ?? this.dataSource.manager;
    const [r] = await m.query(
      `SELECT understudy_class_counts_sum_agg(critical) AS counts
       FROM evidence_minute
       WHERE workflow = $1 AND segment = $2 AND workflow_version = $3 AND arm = ANY($4::text[]) AND minute >= date_trunc('minute', $5::timestamptz)
         AND critical <> '{}'`,
      [workflow, segment, version, arms, from],
    );
    const counts = (r?.counts ?? {}) as Record<string, Array<number | string>>;
    return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, [Number(v[0]), Number(v[1]), Number(v[2])]]));
  }

  /** Blind and anchored labels per arm, for people (the segment view). */
  async byArm(workflow: string, segment: string, version: number, from: Date, tx?: Tx): Promise<Array<ArmEvidence & { arm: Arm }>> {
    return (tx ?? this.dataSource.manager).query(
      `SELECT arm, ${SUMS}
       FROM evidence_minute
       WHERE workflow = $1 AND segment = $2 AND workflow_version = $3 AND minute >= date_trunc('minute', $4::timestamptz)
       GROUP BY arm ORDER BY arm`,
      [workflow, segment, version, from],
    );
  }

  /**
   * Blind and anchored labels per report group and arm, for items the AI decided in the minutes of
   * [from, to) (analysts see both side by side: anchored reviews overstate agreement).
   */
  async grouped(
    f: { workflow: string; from: Date; to: Date; segment?: string; version?: number },
    groupBy: EvidenceGrouping,
  ): Promise<Array<ArmEvidence & { key: string; arm: Arm }>> {
    const params: unknown[] = [];
    const source = periodSource(EVIDENCE_TABLES, f, params);
    return this.dataSource.query(
      `SELECT ${GROUP_KEY[groupBy]} AS key, e.arm, ${SUMS}
       FROM ${source} e JOIN workflow_versions v ON v.workflow = e.workflow AND v.version = e.workflow_version
       GROUP BY 1, 2 ORDER BY 1, 2`,
      params,
    );
  }

  /** The threshold's calibration set: labels drawn alike at every confidence, per bin, from a time on. */
  async calibrationBins(workflow: string, segment: string, version: number, from: Date, tx?: Tx): Promise<{ n: number[]; correct: number[] }> {
    const m = tx ?? this.dataSource.manager;
    const rows: Array<{ n: string[] | null; a: string[] | null }> = await m.query(
      `SELECT array_agg(n ORDER BY i) AS n, array_agg(a ORDER BY i) AS a FROM (
         SELECT i, sum(coalesce(e.conf_n[i], 0)) AS n, sum(coalesce(e.conf_agree[i], 0)) AS a
         FROM evidence_minute e, generate_series(1, $5::int) AS i
         WHERE e.workflow = $1 AND e.segment = $2 AND e.workflow_version = $3 AND e.minute >= date_trunc('minute', $4::timestamptz)
         GROUP BY i) s`,
      [workflow, segment, version, from, CONFIDENCE_BINS],
    );
    const n = (rows[0]?.n ?? []).map(Number);
    const a = (rows[0]?.a ?? []).map(Number);
    return { n: n.length ? n : new Array(CONFIDENCE_BINS).fill(0), correct: a.length ? a : new Array(CONFIDENCE_BINS).fill(0) };
  }

  /**
   * Blind double-labelled items known since a time: whether the AI (this version) agreed with the
   * first person and whether the second person did, in the order each pair became complete.
   */
  async parityPairs(workflow: string, segment: string, version: number, from: Date, tx?: Tx): Promise<ParityPair[]> {
    const m = tx ?? this.dataSource.manager;
    return m.query(
      `SELECT c.agree AS ai, h.agree AS human
       FROM human_agreements h
       JOIN comparisons c ON c.human_decision_id = h.first_decision_id AND c.workflow_version = $3 AND c.evidence = 'blind'
       WHERE h.workflow = $1 AND h.segment = $2 AND h.created_at >= $4
       ORDER BY greatest(h.created_at, c.created_at), h.id`,
      [workflow, segment, version, from],
    );
  }

  /** The earliest AI-decision minute of an arm that received a label since a time (null: none did). */
  async earliestDecisionLabelledSince(workflow: string, segment: string, version: number, arm: Arm, since: Date, tx?: Tx): Promise<Date | null> {
    const m = tx ?? this.dataSource.manager;
    const [r] = await m.query(
      `SELECT min(minute) AS at FROM evidence_minute
       WHERE workflow = $1 AND segment = $2 AND workflow_version = $3 AND arm = $4 AND last_label_at >= $5`,
      [workflow, segment, version, arm, since],
    );
    return r?.at ? new Date(r.at) : null;
  }
}
