/**
 * The bound on a workflow's segments. Every new attribute value would otherwise make a segment,
 * an Unleash strategy and a set of metric series; past the bound, new values are pooled in one
 * overflow segment, which stays in shadow (rollout/domain/segment-machine.ts).
 */
export interface SegmentCap {
  /** Most segments a workflow may have, not counting the overflow segment. */
  maxSegments: number;
  /** The segment the values beyond the bound are pooled in. */
  overflowSegment: string;
}

export interface SegmentPlan {
  /** New segments that get their own place, in the order their items arrived. */
  admit: string[];
  /** The segment each key's items are stored in: itself, or the overflow segment. */
  segmentOf: Map<string, string>;
  /** Keys pooled in the overflow segment because the bound is reached. */
  pooled: string[];
  /** The segments to register: the admitted ones, and the overflow segment when it is first needed. */
  register: string[];
}

/**
 * Which segment each key's items go to, given the workflow's known segments: a known segment is
 * kept; a new one is admitted while there is room, in order of first appearance; the rest are pooled
 * in the overflow segment (which never counts towards the bound).
 */
export function planSegments(keys: readonly string[], known: ReadonlySet<string>, cap: SegmentCap): SegmentPlan {
  let room = cap.maxSegments - ownSegments(known, cap);
  const segmentOf = new Map<string, string>();
  const admit: string[] = [];
  const pooled: string[] = [];
  for (const key of keys) {
    if (segmentOf.has(key)) continue;
    if (key === cap.overflowSegment || known.has(key)) {
      segmentOf.set(key, key);
    } else if (room > 0) {
      room--;
      admit.push(key);
      segmentOf.set(key, key);
    } else {
      pooled.push(key);
      segmentOf.set(key, cap.overflowSegment);
    }
  }
  const register = pooled.length > 0 && !known.has(cap.overflowSegment) ? [...admit, cap.overflowSegment] : [...admit];
  return { admit, segmentOf, pooled, register };
}

/** Whether no new segment can be admitted any more (and the overflow segment exists to pool into). */
export function isFull(known: ReadonlySet<string>, cap: SegmentCap): boolean {
  return known.has(cap.overflowSegment) && ownSegments(known, cap) >= cap.maxSegments;
}

function ownSegments(known: ReadonlySet<string>, cap: SegmentCap): number {
  return known.size - (known.has(cap.overflowSegment) ? 1 : 0);
}

/** Whether any of the keys is not yet known (only then must the bound be checked under a lock). */
export function hasNewSegments(keys: Iterable<string>, known: ReadonlySet<string>, cap: SegmentCap): boolean {
  for (const k of keys) if (k !== cap.overflowSegment && !known.has(k)) return true;
  return false;
}

/**
 * The distinct (workflow, segment) pairs of a batch, in key order: registering them in the same order
 * everywhere means concurrent batches take the segments' row locks alike and cannot deadlock.
 */
export function distinctSegments(items: ReadonlyArray<{ workflow: string; segment: string }>): Array<{ workflow: string; segment: string }> {
  const byKey = new Map<string, { workflow: string; segment: string }>();
  for (const { workflow, segment } of items) byKey.set(`${workflow}\u0000${segment}`, { workflow, segment });
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}
