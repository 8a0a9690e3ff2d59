import { STAGES, Stage, isStage, previousStage, stageIndex } from './stage';

/**
 * A segment's traffic split between two neighbouring stages, and its form as stage variants with
 * per-mille weights: the variants of the segment's Unleash strategy (unleash-strategy.ts).
 *
 * How unleash-client 6.x picks a strategy variant (lib/variant.js selectVariantDefinition and
 * lib/strategy/util.js): target = murmur3_x86_32(`${groupId}:${itemId}`, seed 86028157)
 * % totalWeight + 1, then the variants are walked IN THEIR STORED ORDER accumulating weights, and
 * the first variant whose running sum reaches the target wins. So an item's target never changes
 * while groupId (= the flag name) and the total (always 1000) stay put, and with two variants
 * growing one weight only moves the single boundary between them: items already on the growing
 * side stay there. That is what makes "10 → 25 → 50 → 100 %" sticky.
 */

/** trafficPct % of the segment's items are at `stage`, the rest at the stage below. */
export interface SegmentSplit {
  stage: Stage;
  trafficPct: number;
}

export interface StageVariant {
  name: Stage;
  weight: number;
}

/** Unleash expresses variant weights in per-mille. */
export const TOTAL_WEIGHT = 1000;

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Throws RangeError unless the split can be written. */
export function validateSplit(split: SegmentSplit): void {
  if (!split || !isStage(split.stage)) {
    throw new RangeError(`split.stage must be one of ${STAGES.join(', ')}, got ${JSON.stringify(split?.stage)}`);
  }
  if (typeof split.trafficPct !== 'number' || !Number.isFinite(split.trafficPct)) {
    throw new RangeError(`split.trafficPct must be a finite number, got ${JSON.stringify(split.trafficPct)}`);
  }
  if (split.trafficPct < 0 || split.trafficPct > 100) {
    throw new RangeError(`split.trafficPct must be within 0..100, got ${split.trafficPct}`);
  }
}

/**
 * The canonical form of a split, at Unleash's resolution (0.1 %): shadow is always 100 %, and a
 * stage at 0 % is the stage below at 100 %. Round trips through Unleash return this form.
 */
export function normalizeSplit(split: SegmentSplit): SegmentSplit {
  validateSplit(split);
  if (split.stage === 'shadow') return { stage: 'shadow', trafficPct: 100 };
  const perMille = Math.round(split.trafficPct * 10);
  if (perMille === 0) return { stage: previousStage(split.stage) ?? 'shadow', trafficPct: 100 };
  return { stage: split.stage, trafficPct: perMille / 10 };
}

/** Variants in per-mille (sum 1000), higher stage first, zero weights left out. */
export function splitToVariants(split: SegmentSplit): StageVariant[] {
  const n = normalizeSplit(split);
  const weight = Math.round(n.trafficPct * 10);
  const below = previousStage(n.stage);
  if (weight === TOTAL_WEIGHT || below === null) return [{ name: n.stage, weight: TOTAL_WEIGHT }];
  return [
    { name: n.stage, weight },
    { name: below, weight: TOTAL_WEIGHT - weight },
  ];
}

export interface SplitReading {
  split: SegmentSplit;
  /** Set when the variants are not what Understudy writes; says what and what it means. */
  irregular?: string;
}

/**
 * Reads back whatever variants a strategy carries, never throwing: anything Understudy would not
 * have written is described in `irregular`. The split names the highest stage present and its
 * share of the total weight (which is what unleash-client buckets against).
 */
export function variantsToSplit(variants: ReadonlyArray<{ name: string; weight: number }> | null | undefined): SplitReading {
  const notes: string[] = [];
  const list = Array.isArray(variants) ? variants : [];
  if (list.length === 0) {
    return {
      split: { stage: 'shadow', trafficPct: 100 },
      irregular: 'no variants: matching items get no stage (treated as shadow)',
    };
  }
  const byName = new Map<string, number>();
  for (const v of list) {
    const name = typeof v?.name === 'string' ? v.name : String(v?.name);
    const w = typeof v?.weight === 'number' && Number.isFinite(v.weight) ? v.weight : NaN;
    if (Number.isNaN(w) || w < 0) {
      notes.push(`variant ${name} has an invalid weight ${JSON.stringify(v?.weight)} (counted as 0)`);
    }
    if (byName.has(name)) notes.push(`variant ${name} appears more than once`);
    byName.set(name, (byName.get(name) ?? 0) + (Number.isNaN(w) || w < 0 ? 0 : w));
  }
  const total = [...byName.values()].reduce((a, b) => a + b, 0);
  const unknown = [...byName.entries()].filter(([name, w]) => !isStage(name) && w > 0);
  if (unknown.length > 0) {
    notes.push(
      `unknown variant${unknown.length > 1 ? 's' : ''} ${unknown
        .map(([n, w]) => `${n} (${round1((w / total) * 100)} %)`)
        .join(', ')}: those items are treated as shadow`,
    );
  }
  if (total <= 0) {
    notes.push('all weights are 0');
    return { split: { stage: 'shadow', trafficPct: 100 }, irregular: notes.join('; ') };
  }
  if (total !== TOTAL_WEIGHT) notes.push(`weights sum to ${total}, not ${TOTAL_WEIGHT}`);

  const present = STAGES.filter((s) => (byName.get(s) ?? 0) > 0);
  if (present.length === 0) {
    return { split: { stage: 'shadow', trafficPct: 100 }, irregular: notes.join('; ') };
  }
  const top = present[present.length - 1];
  if (present.length === 3) {
    notes.push('all three stages carry weight');
  } else if (present.length === 2 && stageIndex(present[1]) - stageIndex(present[0]) !== 1) {
    notes.push(`${present[1]} next to ${present[0]}, skipping the stage between them`);
  }
  const trafficPct = top === 'shadow' ? 100 : round1(((byName.get(top) ?? 0) / total) * 100);
  const split: SegmentSplit = { stage: top, trafficPct };
  return notes.length > 0 ? { split, irregular: notes.join('; ') } : { split };
}
