import type { WorkflowDefinition } from './workflow-definition';

/**
 * A cost budget needs the model's price: a model missing from the price table costs 0, so the
 * budget would silently stop working. Returns what is wrong with the version, or null.
 */
export function unpricedCostBudget(def: Pick<WorkflowDefinition, 'name' | 'version' | 'model' | 'budget'>, prices: Record<string, unknown>): string | null {
  if (def.budget.dailyCostUsd === undefined || Object.prototype.hasOwnProperty.call(prices, def.model.name)) return null;
  return (
    `${def.name} v${def.version} has a daily cost budget (${def.budget.dailyCostUsd} USD) but model "${def.model.name}" has no price: ` +
    `add it to MODEL_PRICES_JSON (e.g. {"${def.model.name}": {"inputPerMillion": 0.15, "outputPerMillion": 0.6}}) or remove budget.dailyCostUsd`
  );
}
