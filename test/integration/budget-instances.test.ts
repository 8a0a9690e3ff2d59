import { Client } from 'pg';
import { toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
import { writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from '../harness/postgres';
import {
  api,
  createToken,
  createTopics,
  kafkaClient,
  setScenario,
  startService,
  startTogether,
  stopTogether,
  TestService,
  uniqueSuffix,
  waitFor,
} from '../harness/test-env';

/**
 * Budgets across instances: reservations were once per process, so two instances each spent the whole daily
 * budget. Now each instance's claim lives in PostgreSQL and together they stay within it. A cost
 * budget for a model without a price (it would cost 0 and never stop) refuses the start and the version.
 */
jest.setTimeout(600_000);

const BUDGET_USD = 1;
const ITEMS = 300;

describe('budgets across instances', () => {
  const suffix = uniqueSuffix();
  const budgetModel = `sim-${suffix}-budget`;
  // A price that makes each call cost a few cents: the budget is a few dozen calls.
  const PRICES = { [budgetModel]: { inputPerMillion: 100, outputPerMillion: 100 } };
  const wf = writeTestWorkflows({ suffix, invoice: { model: { name: budgetModel }, budget: { dailyCostUsd: BUDGET_USD } } });
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  const services: TestService[] = [];

  const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await pg.query(sql, params)).rows as T[];

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    // Slow enough answers that both instances have many calls out at once.
    await setScenario(budgetModel, { seed: 4, accuracy: 0.9, latencyMs: { distribution: 'uniform', min: 200, max: 600 } });
  });

  afterAll(async () => {
    await stopTogether(services);
    await pg?.end();
    await db?.drop();
  });

  it('keeps two instances together inside the daily budget', async () => {
    const topics = await createTopics(suffix, 4);
    const env = { CONTROLLER_ENABLED: 'false', MODEL_CONCURRENCY: '32', MODEL_PRICES_JSON: JSON.stringify(PRICES) };
    services.push(...(await startTogether(2, () => startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url, env }))));
    const gen = new WorkloadGenerator({ seed: 6, invoiceWorkflow: wf.invoice, triageShare: 0, idPrefix: `${suffix}-` });
    const items = gen.batch(ITEMS);
    const producer = kafkaClient(`budget-${suffix}`).producer();
    await producer.connect();
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    await producer.disconnect();

    await waitFor(
      'every job finished or skipped',
      async () => {
        const [r] = await q<{ n: string }>(`SELECT count(*) n FROM ai_jobs WHERE workflow = $1 AND state IN ('completed', 'failed', 'skipped')`, [wf.invoice]);
        return Number(r.n) === ITEMS;
      },
      300_000,
      500,
    );

    const [usage] = await q<{ cost: string }>(`SELECT cost_usd::text AS cost FROM budget_usage WHERE workflow = $1`, [wf.invoice]);
    const [spent] = await q<{ cost: string; calls: string }>(
      `SELECT coalesce(sum(cost_usd), 0)::text AS cost, count(*) calls FROM ai_decisions WHERE workflow = $1`,
      [wf.invoice],
    );
    // What the decisions cost is what the budget counted, and together it stays within the budget.
    expect(Number(usage.cost)).toBeCloseTo(Number(spent.cost), 6);
    expect(Number(usage.cost)).toBeLessThanOrEqual(BUDGET_USD);
    // The budget was used, not starved (a call's worst case is a few cents).
    expect(Number(usage.cost)).toBeGreaterThan(BUDGET_USD * 0.8);
    const skipped = await q<{ skip_reason: string }>(`SELECT skip_reason FROM ai_jobs WHERE workflow = $1 AND state = 'skipped'`, [wf.invoice]);
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped.every((s) => /^budget exhausted: /.test(s.skip_reason))).toBe(true);
    console.log(
      `budget across instances: ${JSON.stringify({ limitUsd: BUDGET_USD, spentUsd: Number(usage.cost), calls: Number(spent.calls), skipped: skipped.length })}`,
    );
  });

  it('refuses a cost budget for a model without a price: at start, and as a new version', async () => {
    const unpriced = writeTestWorkflows({ suffix: `${suffix}u`, invoice: { model: { name: `llama-${suffix}` } } });
    const topics = await createTopics(`${suffix}u`, 1);
    const other = await createTestDatabase();
    try {
      await expect(startService({ suffix: `${suffix}u`, topics, workflowsFile: unpriced.file, databaseUrl: other.url })).rejects.toThrow(
        new RegExp(`invoice-${suffix}u v1 has a daily cost budget \\(40 USD\\) but model "llama-${suffix}" has no price: add it to MODEL_PRICES_JSON`),
      );
    } finally {
      await other.drop();
    }
    const admin = createToken(db.url, 'admin');
    const [v] = await q<{ definition: Record<string, unknown> }>(`SELECT definition FROM workflow_versions WHERE workflow = $1 AND version = 1`, [wf.invoice]);
    const r = await api(services[0].url, 'POST', `/api/workflows/${wf.invoice}/versions`, {
      token: admin,
      body: {
        reason: 'an own model',
        role: 'challenger',
        definition: { ...v.definition, version: 2, model: { ...(v.definition.model as object), name: 'my-llama' } },
      },
    });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/v2 has a daily cost budget \(1 USD\) but model \\?"my-llama\\?" has no price/);
  });
});
