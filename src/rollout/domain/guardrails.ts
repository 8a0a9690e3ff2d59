import { LATENCY_BUCKETS_MS } from '../../comparison/domain/rollup';
import { confidenceSequence, percentileFromHistogram, priorCentredOn } from '../../stats/domain';

/*
 * Guardrails beyond agreement for a segment's live stage: the model's error rate, its p95 latency
 * and its cost per call, each against its own maximum.
 *
 * The controller looks every few seconds, so a fixed-sample test re-run at every look would breach
 * on noise sooner or later. The two statistical guardrails are judged with the project's
 * beta-binomial confidence sequence (stats/domain/confidence-sequence.ts), whose bounds hold at
 * every look at once; the stage's allowed chance of a false breach, 1 − confidence, is split evenly
 * between the statistical guardrails that are configured (a union bound), so the chance that any of
 * them breaches falsely between two restarts is at most 1 − confidence. The sequence assumes the
 * calls' outcomes are independent draws at one rate; a rate that drifts within the stage is judged
 * as the sequence sees it, not with the same guarantee.
 *
 * Each guardrail counts only the evidence since its watermark (the totals at its last restart), so
 * after a breach handled by `pause` or `alert` — the AI keeps deciding — the same evidence does not
 * breach again at every look; a problem that persists breaches again on new evidence.
 */

export type RegressionPolicy = 'revert' | 'pause' | 'alert';

export type GuardrailName = 'errorRate' | 'latencyP95Ms' | 'costPerItemUsd';

export const GUARDRAIL_NAMES: readonly GuardrailName[] = ['errorRate', 'latencyP95Ms', 'costPerItemUsd'];

export interface GuardrailLimit {
  max: number;
  /** What a breach does; absent: the workflow's regression policy. */
  policy?: RegressionPolicy;
}

export interface GuardrailsConfig {
  /** Share of model calls that failed or returned an invalid answer. */
  errorRate?: GuardrailLimit;
  /** p95 of model-call latency, in ms. */
  latencyP95Ms?: GuardrailLimit;
  /** Mean cost per model call, in USD. */
  costPerItemUsd?: GuardrailLimit;
  /** e.g. 0.99: 1 − the chance of a false breach allowed over the whole stage (between restarts). */
  confidence: number;
  /** e.g. 200: no judgement below this many calls since the watermark. */
  minCalls: number;
}

/** Cumulative model-call counts of the live stage since it began (from the rollups). */
export interface GuardrailTotals {
  aiCalls: number;
  aiFailed: number;
  aiInvalid: number;
  costUsd: number;
  /** Calls per LATENCY_BUCKETS_MS bucket; the last entry counts those above the last bound. */
  latencyHist: number[];
}

/** Per guardrail, the totals at its last restart; absent: the stage's beginning. Plain JSON. */
export type GuardrailState = Partial<Record<GuardrailName, GuardrailTotals>>;

/** The p95 is at most `max` exactly when at most this share of calls is slower than `max`. */
export const LATENCY_TAIL_SHARE = 0.05;

export interface GuardrailReading {
  name: GuardrailName;
  /** Calls since the watermark (for latency: those with a measured latency). */
  n: number;
  /** errorRate: the failed-or-invalid share; latencyP95Ms: the share slower than `latency.judgedAboveMs`; costPerItemUsd: mean USD per call. Null with n = 0. */
  observed: number | null;
  /** What is compared with `limit`: the anytime lower confidence bound of `observed` (for cost, the mean itself). Null when not judged. */
  bound: number | null;
  /** The configured maximum, in the guardrail's unit (share, ms, USD). */
  max: number;
  /** A breach is `bound` > `limit`: `max`, or LATENCY_TAIL_SHARE for the p95. */
  limit: number;
  /** The confidence this guardrail's sequence is held at (its share of the stage's); null for cost. */
  confidence: number | null;
  /** Only for latencyP95Ms. */
  latency?: {
    /** The bucket bound actually judged: the smallest at or above `max` (null when `max` is beyond the last bound). */
    judgedAboveMs: number | null;
    /** The p95 interpolated from the histogram since the watermark, for people; not what is judged. */
    p95Ms: number | null;
  };
  /** False below minCalls (or when the histogram cannot resolve `max`). */
  judged: boolean;
  breached: boolean;
  /** Since the stage began, or since the last restart. */
  since: 'stage' | 'restart';
  detail: string;
}

export interface GuardrailBreach {
  name: GuardrailName;
  policy: RegressionPolicy;
  reading: GuardrailReading;
}

export interface GuardrailEvaluation {
  /** One per configured guardrail, in GUARDRAIL_NAMES order. */
  readings: GuardrailReading[];
  breaches: GuardrailBreach[];
}

export function initialGuardrailState(): GuardrailState {
  return {};
}

/** Moves one guardrail's watermark to `totals`: it judges only what comes after. The others keep theirs. */
export function restartGuardrail(state: GuardrailState, name: GuardrailName, totals: GuardrailTotals): GuardrailState {
  checkTotals(totals);
  return { ...state, [name]: { ...totals, latencyHist: [...totals.latencyHist] } };
}

/**
 * One look at the configured guardrails with the stage's totals; pure — the caller applies each
 * breach's policy and, under `pause` or `alert`, restarts that guardrail (restartGuardrail).
 * `workflowPolicy` is the policy of a guardrail that names none.
 */
export function evaluateGuardrails(
  config: GuardrailsConfig,
  totals: GuardrailTotals,
  state: GuardrailState,
  workflowPolicy: RegressionPolicy,
): GuardrailEvaluation {
  checkConfig(config);
  checkTotals(totals);
  const statistical = (config.errorRate ? 1 : 0) + (config.latencyP95Ms ? 1 : 0);
  const confidence = statistical > 0 ? 1 - (1 - config.confidence) / statistical : config.confidence;
  const readings: GuardrailReading[] = [];
  const breaches: GuardrailBreach[] = [];
  for (const name of GUARDRAIL_NAMES) {
    const limit = config[name];
    if (!limit) continue;
    const counts = sinceWatermark(totals, state[name], name);
    const reading =
      name === 'errorRate'
        ? readErrorRate(limit.max, counts, confidence, config.minCalls)
        : name === 'latencyP95Ms'
          ? readLatency(limit.max, counts, confidence, config.minCalls)
          : readCost(limit.max, counts, config.minCalls);
    const full: GuardrailReading = { ...reading, since: state[name] ? 'restart' : 'stage' };
    readings.push(full);
    if (full.breached) breaches.push({ name, policy: limit.policy ?? workflowPolicy, reading: full });
  }
  return { readings, breaches };
}

type Reading = Omit<GuardrailReading, 'since'>;

/**
 * Error rate: the share of calls that failed or returned an invalid answer. Its bound is the lower
 * end of the (confidence) confidence sequence: with probability at least `confidence`, the true
 * share stays at or above the bound at every look at once — so a breach (bound > max) at a true
 * share ≤ max happens with probability at most 1 − confidence, however often anyone looks.
 */
function readErrorRate(max: number, d: GuardrailTotals, confidence: number, minCalls: number): Reading {
  const n = d.aiCalls;
  const bad = d.aiFailed + d.aiInvalid;
  const observed = n > 0 ? bad / n : null;
  const head = `error rate: ${bad}/${n} model calls failed or were invalid`;
  const base = { name: 'errorRate' as const, n, observed, max, limit: max, confidence };
  if (n < minCalls) return { ...base, bound: null, judged: false, breached: false, detail: `${head}; no judgement below ${minCalls} calls` };
  const bound = confidenceSequence(bad, n, confidence, priorCentredOn(max)).lower;
  const breached = bound > max;
  return {
    ...base,
    bound,
    judged: true,
    breached,
    detail:
      `${head} (${fixed(observed)}), at least ${fixed(bound)} (${show(confidence)} confidence sequence) ` +
      `against a maximum of ${max}: ${breached ? 'breached' : 'within'}`,
  };
}

/**
 * p95 latency: p95 ≤ max ⇔ P(latency > max) ≤ 5 %. The histogram cannot tell calls above `max`
 * inside the bucket holding it, so only calls above the smallest bucket bound ≥ max are counted:
 * an under-count, never an over-count, so rounding can delay a breach but never cause one. The
 * bound is the confidence sequence's lower end for that share, as for the error rate, against 5 %.
 */
function readLatency(max: number, d: GuardrailTotals, confidence: number, minCalls: number): Reading {
  const hist = d.latencyHist;
  const n = hist.reduce((s, c) => s + c, 0);
  const boundIndex = LATENCY_BUCKETS_MS.findIndex((b) => b >= max);
  const judgedAboveMs = boundIndex === -1 ? null : LATENCY_BUCKETS_MS[boundIndex];
  const p95Ms = percentileFromHistogram(LATENCY_BUCKETS_MS, hist, 1 - LATENCY_TAIL_SHARE);
  const about = p95Ms === null ? '' : ` (p95 about ${Math.round(p95Ms)} ms)`;
  const base = { name: 'latencyP95Ms' as const, n, max, limit: LATENCY_TAIL_SHARE, confidence, latency: { judgedAboveMs, p95Ms } };
  if (judgedAboveMs === null) {
    const last = LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
    return {
      ...base,
      observed: null,
      bound: null,
      judged: false,
      breached: false,
      detail: `p95 latency: ${n} timed calls${about}; the maximum of ${max} ms is beyond the histogram's last bound (${last} ms), so it is not judged`,
    };
  }
  const slow = hist.slice(boundIndex + 1).reduce((s, c) => s + c, 0);
  const observed = n > 0 ? slow / n : null;
  const rounded = judgedAboveMs === max ? '' : ` (the first bucket bound at or above the maximum of ${max} ms)`;
  const head = `p95 latency: ${slow}/${n} timed calls took over ${judgedAboveMs} ms${rounded}`;
  if (n < minCalls) return { ...base, observed, bound: null, judged: false, breached: false, detail: `${head}${about}; no judgement below ${minCalls} calls` };
  const bound = confidenceSequence(slow, n, confidence, priorCentredOn(LATENCY_TAIL_SHARE)).lower;
  const breached = bound > LATENCY_TAIL_SHARE;
  return {
    ...base,
    observed,
    bound,
    judged: true,
    breached,
    detail:
      `${head}, ${fixed(observed)}${about}; at least ${fixed(bound)} (${show(confidence)} confidence sequence) ` +
      `against ${LATENCY_TAIL_SHARE}: ${breached ? 'breached' : 'within'}`,
  };
}

/**
 * Cost per call: the mean since the watermark against `max`, with no interval — a call's cost is its
 * token counts times fixed prices, nearly deterministic, so the mean over minCalls calls is the cost.
 */
function readCost(max: number, d: GuardrailTotals, minCalls: number): Reading {
  const n = d.aiCalls;
  const observed = n > 0 ? d.costUsd / n : null;
  const head = `cost per model call: ${observed === null ? 'no calls' : `$${usd(observed)} mean over ${n} calls`}`;
  const base = { name: 'costPerItemUsd' as const, n, observed, max, limit: max, confidence: null };
  if (n < minCalls || observed === null)
    return { ...base, bound: null, judged: false, breached: false, detail: `${head}; no judgement below ${minCalls} calls` };
  const breached = observed > max;
  return { ...base, bound: observed, judged: true, breached, detail: `${head} against a maximum of $${usd(max)}: ${breached ? 'breached' : 'within'}` };
}

/** The counts since a watermark (none: since the stage began), with the histogram at full length. */
function sinceWatermark(totals: GuardrailTotals, mark: GuardrailTotals | undefined, name: GuardrailName): GuardrailTotals {
  const m = mark ?? { aiCalls: 0, aiFailed: 0, aiInvalid: 0, costUsd: 0, latencyHist: [] };
  const d: GuardrailTotals = {
    aiCalls: totals.aiCalls - m.aiCalls,
    aiFailed: totals.aiFailed - m.aiFailed,
    aiInvalid: totals.aiInvalid - m.aiInvalid,
    // Sums of decimal prices: a difference of equal sums may come out a hair below zero.
    costUsd: Math.max(0, totals.costUsd - m.costUsd),
    latencyHist: Array.from({ length: LATENCY_BUCKETS_MS.length + 1 }, (_, i) => (totals.latencyHist[i] ?? 0) - (m.latencyHist[i] ?? 0)),
  };
  if (d.aiCalls < 0 || d.aiFailed < 0 || d.aiInvalid < 0 || totals.costUsd - m.costUsd < -1e-9 || d.latencyHist.some((c) => c < 0)) {
    throw new RangeError(
      `evaluateGuardrails: the totals are below the ${name} watermark; the state belongs to an earlier stage and must be reset when a stage begins`,
    );
  }
  return d;
}

function checkConfig(c: GuardrailsConfig): void {
  if (!(c.confidence > 0 && c.confidence < 1)) throw new RangeError(`evaluateGuardrails: confidence must be strictly between 0 and 1, got ${c.confidence}`);
  if (!(Number.isInteger(c.minCalls) && c.minCalls >= 1)) throw new RangeError(`evaluateGuardrails: minCalls must be a positive integer, got ${c.minCalls}`);
  if (c.errorRate && !(c.errorRate.max >= 0 && c.errorRate.max < 1))
    throw new RangeError(`evaluateGuardrails: errorRate.max must be within [0, 1), got ${c.errorRate.max}`);
  if (c.latencyP95Ms && !(c.latencyP95Ms.max > 0 && Number.isFinite(c.latencyP95Ms.max)))
    throw new RangeError(`evaluateGuardrails: latencyP95Ms.max must be a positive number of ms, got ${c.latencyP95Ms.max}`);
  if (c.costPerItemUsd && !(c.costPerItemUsd.max >= 0 && Number.isFinite(c.costPerItemUsd.max)))
    throw new RangeError(`evaluateGuardrails: costPerItemUsd.max must be a non-negative number, got ${c.costPerItemUsd.max}`);
}

function checkTotals(t: GuardrailTotals): void {
  const counts = [t.aiCalls, t.aiFailed, t.aiInvalid, ...t.latencyHist];
  if (!counts.every((c) => Number.isInteger(c) && c >= 0)) throw new RangeError('guardrails: call counts must be non-negative integers');
  if (t.aiFailed + t.aiInvalid > t.aiCalls) throw new RangeError(`guardrails: ${t.aiFailed} failed + ${t.aiInvalid} invalid exceed ${t.aiCalls} calls`);
  if (!(t.costUsd >= 0)) throw new RangeError(`guardrails: costUsd must be non-negative, got ${t.costUsd}`);
  if (t.latencyHist.length > LATENCY_BUCKETS_MS.length + 1) {
    throw new RangeError(`guardrails: the latency histogram has ${t.latencyHist.length} buckets, at most ${LATENCY_BUCKETS_MS.length + 1} exist`);
  }
}

function fixed(x: number | null): string {
  return x === null ? 'n/a' : x.toFixed(3);
}

/** A confidence such as 1 − 0.01/2 without float noise (0.995, not 0.9949999999999999). */
function show(x: number): string {
  return String(Number(x.toPrecision(6)));
}

function usd(x: number): string {
  return String(Number(x.toPrecision(3)));
}
