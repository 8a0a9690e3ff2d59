import type { RollupTotals } from '../../comparison/domain/rollup';

/** Cumulative rollup totals of a segment's champion, and the arithmetic of windows over them. */
export type SegmentCounts = RollupTotals;

export const ZERO_COUNTS: SegmentCounts = { n: 0, agree: 0, reviews: 0, overridden: 0, audits: 0, auditAgree: 0, aiCalls: 0, aiFailures: 0 };

/** Counts since a base (totals minus the totals at the base), never negative. */
export function since(totals: SegmentCounts, base: SegmentCounts | null | undefined): SegmentCounts {
  const b = base ?? ZERO_COUNTS;
  const out = { ...ZERO_COUNTS };
  for (const k of Object.keys(out) as Array<keyof SegmentCounts>) out[k] = Math.max(0, totals[k] - (b[k] ?? 0));
  return out;
}
