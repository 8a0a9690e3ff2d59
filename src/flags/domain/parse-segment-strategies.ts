import { SegmentSplit, variantsToSplit } from './segment-split';
import { ITEM_ID_CONTEXT_FIELD, SEGMENT_CONTEXT_FIELD, UnleashConstraint, UnleashStrategy } from './unleash-strategy';

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
export function parseSegmentStrategies(strategies: ReadonlyArray<UnleashStrategy> | null | undefined, flagName?: string): ParsedFlagStrategies {
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
        earlier.irregular = [earlier.irregular, `another strategy for this segment (${s.id}) comes later and is ignored by clients`].filter(Boolean).join('; ');
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
