/**
 * Rollups: counters per (workflow, segment, version, minute), added up in memory for a batch
 * and written with one upsert, so reports and gates read a few rows instead of raw comparisons.
 */
import type { ClassFlags } from './critical-classes';
import { EvidenceAccumulator, EvidenceKind, EvidenceRow, minuteOf } from './evidence';

export const CONFIDENCE_BINS = 20;
/** Upper bounds (ms) of the latency histogram buckets; the last bucket is everything above. */
export const LATENCY_BUCKETS_MS = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

/** Cumulative rollup counts of one version in one segment. */
export interface RollupTotals {
  n: number;
  agree: number;
  reviews: number;
  overridden: number;
  audits: number;
  auditAgree: number;
  aiCalls: number;
  aiFailures: number;
}

/** Model calls of a version in a segment over a range, with their latency histogram (what the guardrails judge). */
export interface ModelCallTotals {
  aiCalls: number;
  aiFailed: number;
  aiInvalid: number;
  costUsd: number;
  /** Calls per LATENCY_BUCKETS_MS bucket; the last counts those above the last bound. */
  latencyHist: number[];
}

/**
 * The sums of a group of rollup rows; `Hist` and `Fields` are how the latency histogram and the
 * per-field agreement arrive (as the database returns them: text and possibly null).
 */
export interface RollupGroupSums<Hist = string[] | null, Fields = Record<string, number> | null> {
  key: string;
  n: number;
  agree: number;
  nReview: number;
  nOverridden: number;
  nAudit: number;
  agreeAudit: number;
  hhN: number;
  hhAgree: number;
  aiCalls: number;
  aiOk: number;
  aiInvalid: number;
  aiFailed: number;
  aiSkipped: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencySumMs: number;
  latencyHist: Hist;
  fieldAgree: Fields;
}

export interface RollupKey {
  workflow: string;
  segment: string;
  version: number;
  minute: Date;
}

export interface RollupRow extends RollupKey {
  n: number;
  agree: number;
  nIndependent: number;
  agreeIndependent: number;
  nReview: number;
  agreeReview: number;
  nOverridden: number;
  nAudit: number;
  nReviewRouted: number;
  agreeReviewRouted: number;
  agreeAudit: number;
  confN: number[];
  confAgree: number[];
  fieldAgree: Record<string, number>;
  hhN: number;
  hhAgree: number;
  aiCalls: number;
  aiOk: number;
  aiInvalid: number;
  aiFailed: number;
  aiSkipped: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencySumMs: number;
  latencyHist: number[];
  routed: Record<string, number>;
  /** Valid answers per decision cell (decisionCellKey): what the drift monitors watch. */
  decisionCells: Record<string, number>;
}

export interface ConfusionCell {
  workflow: string;
  segment: string;
  version: number;
  day: string;
  aiLabel: string;
  humanLabel: string;
  n: number;
}

export interface PairCell {
  workflow: string;
  segment: string;
  versionA: number;
  versionB: number;
  day: string;
  bothAgree: number;
  aOnly: number;
  bOnly: number;
  neither: number;
}

export { minuteOf };

export const HOUR_MS = 3_600_000;

/**
 * How a report period is read: whole hours from rollup_hour, the minutes at either end from
 * rollup_minute. The period holds the minutes m with floor-minute(from) ≤ m < to, as before hours
 * were kept; `hours` is null when it holds no whole hour.
 */
export interface RollupRange {
  /** Minutes [minuteFrom, minuteTo) in all. */
  minuteFrom: Date;
  minuteTo: Date;
  /** Whole hours [from, to) read from rollup_hour; minutes outside them from rollup_minute. */
  hours: { from: Date; to: Date } | null;
}

export function rollupRange(from: Date, to: Date): RollupRange {
  const minuteFrom = minuteOf(from);
  const minuteTo = new Date(Math.ceil(to.getTime() / 60_000) * 60_000);
  const hourFrom = Math.ceil(minuteFrom.getTime() / HOUR_MS) * HOUR_MS;
  const hourTo = Math.floor(minuteTo.getTime() / HOUR_MS) * HOUR_MS;
  return { minuteFrom, minuteTo, hours: hourFrom < hourTo ? { from: new Date(hourFrom), to: new Date(hourTo) } : null };
}

export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function confidenceBin(confidence: number): number {
  // The epsilon keeps a confidence exactly on an edge (0.85) in the bin that starts there, as
  // a threshold of 0.85 counts it: 0.85 * 20 is 16.999… in floating point.
  return Math.min(CONFIDENCE_BINS - 1, Math.max(0, Math.floor(confidence * CONFIDENCE_BINS + 1e-9)));
}

export function latencyBucket(ms: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((b) => ms <= b);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

function emptyRow(key: RollupKey): RollupRow {
  return {
    ...key,
    n: 0,
    agree: 0,
    nIndependent: 0,
    agreeIndependent: 0,
    nReview: 0,
    agreeReview: 0,
    nOverridden: 0,
    nAudit: 0,
    nReviewRouted: 0,
    agreeReviewRouted: 0,
    agreeAudit: 0,
    confN: new Array(CONFIDENCE_BINS).fill(0),
    confAgree: new Array(CONFIDENCE_BINS).fill(0),
    fieldAgree: {},
    hhN: 0,
    hhAgree: 0,
    aiCalls: 0,
    aiOk: 0,
    aiInvalid: 0,
    aiFailed: 0,
    aiSkipped: 0,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
    latencySumMs: 0,
    latencyHist: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
    routed: {},
    decisionCells: {},
  };
}

export interface ComparisonFacts {
  workflow: string;
  segment: string;
  version: number;
  at: Date;
  /** When the AI decided: the minute its blind or anchored evidence counts for (evidence.ts). */
  aiDecidedAt: Date;
  routeStage: string | null;
  routeThreshold: number | null;
  agree: boolean;
  humanKind: 'independent' | 'review';
  verdict: 'accepted' | 'overridden' | null;
  routeAction: string | null;
  confidence: number | null;
  fields: Record<string, boolean>;
  aiLabel: string | null;
  humanLabel: string | null;
  /** Which critical classes the person and the AI chose (absent: the workflow names none). */
  critical?: ClassFlags;
}

export interface AiCallFacts {
  workflow: string;
  segment: string;
  version: number;
  at: Date;
  outcome: 'ok' | 'invalid' | 'failed' | 'skipped';
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number | null;
  /** The answer's cell for the label-free drift monitors (decisionCellKey), when it was valid and had a confidence. */
  cell?: string | null;
}

/** Confidence bins of the label-free decision monitor (rollout/domain/drift-watch.ts). */
export const MONITOR_CONFIDENCE_BINS = 10;

/** A decision's cell for the drift monitors: its confidence bin (of 10) and its answer on the label field (empty without one). */
export function decisionCellKey(confidence: number, answer: string | null): string {
  const bin = Math.min(MONITOR_CONFIDENCE_BINS - 1, Math.max(0, Math.floor(confidence * MONITOR_CONFIDENCE_BINS)));
  return `${bin}|${answer ?? ''}`;
}

/** Adds up a batch's facts into rollup rows, evidence rows, confusion cells and version pairs. */
export class RollupAccumulator {
  private rows = new Map<string, RollupRow>();
  private evidence = new EvidenceAccumulator(CONFIDENCE_BINS, confidenceBin);
  private confusion = new Map<string, ConfusionCell>();
  private pairs = new Map<string, PairCell>();

  private row(key: RollupKey): RollupRow {
    const minute = minuteOf(key.minute);
    const k = `${key.workflow}\u0001${key.segment}\u0001${key.version}\u0001${minute.getTime()}`;
    let r = this.rows.get(k);
    if (!r) {
      r = emptyRow({ ...key, minute });
      this.rows.set(k, r);
    }
    return r;
  }

  /** Counts a comparison by the minute its label arrived (reports) and by the minute the AI decided (evidence); returns the label's kind. */
  addComparison(c: ComparisonFacts): EvidenceKind {
    const r = this.row({ workflow: c.workflow, segment: c.segment, version: c.version, minute: c.at });
    const a = c.agree ? 1 : 0;
    r.n++;
    r.agree += a;
    if (c.humanKind === 'independent') {
      r.nIndependent++;
      r.agreeIndependent += a;
    } else {
      r.nReview++;
      r.agreeReview += a;
      if (c.verdict === 'overridden') r.nOverridden++;
    }
    if (c.routeAction === 'review') {
      r.nReviewRouted++;
      r.agreeReviewRouted += a;
    }
    if (c.routeAction === 'audit' && c.humanKind === 'independent') {
      r.nAudit++;
      r.agreeAudit += a;
    }
    if (c.confidence !== null) {
      const b = confidenceBin(c.confidence);
      r.confN[b]++;
      r.confAgree[b] += a;
    }
    for (const [field, same] of Object.entries(c.fields)) {
      r.fieldAgree[field] = (r.fieldAgree[field] ?? 0) + (same ? 1 : 0);
    }
    if (c.aiLabel !== null && c.humanLabel !== null) {
      const day = dayOf(c.at);
      const k = `${c.workflow}\u0001${c.segment}\u0001${c.version}\u0001${day}\u0001${c.aiLabel}\u0001${c.humanLabel}`;
      const cell = this.confusion.get(k) ?? {
        workflow: c.workflow,
        segment: c.segment,
        version: c.version,
        day,
        aiLabel: c.aiLabel,
        humanLabel: c.humanLabel,
        n: 0,
      };
      cell.n++;
      this.confusion.set(k, cell);
    }
    return this.evidence.add({
      workflow: c.workflow,
      segment: c.segment,
      version: c.version,
      aiDecidedAt: c.aiDecidedAt,
      routeAction: c.routeAction,
      routeStage: c.routeStage,
      routeThreshold: c.routeThreshold,
      humanKind: c.humanKind,
      verdict: c.verdict,
      agree: c.agree,
      confidence: c.confidence,
      critical: c.critical,
    });
  }

  /** Two versions judged against the same human decision (McNemar's paired counts). */
  addPair(p: { workflow: string; segment: string; at: Date; versionA: number; agreeA: boolean; versionB: number; agreeB: boolean }): void {
    if (p.versionA === p.versionB) return;
    const [lo, hi] = p.versionA < p.versionB ? [p.versionA, p.versionB] : [p.versionB, p.versionA];
    const [agreeLo, agreeHi] = p.versionA < p.versionB ? [p.agreeA, p.agreeB] : [p.agreeB, p.agreeA];
    const day = dayOf(p.at);
    const k = `${p.workflow}\u0001${p.segment}\u0001${lo}\u0001${hi}\u0001${day}`;
    const cell = this.pairs.get(k) ?? {
      workflow: p.workflow,
      segment: p.segment,
      versionA: lo,
      versionB: hi,
      day,
      bothAgree: 0,
      aOnly: 0,
      bOnly: 0,
      neither: 0,
    };
    if (agreeLo && agreeHi) cell.bothAgree++;
    else if (agreeLo) cell.aOnly++;
    else if (agreeHi) cell.bOnly++;
    else cell.neither++;
    this.pairs.set(k, cell);
  }

  addHumanPair(p: { workflow: string; segment: string; version: number; at: Date; agree: boolean }): void {
    const r = this.row({ workflow: p.workflow, segment: p.segment, version: p.version, minute: p.at });
    r.hhN++;
    r.hhAgree += p.agree ? 1 : 0;
  }

  addAiCall(c: AiCallFacts): void {
    const r = this.row({ workflow: c.workflow, segment: c.segment, version: c.version, minute: c.at });
    if (c.outcome === 'skipped') {
      r.aiSkipped++;
      return;
    }
    r.aiCalls++;
    if (c.outcome === 'ok') r.aiOk++;
    else if (c.outcome === 'invalid') r.aiInvalid++;
    else r.aiFailed++;
    r.promptTokens += c.promptTokens;
    r.completionTokens += c.completionTokens;
    r.costUsd += c.costUsd;
    if (c.latencyMs !== null) {
      r.latencySumMs += c.latencyMs;
      r.latencyHist[latencyBucket(c.latencyMs)]++;
    }
    if (c.cell) r.decisionCells[c.cell] = (r.decisionCells[c.cell] ?? 0) + 1;
  }

  addRouted(p: { workflow: string; segment: string; version: number; at: Date; action: string }): void {
    const r = this.row({ workflow: p.workflow, segment: p.segment, version: p.version, minute: p.at });
    r.routed[p.action] = (r.routed[p.action] ?? 0) + 1;
  }

  /** Rows sorted by key so concurrent batches lock rollup rows in the same order. */
  result(): { rows: RollupRow[]; evidence: EvidenceRow[]; confusion: ConfusionCell[]; pairs: PairCell[] } {
    const byKey = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    return { rows: byKey(this.rows), evidence: this.evidence.result(), confusion: byKey(this.confusion), pairs: byKey(this.pairs) };
  }

  get empty(): boolean {
    return this.rows.size === 0 && this.confusion.size === 0 && this.pairs.size === 0 && this.evidence.result().length === 0;
  }
}
