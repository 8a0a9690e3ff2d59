import { unpricedCostBudget } from './price-check';

const prices = { 'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 } };
const def = (model: string, budget: { dailyTokens?: number; dailyCostUsd?: number }) => ({
  name: 'triage',
  version: 3,
  model: { name: model, temperature: 0, maxTokens: 400, confidence: 'auto' as const },
  budget,
});

describe('unpricedCostBudget', () => {
  it('refuses a cost budget for a model without a price, naming the model and the fix', () => {
    expect(unpricedCostBudget(def('my-llama', { dailyCostUsd: 40 }), prices)).toMatch(
      /^triage v3 has a daily cost budget \(40 USD\) but model "my-llama" has no price: add it to MODEL_PRICES_JSON/,
    );
  });

  it('accepts a priced model, and any model without a cost budget', () => {
    expect(unpricedCostBudget(def('gpt-4o-mini', { dailyCostUsd: 40 }), prices)).toBeNull();
    expect(unpricedCostBudget(def('my-llama', { dailyTokens: 1000 }), prices)).toBeNull();
    expect(unpricedCostBudget(def('my-llama', {}), prices)).toBeNull();
  });

  it('does not take a name inherited from Object for a price', () => {
    expect(unpricedCostBudget(def('toString', { dailyCostUsd: 1 }), prices)).not.toBeNull();
  });
});
