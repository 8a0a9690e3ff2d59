import type { UnleashStrategy, UnleashStrategyPayload } from '../../src/flags/domain/unleash-strategy';

/** What Unleash 6.10 stores for a strategy write: fixVariantWeights, then sort by name. */
export function asStoredByUnleash(payload: UnleashStrategyPayload, id: string, sortOrder = 0): UnleashStrategy {
  const variable = payload.variants.filter((v) => v.weightType === 'variable');
  const fixed = payload.variants.filter((v) => v.weightType === 'fix');
  const rest = 1000 - fixed.reduce((a, v) => a + v.weight, 0);
  const share = Math.floor(rest / variable.length);
  let remainder = rest % variable.length;
  const adjusted = variable.map((v) => ({ ...v, weight: share + (remainder-- > 0 ? 1 : 0) }));
  const variants = [...adjusted, ...fixed].sort((a, b) => a.name.localeCompare(b.name));
  return { ...payload, id, sortOrder: payload.sortOrder ?? sortOrder, variants };
}
