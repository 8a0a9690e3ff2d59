import { STAGES, Stage, isStage, previousStage, stageIndex } from './stage';

/**
 * The flag contract between Understudy and Unleash (see DESIGN.md, "Flags (Unleash)"):
 * one flag per workflow, one flexibleRollout strategy per segment constrained on the context
 * field `segment`, whose variants are stages and whose weights are the traffic split, sticky on
 * `itemId`. Pure functions only: they build what is written and read back what anybody wrote.
 *
 * How unleash-client 6.x picks a strategy variant (lib/variant.js selectVariantDefinition and
 * lib/strategy/util.js): target = murmur3_x86_32(`${groupId}:${itemId}`, seed 86028157)
 * % totalWeight + 1, then the variants are walked IN THEIR STORED ORDER accumulating weights, and
 * the first variant whose running sum reaches the target wins. So an item's target never changes
 * while groupId (= the flag name) and the total (always 1000) stay put, and with two variants
 * growing one weight only moves the single boundary between them: items already on the growing
 * side stay there. That is what makes "10 → 25 → 50 → 100 %" sticky.
 *
 * Two things Unleash 6.10 does on every strategy write (FeatureToggleService.fixVariantWeights)
 * shape the payload below:
 *  - `weightType: 'variable'` weights are REPLACED by an even share of what the `fix` variants
 *    leave, so a 250/750 split sent as two `variable` variants is stored as 500/500. Hence every
 *    variant but the last is `fix` and the last one is `variable` (Unleash requires at least one
 *    `variable`) and receives exactly the remainder.
 *  - the variants are then SORTED BY NAME, so the order we send (higher stage first) is not the
 *    order stored. Stickiness does not depend on it: the stored order is a fixed function of the
 *    names (confidence-routed < shadow < supervised), identical on every write, and with two
 *    variants any fixed order keeps the boundary argument above. We still send higher-stage-first
 *    so that a server that keeps the order gives the same guarantee.
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
export const SEGMENT_CONTEXT_FIELD = 'segment';
export const ITEM_ID_CONTEXT_FIELD = 'itemId';
export const WORKFLOW_CONTEXT_FIELD = 'workflow';
export const SEGMENT_STRATEGY_TITLE_PREFIX = 'segment:';
export const FALLBACK_STRATEGY_TITLE = 'understudy: other segments → shadow (keep last)';
/** Segment strategies are written ahead of the fallback; Unleash appends new ones at max+1 otherwise. */
export const SEGMENT_STRATEGY_SORT_ORDER = 0;
export const FALLBACK_STRATEGY_SORT_ORDER = 10_000;

export interface UnleashConstraint {
  contextName: string;
  operator: string;
  values?: string[];
  value?: string;
  caseInsensitive?: boolean;
  inverted?: boolean;
}

export interface UnleashStrategyVariant {
  name: string;
  weight: number;
  weightType?: 'fix' | 'variable' | string;
  stickiness?: string;
  payload?: { type: string; value: string };
}

/** What Understudy sends to POST/PUT …/environments/:env/strategies. */
export interface UnleashStrategyPayload {
  name: string;
  title?: string | null;
  disabled?: boolean | null;
  sortOrder?: number;
  parameters: Record<string, string>;
  constraints: UnleashConstraint[];
  variants: UnleashStrategyVariant[];
  segments?: number[];
}

/** A strategy as Unleash's Admin API returns it. Fields are optional: an operator may have written anything. */
export interface UnleashStrategy {
  id: string;
  name: string;
  title?: string | null;
  disabled?: boolean | null;
  sortOrder?: number;
  parameters?: Record<string, string>;
  constraints?: UnleashConstraint[];
  variants?: UnleashStrategyVariant[];
  segments?: number[];
}

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

export function segmentConstraint(segment: string): UnleashConstraint {
  return { contextName: SEGMENT_CONTEXT_FIELD, operator: 'IN', values: [segment], caseInsensitive: false, inverted: false };
}

function strategyVariants(variants: ReadonlyArray<StageVariant>): UnleashStrategyVariant[] {
  // All but the last are `fix`; the last is `variable` and receives exactly the remainder (see top of file).
  return variants.map((v, i) => ({
    name: v.name,
    weight: v.weight,
    weightType: i === variants.length - 1 ? 'variable' : 'fix',
    stickiness: ITEM_ID_CONTEXT_FIELD,
  }));
}

function rolloutParameters(flagName: string): Record<string, string> {
  return { rollout: '100', stickiness: ITEM_ID_CONTEXT_FIELD, groupId: flagName };
}

/** The strategy that carries one segment's split. */
export function buildSegmentStrategy(flagName: string, segment: string, split: SegmentSplit): UnleashStrategyPayload {
  if (typeof segment !== 'string' || segment.length === 0) {
    throw new RangeError(`segment must be a non-empty string, got ${JSON.stringify(segment)}`);
  }
  return {
    name: 'flexibleRollout',
    title: `${SEGMENT_STRATEGY_TITLE_PREFIX}${segment}`,
    disabled: false,
    parameters: rolloutParameters(flagName),
    constraints: [segmentConstraint(segment)],
    variants: strategyVariants(splitToVariants(split)),
    segments: [],
  };
}

/**
 * The catch-all evaluated after every segment strategy: segments without their own strategy are in
 * shadow. It exists because Unleash 6 does not keep an environment enabled without a strategy
 * (enabling adds a constraint-less default strategy with no variants; deleting the last strategy
 * disables the environment), and a flag must be enabled to mean anything but "humans only".
 */
export function buildFallbackStrategy(flagName: string): UnleashStrategyPayload {
  return {
    name: 'flexibleRollout',
    title: FALLBACK_STRATEGY_TITLE,
    disabled: false,
    sortOrder: FALLBACK_STRATEGY_SORT_ORDER,
    parameters: rolloutParameters(flagName),
    constraints: [],
    variants: strategyVariants([{ name: 'shadow', weight: TOTAL_WEIGHT }]),
    segments: [],
  };
}

export interface ParsedSegmentStrategy {
  segment: string;
  strategyId: string;
  split: SegmentSplit;
  irregular?: string;
}

export interface ParsedFlagStrategies {
  /** One entry per segment: the strategy clients actually evaluate for it. */
  segments: ParsedSegmentStrategy[];
  /** The first constraint-less strategy (Understudy's fallback, or Unleash's default one). */
  fallback: { strategyId: string; split: SegmentSplit; irregular?: string } | null;
  /** Strategies that are neither: disabled, unreachable, constrained on something else … */
  others: Array<{ strategyId: string; title: string | null; reason: string }>;
}

/**
 * Reads a flag environment's strategies back into per-segment splits, in the order clients
 * evaluate them (sortOrder, then the order Unleash listed them). Never throws on odd content.
 */
export function parseSegmentStrategies(
  strategies: ReadonlyArray<UnleashStrategy> | null | undefined,
  flagName?: string,
): ParsedFlagStrategies {
  const ordered = (Array.isArray(strategies) ? strategies : [])
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (a.s.sortOrder ?? 9999) - (b.s.sortOrder ?? 9999) || a.i - b.i)
    .map(({ s }) => s);

  const result: ParsedFlagStrategies = { segments: [], fallback: null, others: [] };
  const seen = new Map<string, ParsedSegmentStrategy>();
  const title = (s: UnleashStrategy) => s.title ?? null;

  for (const s of ordered) {
    if (s.disabled) {
      result.others.push({ strategyId: s.id, title: title(s), reason: 'disabled (clients do not evaluate it)' });
      continue;
    }
    const constraints: UnleashConstraint[] = Array.isArray(s.constraints) ? s.constraints : [];
    const segmentConstraints = constraints.filter((c) => c?.contextName === SEGMENT_CONTEXT_FIELD);
    const otherConstraints = constraints.filter((c) => c?.contextName !== SEGMENT_CONTEXT_FIELD);

    const notes: string[] = [];
    if (s.name !== 'flexibleRollout') notes.push(`strategy type ${s.name}, not flexibleRollout`);
    const p = s.parameters ?? {};
    if (s.name === 'flexibleRollout' && String(p.rollout ?? '') !== '100') {
      notes.push(`rollout ${p.rollout ?? '(unset)'} %: the other items fall through to later strategies`);
    }
    if (p.stickiness !== undefined && p.stickiness !== ITEM_ID_CONTEXT_FIELD) {
      notes.push(`stickiness ${p.stickiness}, not ${ITEM_ID_CONTEXT_FIELD}`);
    }
    if (flagName !== undefined && p.groupId !== undefined && p.groupId !== flagName) {
      notes.push(`groupId ${p.groupId}, not ${flagName}: items are bucketed differently from Understudy's writes`);
    }
    const variantStickiness = s.variants?.[0]?.stickiness;
    if (variantStickiness !== undefined && variantStickiness !== ITEM_ID_CONTEXT_FIELD) {
      notes.push(`variant stickiness ${variantStickiness}, not ${ITEM_ID_CONTEXT_FIELD}`);
    }
    const reading = variantsToSplit(s.variants);
    if (reading.irregular) notes.push(reading.irregular);

    if (constraints.length === 0) {
      if (result.fallback) {
        result.others.push({
          strategyId: s.id,
          title: title(s),
          reason: `unreachable: an earlier catch-all strategy (${result.fallback.strategyId}) matches every item first`,
        });
        continue;
      }
      if (reading.split.stage !== 'shadow') notes.push(`catch-all puts unlisted segments at ${reading.split.stage}`);
      result.fallback = { strategyId: s.id, split: reading.split, ...(notes.length ? { irregular: notes.join('; ') } : {}) };
      continue;
    }
    if (segmentConstraints.length === 0) {
      result.others.push({ strategyId: s.id, title: title(s), reason: 'not constrained on segment' });
      continue;
    }
    const sc = segmentConstraints[0];
    if (segmentConstraints.length > 1 || sc.operator !== 'IN' || sc.inverted) {
      result.others.push({
        strategyId: s.id,
        title: title(s),
        reason: `segment constraint is not a single "segment IN [...]" (${segmentConstraints
          .map((c) => `${c.inverted ? 'NOT ' : ''}${c.operator}`)
          .join(', ')})`,
      });
      continue;
    }
    const values = (Array.isArray(sc.values) ? sc.values : ([] as string[])).filter((v) => typeof v === 'string' && v.length > 0);
    if (values.length === 0) {
      result.others.push({ strategyId: s.id, title: title(s), reason: 'segment constraint has no values' });
      continue;
    }
    if (values.length > 1) notes.push(`one strategy for ${values.length} segments (${values.join(', ')})`);
    if (otherConstraints.length > 0) {
      notes.push(`extra constraints on ${otherConstraints.map((c) => c?.contextName).join(', ')}: only matching items get this split`);
    }
    if (sc.caseInsensitive) notes.push('segment match is case-insensitive');
    if (result.fallback) {
      notes.push(
        `evaluated after the catch-all strategy ${result.fallback.strategyId}: clients never reach it, its items get the catch-all's ${result.fallback.split.stage}`,
      );
    }
    for (const segment of values) {
      const earlier = seen.get(segment);
      if (earlier) {
        earlier.irregular = [earlier.irregular, `another strategy for this segment (${s.id}) comes later and is ignored by clients`]
          .filter(Boolean)
          .join('; ');
        result.others.push({
          strategyId: s.id,
          title: title(s),
          reason: `duplicate for segment ${segment}: strategy ${earlier.strategyId} is evaluated first`,
        });
        continue;
      }
      const entry: ParsedSegmentStrategy = {
        segment,
        strategyId: s.id,
        split: reading.split,
        ...(notes.length ? { irregular: notes.join('; ') } : {}),
      };
      seen.set(segment, entry);
      result.segments.push(entry);
    }
  }
  return result;
}
