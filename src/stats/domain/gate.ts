import { confidenceSequence, priorCentredOn, sequenceSamplesNeeded } from './confidence-sequence';

/*
 * The promotion gate: may this segment take its next traffic step?
 *
 * Three outcomes besides "pass", because a program manager needs to know which one they face:
 *  - fail: some criterion is clearly not met — its whole confidence interval is on the wrong side
 *    (or the budget is exhausted). Waiting for more data will not help; something must change.
 *    The gate holds the segment; reverting is the regression guard's job, not the gate's.
 *  - inconclusive: nothing clearly fails, but not everything is shown to hold yet — too few
 *    comparisons, too little time, or an interval that still straddles its limit. The gate holds
 *    the segment and says how many more comparisons should settle it. It never promotes.
 *  - awaiting-approval: everything holds and the workflow wants a person to say yes.
 * Each criterion carries the numbers it was judged on and a signed margin (positive = holds by
 * that much, negative = short by that much), so the verdict can be shown as is.
 *
 * The controller judges the same step every cycle, so every rate is bounded by a confidence
 * sequence (confidence-sequence.ts), not a fixed-sample interval: the chance that a segment whose
 * true agreement sits at the target is ever promoted stays under 1 − confidence however many
 * cycles look at it. Each sequence's prior is centred on the limit it is compared with.
 */

export type GateStage = 'shadow' | 'supervised' | 'confidence-routed';

export interface GateMetrics {
  /** Comparisons with a human ground truth in the current step, and how many agreed. */
  n: number;
  agree: number;
  /** Human reviews of AI suggestions/decisions (supervised and above), and how many were overridden. */
  reviews: number;
  overridden: number;
  /** Model calls and how many failed (timeout, error, invalid output). */
  aiCalls: number;
  aiFailures: number;
}

export interface GateCriteria {
  minSample: number;
  minDwellMs: number;
  /** The agreement rate whose anytime-valid LOWER bound must reach it, e.g. 0.9. */
  agreementTarget: number;
  /** Confidence level of every interval in the gate, e.g. 0.95. */
  confidence: number;
  /** Ceiling on the override rate; applies from supervised on, where reviews exist. */
  maxOverrideRate?: number;
  /** Ceiling on the model failure rate. */
  maxErrorRate?: number;
}

export interface GateInput {
  stage: GateStage;
  /** Index of the current traffic step within the stage (recorded with the verdict). */
  step: number;
  metrics: GateMetrics;
  /** Time spent at the current step. */
  dwellMs: number;
  criteria: GateCriteria;
  budgetOk: boolean;
  approvalRequired: boolean;
  approved: boolean;
  /**
   * Criteria judged outside the gate's counts (human parity, false-promotion control across
   * segments), folded into the verdict like the others: null keeps it inconclusive, false fails it.
   */
  additional?: GateCriterionResult[];
}

export type GateVerdict = 'pass' | 'fail' | 'inconclusive' | 'awaiting-approval';

export type GateCriterionName =
  | 'minimum-sample'
  | 'minimum-dwell'
  | 'agreement'
  | 'override-rate'
  | 'error-rate'
  | 'budget'
  | 'approval'
  /** Added by the rollout controller for confidence routing: a certified or fixed threshold exists. */
  | 'threshold'
  /** The AI is not worse than a second person by more than a margin, on blind double-labelled items. */
  | 'human-parity'
  /** e-BH across the workflow's segments: this segment is among the promotions whose false share stays under α. */
  | 'cross-segment';

export interface GateCriterionResult {
  name: GateCriterionName;
  /** true: holds; false: does not; null: the data cannot tell yet. */
  holds: boolean | null;
  /** The measured value (a rate, a count, milliseconds, or a yes/no), null when there is none. */
  actual: number | boolean | null;
  /** What it is compared with. */
  required: number | boolean;
  /**
   * Signed distance of the deciding number from the requirement, positive when on the good side.
   * For rates it is measured from the interval bound that decides: for agreement the lower bound
   * when it holds or is undecided and the upper bound when it fails; for ceilings the other way round.
   */
  margin: number | null;
  /** Confidence interval of a rate criterion. */
  interval?: { lower: number; upper: number; confidence: number };
  /** One sentence for people. */
  detail: string;
}

export interface GateResult {
  verdict: GateVerdict;
  stage: GateStage;
  step: number;
  criteria: GateCriterionResult[];
  /**
   * How many MORE comparisons should let the gate decide, if the current agreement rate holds
   * (the larger of what minSample and the confidence sequence need). Null when more data at the current
   * rate cannot make it pass, or nothing more is needed.
   */
  moreSamplesNeeded: number | null;
  /** One sentence summarising the verdict. */
  summary: string;
}

/**
 * Judges the current traffic step of a segment. Pure: the caller passes the counts of the step
 * (comparisons, reviews, model calls), the time spent there and the approval state; the result
 * carries every number it was decided on.
 */
export function evaluateGate(input: GateInput): GateResult {
  validate(input);
  const { stage, step, metrics, dwellMs, criteria } = input;
  const results: GateCriterionResult[] = [];

  const enoughSamples = metrics.n >= criteria.minSample;
  results.push({
    name: 'minimum-sample',
    holds: enoughSamples,
    actual: metrics.n,
    required: criteria.minSample,
    margin: metrics.n - criteria.minSample,
    detail: enoughSamples
      ? `${metrics.n} comparisons, at least ${criteria.minSample} required.`
      : `${metrics.n} comparisons of the ${criteria.minSample} required: ${criteria.minSample - metrics.n} more needed.`,
  });

  const dwelt = dwellMs >= criteria.minDwellMs;
  const dwellText = `At this step for ${formatDuration(dwellMs)}`;
  results.push({
    name: 'minimum-dwell',
    holds: dwelt,
    actual: dwellMs,
    required: criteria.minDwellMs,
    margin: dwellMs - criteria.minDwellMs,
    detail: dwelt
      ? `${dwellText}, at least ${formatDuration(criteria.minDwellMs)} required.`
      : `${dwellText} of the ${formatDuration(criteria.minDwellMs)} required: ${formatDuration(criteria.minDwellMs - dwellMs)} to go.`,
  });

  const agreement = agreementCriterion(metrics, criteria);
  results.push(agreement.result);

  // Shadow has no reviews: nothing leaves Understudy, so there is nothing to override.
  if (criteria.maxOverrideRate !== undefined && stage !== 'shadow') {
    const counts = { events: metrics.overridden, total: metrics.reviews, totalNoun: 'reviews', eventVerb: 'overridden' };
    results.push(ceilingCriterion('override-rate', counts, criteria.maxOverrideRate, criteria.confidence));
  }
  if (criteria.maxErrorRate !== undefined) {
    const counts = { events: metrics.aiFailures, total: metrics.aiCalls, totalNoun: 'model calls', eventVerb: 'failed' };
    results.push(ceilingCriterion('error-rate', counts, criteria.maxErrorRate, criteria.confidence));
  }

  results.push(...(input.additional ?? []));

  results.push({
    name: 'budget',
    holds: input.budgetOk,
    actual: input.budgetOk,
    required: true,
    margin: null,
    detail: input.budgetOk ? 'Within the token and cost budget.' : 'The token or cost budget is exhausted.',
  });

  if (input.approvalRequired) {
    results.push({
      name: 'approval',
      holds: input.approved,
      actual: input.approved,
      required: true,
      margin: null,
      detail: input.approved ? 'Approved by a program manager.' : 'Waiting for a program manager to approve.',
    });
  }

  const beforeApproval = results.filter((c) => c.name !== 'approval');
  // Sample size and dwell are "not yet", never "no": only the other criteria can fail.
  const failed = beforeApproval.filter((c) => c.holds === false && c.name !== 'minimum-sample' && c.name !== 'minimum-dwell');
  const open = beforeApproval.filter((c) => c.holds !== true);

  let verdict: GateVerdict;
  let summary: string;
  if (failed.length > 0) {
    verdict = 'fail';
    summary = `Fails on ${failed.map((c) => c.name).join(', ')}: ${failed[0].detail}`;
  } else if (open.length > 0) {
    verdict = 'inconclusive';
    summary = `Not enough evidence yet (${open.map((c) => c.name).join(', ')}); the segment stays where it is.`;
  } else if (input.approvalRequired && !input.approved) {
    verdict = 'awaiting-approval';
    summary = 'Every criterion holds; waiting for a program manager to approve the next step.';
  } else {
    verdict = 'pass';
    summary = 'Every criterion holds.';
  }

  // More comparisons only help when nothing fails for good and agreement is not already ruled out.
  let moreSamplesNeeded: number | null = null;
  if (verdict === 'inconclusive' && agreement.result.holds !== false) {
    const forSample = criteria.minSample - metrics.n;
    const forBound = agreement.result.holds === true ? 0 : agreement.neededTotal === null ? null : agreement.neededTotal - metrics.n;
    if (forBound !== null && Math.max(forSample, forBound) > 0) moreSamplesNeeded = Math.max(forSample, forBound);
  }

  return { verdict, stage, step, criteria: results, moreSamplesNeeded, summary };
}

/** Agreement: the sequence's lower bound must reach the target; an upper bound below it fails. */
function agreementCriterion(metrics: GateMetrics, criteria: GateCriteria): { result: GateCriterionResult; neededTotal: number | null } {
  const target = criteria.agreementTarget;
  const prior = priorCentredOn(target);
  const interval = confidenceSequence(metrics.agree, metrics.n, criteria.confidence, prior);
  const result = (holds: boolean | null, margin: number | null, detail: string): GateCriterionResult => ({
    name: 'agreement',
    holds,
    actual: interval.rate,
    required: target,
    margin,
    interval: { lower: interval.lower, upper: interval.upper, confidence: criteria.confidence },
    detail,
  });

  if (interval.rate === null) {
    return { result: result(null, null, `No comparisons yet; the target is ${formatRate(target)}.`), neededTotal: null };
  }
  const observed =
    `${metrics.agree}/${metrics.n} = ${formatRate(interval.rate)} ` +
    `(${formatPercent(criteria.confidence)} interval ${formatRate(interval.lower)}–${formatRate(interval.upper)})`;

  if (interval.lower >= target) {
    const margin = interval.lower - target;
    const detail = `Agreement ${observed}: the lower bound is ${formatRate(margin)} above the target ${formatRate(target)}.`;
    return { result: result(true, margin, detail), neededTotal: metrics.n };
  }
  if (interval.upper < target) {
    const margin = interval.upper - target;
    const detail = `Agreement ${observed}: even the upper bound is ${formatRate(-margin)} below the target ${formatRate(target)}.`;
    return { result: result(false, margin, detail), neededTotal: null };
  }
  const needed = sequenceSamplesNeeded(interval.rate, target, criteria.confidence, prior);
  const projection =
    needed === null
      ? 'the rate is not above the target, so more data at this rate cannot show it is met.'
      : `if the rate holds, about ${needed - metrics.n} more comparisons (${needed} in all) would settle it.`;
  const detail = `Agreement ${observed} still straddles the target ${formatRate(target)}: ${projection}`;
  return { result: result(null, interval.lower - target, detail), neededTotal: needed };
}

/**
 * A rate that must stay under a ceiling: it holds when the sequence's upper bound is at or under
 * the ceiling and fails when even the lower bound is over it.
 */
function ceilingCriterion(
  name: 'override-rate' | 'error-rate',
  counts: { events: number; total: number; totalNoun: string; eventVerb: string },
  ceiling: number,
  confidence: number,
): GateCriterionResult {
  const { events, total, totalNoun, eventVerb } = counts;
  const interval = confidenceSequence(events, total, confidence, priorCentredOn(ceiling));
  const result = (holds: boolean | null, margin: number | null, detail: string): GateCriterionResult => ({
    name,
    holds,
    actual: interval.rate,
    required: ceiling,
    margin,
    interval: { lower: interval.lower, upper: interval.upper, confidence },
    detail,
  });

  if (interval.rate === null) return result(null, null, `No ${totalNoun} yet; the ceiling is ${formatRate(ceiling)}.`);
  const observed =
    `${events} of ${total} ${totalNoun} ${eventVerb} = ${formatRate(interval.rate)} ` +
    `(${formatPercent(confidence)} interval ${formatRate(interval.lower)}–${formatRate(interval.upper)})`;

  if (interval.upper <= ceiling) {
    const margin = ceiling - interval.upper;
    return result(true, margin, `${observed}: the upper bound is ${formatRate(margin)} under the ceiling ${formatRate(ceiling)}.`);
  }
  if (interval.lower > ceiling) {
    const margin = ceiling - interval.lower;
    return result(false, margin, `${observed}: even the lower bound is ${formatRate(-margin)} over the ceiling ${formatRate(ceiling)}.`);
  }
  return result(null, ceiling - interval.upper, `${observed} still straddles the ceiling ${formatRate(ceiling)}.`);
}

function formatRate(value: number): string {
  return value.toFixed(4);
}

function formatPercent(value: number): string {
  return `${Number((value * 100).toFixed(2))} %`;
}

/** 90061000 → "1 d 1 h 1 min"; under a minute → seconds. */
function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const totalMinutes = Math.floor(ms / 60_000);
  const days = Math.floor(totalMinutes / 1440);
  const hours = Math.floor((totalMinutes % 1440) / 60);
  const minutes = totalMinutes % 60;
  const parts = [days ? `${days} d` : '', hours ? `${hours} h` : '', minutes ? `${minutes} min` : ''].filter(Boolean);
  return parts.join(' ');
}

function validate(input: GateInput): void {
  const { metrics, criteria } = input;
  const count = (value: number, name: string) => {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`evaluateGate: ${name} must be a non-negative integer, got ${value}`);
    }
  };
  count(metrics.n, 'metrics.n');
  count(metrics.agree, 'metrics.agree');
  count(metrics.reviews, 'metrics.reviews');
  count(metrics.overridden, 'metrics.overridden');
  count(metrics.aiCalls, 'metrics.aiCalls');
  count(metrics.aiFailures, 'metrics.aiFailures');
  count(criteria.minSample, 'criteria.minSample');
  if (metrics.agree > metrics.n) {
    throw new RangeError(`evaluateGate: ${metrics.agree} agreements out of ${metrics.n} comparisons`);
  }
  if (metrics.overridden > metrics.reviews) {
    throw new RangeError(`evaluateGate: ${metrics.overridden} overrides out of ${metrics.reviews} reviews`);
  }
  if (metrics.aiFailures > metrics.aiCalls) {
    throw new RangeError(`evaluateGate: ${metrics.aiFailures} failures out of ${metrics.aiCalls} calls`);
  }
  if (!(input.dwellMs >= 0) || !(criteria.minDwellMs >= 0)) {
    throw new RangeError('evaluateGate: dwell times must be non-negative');
  }
  if (!(criteria.agreementTarget > 0 && criteria.agreementTarget < 1)) {
    throw new RangeError(`evaluateGate: agreementTarget must be strictly between 0 and 1, got ${criteria.agreementTarget}`);
  }
  const ceilings = [
    ['maxOverrideRate', criteria.maxOverrideRate],
    ['maxErrorRate', criteria.maxErrorRate],
  ] as const;
  for (const [name, ceiling] of ceilings) {
    if (ceiling !== undefined && !(ceiling >= 0 && ceiling < 1)) {
      throw new RangeError(`evaluateGate: ${name} must be within [0, 1), got ${ceiling}`);
    }
  }
}
