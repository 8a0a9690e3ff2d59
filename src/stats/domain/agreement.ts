import { independentProportionDifference, ProportionDifference } from './proportion-difference';
import { wilsonInterval } from './wilson-interval';

/** Agreement counts of one decision field. */
export interface FieldCounts {
  n: number;
  agree: number;
}

export interface FieldAgreement {
  field: string;
  n: number;
  agree: number;
  disagree: number;
  /** Null when the field was never compared. */
  rate: number | null;
  lower: number;
  upper: number;
  confidence: number;
}

/**
 * Tallies per-field outcomes of individual comparisons (true = the AI's value matched the human's
 * under the workflow's comparator). A field missing from a comparison was not compared there.
 */
export function countFieldAgreement(comparisons: Iterable<Readonly<Record<string, boolean>>>): Record<string, FieldCounts> {
  const counts: Record<string, FieldCounts> = {};
  for (const fields of comparisons) {
    for (const [field, matched] of Object.entries(fields)) {
      const entry = (counts[field] ??= { n: 0, agree: 0 });
      entry.n += 1;
      if (matched) entry.agree += 1;
    }
  }
  return counts;
}

/**
 * Per-field agreement with Wilson intervals, worst field first (lowest rate; never-compared fields
 * last; ties by name), because an analyst reads this table to find where the AI and people part.
 */
export function fieldAgreementSummary(counts: Readonly<Record<string, FieldCounts>>, confidence = 0.95): FieldAgreement[] {
  return Object.entries(counts)
    .map(([field, { n, agree }]) => {
      const interval = wilsonInterval(agree, n, confidence);
      const { rate, lower, upper } = interval;
      return { field, n, agree, disagree: n - agree, rate, lower, upper, confidence };
    })
    .sort((a, b) => {
      if (a.rate !== null && b.rate !== null && a.rate !== b.rate) return a.rate - b.rate;
      if (a.rate === null && b.rate !== null) return 1;
      if (a.rate !== null && b.rate === null) return -1;
      return compareText(a.field, b.field);
    });
}

export interface OverrideRate {
  reviews: number;
  overridden: number;
  /** overridden/reviews; null with no reviews. */
  rate: number | null;
  lower: number;
  upper: number;
  confidence: number;
}

/** Share of reviewed AI suggestions or decisions a person overrode, with its Wilson interval. */
export function overrideRate(reviews: number, overridden: number, confidence = 0.95): OverrideRate {
  const interval = wilsonInterval(overridden, reviews, confidence);
  return { reviews, overridden, rate: interval.rate, lower: interval.lower, upper: interval.upper, confidence };
}

export interface BaselineComparison {
  /** AI-vs-human agreement and human-vs-human agreement, each with its Wilson interval. */
  ai: { n: number; agree: number; rate: number | null; lower: number; upper: number };
  humans: { n: number; agree: number; rate: number | null; lower: number; upper: number };
  /** ai − humans with Newcombe's hybrid score interval; null when either side has no data. */
  difference: ProportionDifference | null;
  /**
   * below: the AI agrees with people clearly less than people agree with each other (the whole
   * interval of the difference is under 0); above: clearly more; indistinguishable: the interval
   * contains 0 — the AI is within the noise between two people. Null when either side has no data.
   */
  verdict: 'below' | 'above' | 'indistinguishable' | null;
}

/**
 * AI agreement judged against the human-vs-human baseline (items decided independently by two
 * people): if two people agree 88 % of the time, an AI at 87 % is as good as another person, while
 * the raw 87 % alone looks poor. Like Diffy judging a candidate against the noise between two
 * copies of the primary. The two rates come from different items, so they are independent
 * proportions (Newcombe 1998 method 10).
 */
export function compareWithHumanBaseline(ai: FieldCounts, humans: FieldCounts, confidence = 0.95): BaselineComparison {
  const aiInterval = wilsonInterval(ai.agree, ai.n, confidence);
  const humanInterval = wilsonInterval(humans.agree, humans.n, confidence);
  const difference = independentProportionDifference(ai.agree, ai.n, humans.agree, humans.n, confidence);
  let verdict: BaselineComparison['verdict'] = null;
  if (difference !== null) {
    verdict = difference.upper < 0 ? 'below' : difference.lower > 0 ? 'above' : 'indistinguishable';
  }
  const summary = (counts: FieldCounts, interval: typeof aiInterval) => ({
    n: counts.n,
    agree: counts.agree,
    rate: interval.rate,
    lower: interval.lower,
    upper: interval.upper,
  });
  return { ai: summary(ai, aiInterval), humans: summary(humans, humanInterval), difference, verdict };
}

/**
 * A percentile (e.g. q = 0.95 for p95 latency) from a histogram, the way Prometheus'
 * histogram_quantile reads one: find the bucket holding the q·N-th observation and interpolate
 * linearly inside it, assuming observations are spread evenly across the bucket.
 *
 * - bucketUpperBounds: ascending upper bounds; the first bucket starts at 0 (latencies are never
 *   negative), bucket i spans (bound[i−1], bound[i]].
 * - counts: observations per bucket (not cumulative); one extra trailing count may hold the
 *   observations above the last bound. If the percentile falls there, the last finite bound is
 *   returned — the histogram cannot say more, so widen the buckets if that happens.
 * - Empty buckets are skipped, so q = 0 gives the lower edge of the first non-empty bucket.
 * Returns null when the histogram holds no observations.
 */
export function percentileFromHistogram(bucketUpperBounds: readonly number[], counts: readonly number[], q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`percentileFromHistogram: q must be within [0, 1], got ${q}`);
  if (bucketUpperBounds.length === 0) throw new RangeError('percentileFromHistogram: at least one bucket bound is needed');
  if (counts.length !== bucketUpperBounds.length && counts.length !== bucketUpperBounds.length + 1) {
    throw new RangeError(
      `percentileFromHistogram: ${bucketUpperBounds.length} bounds need as many counts ` + `(or one more for overflow), got ${counts.length}`,
    );
  }
  bucketUpperBounds.forEach((bound, i) => {
    if (!(bound >= 0) || (i > 0 && !(bound > bucketUpperBounds[i - 1]))) {
      throw new RangeError('percentileFromHistogram: bounds must be non-negative and strictly ascending');
    }
  });
  counts.forEach((count) => {
    if (!(count >= 0)) throw new RangeError('percentileFromHistogram: counts must be non-negative');
  });

  const total = counts.reduce((s, v) => s + v, 0);
  if (total === 0) return null;
  const rank = q * total;
  let before = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i];
    if (count > 0 && before + count >= rank) {
      if (i === bucketUpperBounds.length) return bucketUpperBounds[i - 1]; // the overflow bucket
      const from = i === 0 ? 0 : bucketUpperBounds[i - 1];
      const to = bucketUpperBounds[i];
      return from + (to - from) * (Math.max(0, rank - before) / count);
    }
    before += count;
  }
  return bucketUpperBounds[bucketUpperBounds.length - 1]; // unreachable: rank ≤ total
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
