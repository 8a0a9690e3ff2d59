import { readFileSync } from 'node:fs';
import { Producer } from 'kafkajs';
import { buildModelRequest, estimateMaxTokens } from '../../../src/inference/domain/model-request';
import { costOf } from '../../../src/inference/domain/retry-policy';
import { parseWorkflowFile } from '../../../src/workflows/domain/workflow-file';
import { GeneratedItem, toWorkItemEvent, WorkloadGenerator } from '../../../tools/simulator/workload';
import { writeTestWorkflows } from '../../factories/workflows';
import { createTopics, kafkaClient, setScenario, stackInfo, startService, TestService, TestTopics, uniqueSuffix, waitFor } from '../../harness/test-env';
import { checkInvariants, FaultDb, health, HealthWatcher, openDb, sleep, TopicWatcher } from './fault-kit';
import { writeStages } from '../../harness/service-fixture';

/**
 * The model failing: a 429 storm with Retry-After, 500s, calls hanging past
 * MODEL_TIMEOUT_MS, malformed output, and a daily budget running out. Retries back off and
 * honour Retry-After, the circuit opens under the storm (and says so on /health and /metrics),
 * items the AI could not decide stay with people, nothing goes `auto` without a valid decision,
 * invalid output is a recorded failure, and spending stops at the budget.
 */
jest.setTimeout(240_000);

const SEGMENT = 'email|eu';
const BACKOFF_BASE_MS = 300;
const CIRCUIT_RESET_MS = 3000;
const RETRY_AFTER_S = 2;
const BUDGET_USD = 0.5;
const HEALTHY = { seed: 5, accuracy: 0.9, confidence: { correctMean: 0.9, wrongMean: 0.5, spread: 0.08 }, latencyMs: 20 };

interface SimRequest {
  receivedAt: string;
  outcome: string;
  body: { messages: Array<{ role: string; content: string }> };
}

describe('model faults', () => {
  const suffix = uniqueSuffix();
  const budgetModel = `sim-${suffix}-budget`;
  const PRICES = { [budgetModel]: { inputPerMillion: 100, outputPerMillion: 100 } };
  const wf = writeTestWorkflows({
    suffix,
    invoice: { model: { name: budgetModel }, budget: { dailyCostUsd: BUDGET_USD } },
  });
  let db: FaultDb;
  let service: TestService | null = null;
  let topics: TestTopics;
  let producer: Producer;
  let routing: TopicWatcher;
  let watcher: HealthWatcher;
  const sent: GeneratedItem[] = [];
  const triage = new WorkloadGenerator({ seed: 31, triageWorkflow: wf.triage, triageShare: 1, triageSegments: [['email', 'eu']], idPrefix: `${suffix}-` });
  const invoices = new WorkloadGenerator({ seed: 32, invoiceWorkflow: wf.invoice, triageShare: 0, idPrefix: `${suffix}-inv-` });

  const send = async (generated: GeneratedItem[]) => {
    // The item's id travels in its input, so the simulator's request log can be read per item.
    const items = generated.map((i) => ({ ...i, input: { ...i.input, ref: i.itemId } }));
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    sent.push(...items);
    return items.map((i) => i.itemId);
  };
  const jobStates = async (ids: string[]) =>
    Object.fromEntries(
      (await db.rows<{ state: string; n: number }>(`SELECT state, count(*)::int n FROM ai_jobs WHERE item_id = ANY($1) GROUP BY state`, [ids])).map((r) => [
        r.state,
        r.n,
      ]),
    ) as Record<string, number>;
  const allFinal = async (ids: string[]) =>
    (await db.count(`SELECT count(*) n FROM ai_jobs WHERE item_id = ANY($1) AND state IN ('completed', 'failed', 'skipped')`, [ids])) === ids.length;
  const metric = async (name: string): Promise<number | null> => {
    const r = await fetch(`${service!.url}/metrics`);
    if (r.status !== 200) return null;
    const line = (await r.text()).split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : null;
  };
  /** The simulator's requests per item, oldest first. */
  const requestsByItem = async (model: string): Promise<Map<string, SimRequest[]>> => {
    const base = stackInfo().simulator.url.replace(/\/v1$/, '');
    const { requests } = (await (await fetch(`${base}/_simulator/requests?model=${encodeURIComponent(model)}&limit=20000`)).json()) as {
      requests: SimRequest[];
    };
    const out = new Map<string, SimRequest[]>();
    for (const r of requests) {
      const key = /"ref":\s*"([^"]+)"/.exec(r.body.messages.find((m) => m.role === 'user')?.content ?? '')?.[1] ?? '?';
      out.set(key, [...(out.get(key) ?? []), r]);
    }
    return out;
  };
  const gaps = (list: SimRequest[]) =>
    list.slice(1).map((r, i) => ({ afterOutcome: list[i].outcome, attempt: i + 1, ms: Date.parse(r.receivedAt) - Date.parse(list[i].receivedAt) }));

  beforeAll(async () => {
    db = await openDb();
    topics = await createTopics(suffix, 4);
    await setScenario(wf.model, HEALTHY);
    await setScenario(budgetModel, HEALTHY);
    // The segment is confidence-routed with a fixed threshold, so that valid, confident decisions do go `auto`.
    await writeStages(wf.triage, { [SEGMENT]: 'confidence-routed' });
    await db.pg.query(`INSERT INTO segments (workflow, segment, stage, threshold, threshold_source) VALUES ($1, $2, 'confidence-routed', 0.6, 'fixed')`, [
      wf.triage,
      SEGMENT,
    ]);

    service = await startService({
      suffix,
      topics,
      workflowsFile: wf.file,
      databaseUrl: db.url,
      env: {
        CONTROLLER_ENABLED: 'false',
        MODEL_TIMEOUT_MS: '1000',
        MODEL_MAX_ATTEMPTS: '4',
        MODEL_BACKOFF_BASE_MS: String(BACKOFF_BASE_MS),
        MODEL_BACKOFF_MAX_MS: '2000',
        MODEL_CIRCUIT_ERROR_PERCENT: '50',
        MODEL_CIRCUIT_MIN_CALLS: '10',
        MODEL_CIRCUIT_RESET_MS: String(CIRCUIT_RESET_MS),
        MODEL_CONCURRENCY: '16',
        // A price that makes each call of the budget model cost a few cents.
        MODEL_PRICES_JSON: JSON.stringify(PRICES),
      },
    });
    const kafka = kafkaClient(`model-faults-${suffix}`);
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    routing = await new TopicWatcher(kafka, topics.routing, `routing-reader-${suffix}`).start();
    watcher = new HealthWatcher(() => service?.url ?? null).start();
  });

  afterAll(async () => {
    watcher?.stop();
    await routing?.stop();
    await producer?.disconnect();
    await service?.stop();
    await db?.close();
  });

  it('keeps spending inside the daily budget: what does not fit is skipped, with the reason', async () => {
    const ids = await send(invoices.batch(40));
    await waitFor('every invoice job final', () => allFinal(ids), 60_000, 250);
    const states = await jobStates(ids);
    expect(states.completed).toBeGreaterThan(0);
    expect(states.skipped).toBeGreaterThan(0);
    expect(states.completed + states.skipped).toBe(40);
    // Skipped only when what was already spent left no room for the call's worst case: not while
    // room was merely reserved by calls in flight (those jobs wait and run).
    const definition = parseWorkflowFile(readFileSync(wf.file, 'utf8'), wf.file).find((v) => v.definition.name === wf.invoice)!.definition;
    const skipped = await db.rows<{ item_id: string; skip_reason: string }>(
      `SELECT item_id, skip_reason FROM ai_jobs WHERE item_id = ANY($1) AND state = 'skipped'`,
      [ids],
    );
    for (const r of skipped) {
      const m = new RegExp(`^budget exhausted: ([0-9.]+) of ${BUDGET_USD} USD daily cost used \\(${wf.invoice}, `).exec(r.skip_reason);
      expect({ item: r.item_id, reason: r.skip_reason, matches: m !== null }).toEqual({ item: r.item_id, reason: r.skip_reason, matches: true });
      const item = sent.find((i) => i.itemId === r.item_id)!;
      const est = estimateMaxTokens(buildModelRequest(definition, item).request);
      const worstCase = costOf(budgetModel, { promptTokens: est.prompt, completionTokens: est.completion }, PRICES).costUsd;
      expect(Number(m![1]) + worstCase).toBeGreaterThan(BUDGET_USD - 0.0001);
    }
    const [usage] = await db.rows<{ cost: string; tokens: string }>(`SELECT cost_usd::text AS cost, tokens::text FROM budget_usage WHERE workflow = $1`, [
      wf.invoice,
    ]);
    expect(Number(usage.cost)).toBeGreaterThan(0);
    expect(Number(usage.cost)).toBeLessThanOrEqual(BUDGET_USD);
    // What the budget counts is what the decisions cost, call by call.
    const [spent] = await db.rows<{ cost: string; tokens: string }>(
      `SELECT sum(cost_usd)::text AS cost, sum(prompt_tokens + completion_tokens)::text AS tokens FROM ai_decisions WHERE workflow = $1`,
      [wf.invoice],
    );
    expect(Number(spent.cost)).toBeCloseTo(Number(usage.cost), 6);
    expect(Number(spent.tokens)).toBe(Number(usage.tokens));
    console.log(`model-faults budget: ${JSON.stringify({ limitUsd: BUDGET_USD, spentUsd: Number(usage.cost), tokens: Number(usage.tokens), ...states })}`);
    // Skipped items are people's: no decision, no routing.
    expect(
      await db.count(`SELECT count(*) n FROM ai_decisions d JOIN ai_jobs j USING (workflow, item_id) WHERE j.state = 'skipped' AND j.item_id = ANY($1)`, [ids]),
    ).toBe(0);
  });

  it('under a 429 storm retries after Retry-After, opens the circuit, sends items to people, and recovers', async () => {
    await setScenario(wf.model, { ...HEALTHY, errors: { rate429: 1, retryAfterSeconds: RETRY_AFTER_S } });
    const ids = await send(triage.batch(60));
    const open = await waitFor(
      'the circuit to open',
      async () => {
        const h = await health(service!.url);
        return h.body.checks?.model.status === 'degraded' ? h : null;
      },
      30_000,
      100,
    );
    expect(open.status).toBe(200);
    expect(open.body.checks!.model.detail).toMatch(/^circuit (open|half-open)/);
    expect(await metric('understudy_model_circuit_open')).toBe(1);
    // Jobs wait in 'retrying' with their attempts and the last error; nothing was decided or routed for them.
    const retrying = await waitFor(
      'jobs retrying',
      async () => {
        const s = await jobStates(ids);
        return (s.retrying ?? 0) > 0 ? s : null;
      },
      30_000,
      100,
    );
    expect(retrying.completed ?? 0).toBe(0);
    const errors = await db.rows<{ last_error: string }>(`SELECT DISTINCT last_error FROM ai_jobs WHERE item_id = ANY($1) AND state = 'retrying'`, [ids]);
    for (const e of errors) expect(e.last_error).toMatch(/^(model rate limit \(429\)|model circuit open: call not attempted)/);
    expect(await db.count(`SELECT count(*) n FROM ai_jobs WHERE item_id = ANY($1) AND attempts >= 1`, [ids])).toBeGreaterThan(0);
    expect(await db.count(`SELECT count(*) n FROM ai_decisions WHERE item_id = ANY($1)`, [ids])).toBe(0);
    expect(await db.count(`SELECT count(*) n FROM routing_decisions WHERE item_id = ANY($1)`, [ids])).toBe(0);
    await sleep(2 * CIRCUIT_RESET_MS); // the storm goes on through at least one half-open probe

    await setScenario(wf.model, HEALTHY);
    await waitFor('every storm item decided', async () => (await jobStates(ids)).completed === ids.length, 60_000, 250);
    await waitFor('the circuit closed', async () => (await health(service!.url)).body.checks?.model.status === 'up', 30_000, 250);
    expect(await metric('understudy_model_circuit_open')).toBe(0);

    // Retry-After was honoured: after a 429, the same item was never asked again sooner.
    const storm = [...(await requestsByItem(wf.model)).values()].filter((l) => l.some((r) => r.outcome === '429'));
    expect(storm.length).toBeGreaterThan(0);
    const after429 = storm.flatMap(gaps).filter((g) => g.afterOutcome === '429');
    expect(after429.length).toBeGreaterThan(0);
    expect(after429.filter((g) => g.ms < RETRY_AFTER_S * 1000)).toEqual([]);
    // The circuit held calls back: far fewer 429s than jobs × attempts would have cost.
    const calls429 = storm.flatMap((l) => l).filter((r) => r.outcome === '429').length;
    expect(calls429).toBeLessThan(ids.length * 4);
  });

  it('retries 500s and hung calls with growing backoff; gives up after MODEL_MAX_ATTEMPTS and leaves the item to people', async () => {
    await setScenario(wf.model, { ...HEALTHY, errors: { rate500: 0.3, rateHang: 0.12, hangMs: 4000 } });
    const ids = await send(triage.batch(150));
    let sawRetrying = 0;
    await waitFor(
      'every job final',
      async () => {
        sawRetrying = Math.max(sawRetrying, (await jobStates(ids)).retrying ?? 0);
        return allFinal(ids);
      },
      120_000,
      100,
    );
    expect(sawRetrying).toBeGreaterThan(0);
    await setScenario(wf.model, HEALTHY);

    const states = await jobStates(ids);
    expect(states.completed).toBeGreaterThan(100);
    // Retried and then decided: the attempts are on the job and on the decision, the last failure is kept.
    const retried = await db.rows<{ last_error: string; attempts: number; decided_on: number }>(
      `SELECT j.last_error, j.attempts, d.attempts AS decided_on FROM ai_jobs j JOIN ai_decisions d USING (workflow, item_id, workflow_version)
       WHERE j.item_id = ANY($1) AND j.state = 'completed' AND d.attempts > 1`,
      [ids],
    );
    expect(retried.some((r) => /^model server error \(500\)/.test(r.last_error))).toBe(true);
    expect(retried.some((r) => /^model call timed out/.test(r.last_error))).toBe(true);
    // Given up: failed with the reason and the number of attempts, no decision, nothing routed.
    const failed = await db.rows<{ item_id: string; last_error: string; attempts: number }>(
      `SELECT item_id, last_error, attempts FROM ai_jobs WHERE item_id = ANY($1) AND state = 'failed'`,
      [ids],
    );
    for (const f of failed) expect(f.last_error).toMatch(/\(after 4 attempts\)$/);
    const failedIds = failed.map((f) => f.item_id);
    expect(await db.count(`SELECT count(*) n FROM ai_decisions WHERE item_id = ANY($1)`, [failedIds])).toBe(0);
    expect(await db.count(`SELECT count(*) n FROM routing_decisions WHERE item_id = ANY($1)`, [failedIds])).toBe(0);

    // Backoff: the k-th retry of an item waits at least half of base·2^(k-1) (equal jitter), longer after a hang.
    const faulty = [...(await requestsByItem(wf.model)).values()].filter((l) => l.some((r) => r.outcome === '500' || r.outcome === 'hang'));
    const retryGaps = faulty.flatMap(gaps).filter((g) => g.afterOutcome === '500' || g.afterOutcome === 'hang');
    expect(retryGaps.some((g) => g.attempt >= 2)).toBe(true);
    const tooSoon = retryGaps.filter((g) => g.ms < (BACKOFF_BASE_MS * 2 ** (g.attempt - 1)) / 2 + (g.afterOutcome === 'hang' ? 1000 : 0));
    expect(tooSoon).toEqual([]);
    // No item was asked more than MODEL_MAX_ATTEMPTS times (refunded circuit-open attempts never reach the model).
    expect(faulty.filter((l) => l.length > 4)).toEqual([]);
  });

  it('records malformed output as a failed job with an invalid decision that is never routed', async () => {
    await setScenario(wf.model, { ...HEALTHY, malformedRate: 1, malformed: { invalidJsonShare: 0.5 } });
    const ids = await send(triage.batch(40));
    await waitFor('every job final', () => allFinal(ids), 60_000, 250);
    await setScenario(wf.model, HEALTHY);
    expect(await jobStates(ids)).toEqual({ failed: 40 });
    // Not retried: the model answered, the answer is wrong.
    expect(await db.count(`SELECT count(*) n FROM ai_jobs WHERE item_id = ANY($1) AND attempts = 1`, [ids])).toBe(40);
    const decisions = await db.rows<{ valid: boolean; decision: unknown; error: string; raw_output: string | null }>(
      `SELECT valid, decision, error, raw_output FROM ai_decisions WHERE item_id = ANY($1)`,
      [ids],
    );
    expect(decisions).toHaveLength(40);
    for (const d of decisions) {
      expect(d.valid).toBe(false);
      expect(d.decision).toBeNull();
      expect(d.error).toBeTruthy();
      expect(d.raw_output).not.toBeNull();
    }
    const routes = await db.rows<{ action: string; reason: string }>(`SELECT action, reason FROM routing_decisions WHERE item_id = ANY($1)`, [ids]);
    expect(routes).toHaveLength(40);
    for (const r of routes) expect(r).toEqual({ action: 'none', reason: 'no valid AI decision: humans handle the item' });
    expect(await db.count(`SELECT count(*) n FROM outbox WHERE payload->>'itemId' = ANY($1)`, [ids])).toBe(0);
  });

  it('through all of it: nothing auto without a valid decision, everything routed reached Kafka, /health always answered 200', async () => {
    const autos = await db.count(`SELECT count(*) n FROM routing_decisions WHERE action = 'auto'`);
    expect(autos).toBeGreaterThan(0); // the segment does route automatically when the AI is sound
    expect(
      await db.count(`SELECT count(*) n FROM routing_decisions r JOIN ai_decisions d ON d.id = r.ai_decision_id WHERE r.action <> 'none' AND NOT d.valid`),
    ).toBe(0);
    expect(await db.count(`SELECT count(*) n FROM routing_decisions r LEFT JOIN ai_decisions d ON d.id = r.ai_decision_id WHERE d.id IS NULL`)).toBe(0);
    await waitFor('the outbox drained', async () => (await db.count('SELECT count(*) n FROM outbox WHERE sent_at IS NULL')) === 0, 30_000, 250);
    const outcome = await checkInvariants(db, { items: sent, routing });
    watcher.stop();
    expect(watcher.samples.length).toBeGreaterThan(20);
    expect(watcher.samples.filter((s) => s.status !== 200)).toEqual([]);
    console.log(`model-faults: ${JSON.stringify({ ...outcome, autos, healthSamples: watcher.samples.length })}`);
  });
});
