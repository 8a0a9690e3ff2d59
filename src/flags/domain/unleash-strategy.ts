import { SegmentSplit, StageVariant, TOTAL_WEIGHT, splitToVariants } from './segment-split';

/**
 * The flag contract between Understudy and Unleash (see DESIGN.md, "Flags (Unleash)") as Unleash's
 * Admin API carries it: one flag per workflow, one flexibleRollout strategy per segment constrained
 * on the context field `segment`, whose variants are stages and whose weights are the traffic split
 * (segment-split.ts), sticky on `itemId`. Pure functions that build what is written; what is read
 * back is parse-segment-strategies.ts.
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
 *    variants any fixed order keeps the boundary argument of segment-split.ts. We still send higher-stage-first
 *    so that a server that keeps the order gives the same guarantee.
 */

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
