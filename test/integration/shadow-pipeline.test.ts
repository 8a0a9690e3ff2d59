import { Client } from 'pg';
import { Consumer, Producer } from 'kafkajs';
import { wilsonInterval } from '../../src/stats/domain';
import { GeneratedItem, HumanDecisionEvent, toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
import { shippedWorkflows, writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from '../harness/postgres';
import { createTopics, kafkaClient, setScenario, simulatorRequests, startService, TestService, uniqueSuffix, waitFor } from '../harness/test-env';

/**
 * The shadow pipeline end to end: a realistic stream through the Kafka mock cluster — thousands of items
 * over several segments, human decisions before and after their items, duplicates, malformed
 * messages — into work items, AI decisions of two versions, comparisons and rollups.
 */
jest.setTimeout(300_000);

const SEGMENT_ACCURACY: Record<string, number> = { 'email|eu': 0.95, 'chat|us': 0.75, 'phone|apac': 0.85, 'invoice|eu': 0.9, 'claim|us': 0.7 };
const ITEMS = 2400;

describe('shadow pipeline', () => {
  const suffix = uniqueSuffix();
  let wf: ReturnType<typeof writeTestWorkflows>;
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  let producer: Producer;
  let dlqConsumer: Consumer;
  const dlq: Array<{ reason: string; sourceOffset: string; value: string }> = [];
  let service: TestService | null = null;
  let items: GeneratedItem[];
  let decisions: HumanDecisionEvent[];
  let topics: Awaited<ReturnType<typeof createTopics>>;
  const malformed: Array<{ topic: 'items' | 'decisions'; value: Buffer; why: RegExp }> = [];

  beforeAll(async () => {
    const [triage] = shippedWorkflows();
    // A challenger version of triage runs in shadow beside the champion on the same items.
    const challengerSuffix = suffix;
    wf = writeTestWorkflows({
      suffix,
      extra: [
        {
          ...triage,
          name: `triage-${challengerSuffix}`,
          version: 2,
          role: 'challenger',
          prompt: { ...(triage.prompt as object), version: 'triage-challenger' },
          model: { ...(triage.model as object), name: `sim-${suffix}-challenger` },
        },
      ],
    });
    topics = await createTopics(suffix, 6);
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const segments = Object.fromEntries(Object.entries(SEGMENT_ACCURACY).map(([s, accuracy]) => [s, { accuracy }]));
    await setScenario(wf.model, { seed: 7, accuracy: 0.9, segments, latencyMs: 0, logprobs: true });
    await setScenario(`sim-${suffix}-challenger`, { seed: 8, accuracy: 0.6, latencyMs: 0, logprobs: false });

    const gen = new WorkloadGenerator({
      seed: 11,
      triageWorkflow: wf.triage,
      invoiceWorkflow: wf.invoice,
      triageSegments: [
        ['email', 'eu'],
        ['chat', 'us'],
        ['phone', 'apac'],
      ],
      invoiceSegments: [
        ['invoice', 'eu'],
        ['claim', 'us'],
      ],
      idPrefix: `${suffix}-`,
    });
    items = gen.batch(ITEMS);
    decisions = items.map((i) => gen.humanDecision(i, { errorRate: 0 }));

    malformed.push(
      { topic: 'items', value: Buffer.from('{"eventId": "broken'), why: /^not JSON/ },
      { topic: 'items', value: Buffer.from([0xc3, 0x28, 0x7b]), why: /^not valid UTF-8/ },
      {
        topic: 'items',
        value: Buffer.from(JSON.stringify({ eventId: 'x1', workflow: wf.triage, itemId: 'x', input: {}, occurredAt: 'noon' })),
        why: /occurredAt/,
      },
      {
        topic: 'items',
        value: Buffer.from(JSON.stringify({ ...toWorkItemEvent(items[0]), eventId: 'x2', itemId: 'x2', workflow: 'no-such-workflow' })),
        why: /^unknown workflow "no-such-workflow"/,
      },
      {
        topic: 'items',
        value: Buffer.from(JSON.stringify({ ...toWorkItemEvent(items[0]), eventId: 'x3', itemId: 'x3', attributes: { channel: 'email' } })),
        why: /attributes\.region is required/,
      },
      {
        topic: 'items',
        value: Buffer.from(JSON.stringify({ ...toWorkItemEvent(items[0]), eventId: 'x4', itemId: 'x4', input: { t: 'a\u0000b' } })),
        why: /NUL character/,
      },
      { topic: 'decisions', value: Buffer.from(JSON.stringify({ ...decisions[0], eventId: 'x5', kind: 'review' })), why: /verdict: is required/ },
      {
        topic: 'decisions',
        value: Buffer.from(JSON.stringify({ ...decisions[0], eventId: 'x6', decision: { reply: 'hi' } })),
        why: /^decision\.category is required/,
      },
      { topic: 'decisions', value: Buffer.from('[1,2,3]'), why: /not a valid work\.decisions event/ },
    );

    const kafka = kafkaClient(`shadow-${suffix}`);
    producer = kafka.producer();
    await producer.connect();
    dlqConsumer = kafka.consumer({ groupId: `dlq-reader-${suffix}` });
    await dlqConsumer.connect();
    await dlqConsumer.subscribe({ topic: topics.dlq, fromBeginning: true });
    await dlqConsumer.run({
      eachMessage: async ({ message }) => {
        dlq.push({
          reason: message.headers?.['x-understudy-reason']?.toString() ?? '',
          sourceOffset: message.headers?.['x-understudy-source-offset']?.toString() ?? '',
          value: message.value?.toString('utf8') ?? '',
        });
      },
    });
  });

  afterAll(async () => {
    await service?.stop();
    await dlqConsumer?.disconnect();
    await producer?.disconnect();
    await pg?.end();
    if (!process.env.KEEP_TEST_DB) await db?.drop();
    else console.log(`kept ${db?.url}`);
  });

  async function send(topic: string, events: Array<GeneratedItem | HumanDecisionEvent>) {
    for (let i = 0; i < events.length; i += 500) {
      const chunk = events.slice(i, i + 500).map((e) => ('truth' in e ? toWorkItemEvent(e) : e));
      await producer.send({ topic, messages: chunk.map((e) => ({ key: e.itemId, value: JSON.stringify(e) })) });
    }
  }

  const count = async (sql: string, params: unknown[] = []) => Number((await pg.query(sql, params)).rows[0].n);

  it('stores every item once, decides it with each version, compares every human decision, and dead-letters the malformed', async () => {
    // Half of the human decisions come BEFORE their items; duplicates of items and decisions are mixed in.
    const early = decisions.filter((_, i) => i % 2 === 0);
    const late = decisions.filter((_, i) => i % 2 === 1);
    const firstHalf = items.slice(0, ITEMS / 2);
    const secondHalf = items.slice(ITEMS / 2);
    await send(topics.workDecisions, early);
    await send(topics.workItems, firstHalf);
    await send(topics.workItems, firstHalf.slice(0, 200)); // redelivered duplicates
    for (const m of malformed) {
      await producer.send({ topic: m.topic === 'items' ? topics.workItems : topics.workDecisions, messages: [{ key: 'bad', value: m.value }] });
    }

    service = await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url });
    // Stop the service while it is in the middle of the stream, then start another instance.
    await waitFor('some items stored', async () => (await count('SELECT count(*) n FROM work_items')) >= 300, 60_000, 50);
    await service.stop();
    service = null;

    await send(topics.workItems, secondHalf);
    await send(topics.workDecisions, late);
    await send(topics.workDecisions, late.slice(0, 150)); // duplicated decisions
    service = await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url });

    await waitFor('every item stored', async () => (await count('SELECT count(*) n FROM work_items')) === ITEMS, 120_000);
    const triageItems = items.filter((i) => i.workflow === wf.triage).length;
    const expectedDecisions = ITEMS + triageItems; // the challenger decides triage items too
    await waitFor(
      'every job finished',
      async () => (await count(`SELECT count(*) n FROM ai_jobs WHERE state IN ('completed','failed')`)) === expectedDecisions,
      180_000,
    );
    // No malformed output is configured, so every answer is a valid decision, compared with the item's human decision.
    expect(await count('SELECT count(*) n FROM ai_decisions WHERE NOT valid')).toBe(0);
    const expectedComparisons = ITEMS + triageItems;
    await waitFor('every comparison recorded', async () => (await count('SELECT count(*) n FROM comparisons')) === expectedComparisons, 60_000);

    // Exactly one AI decision per item and active version, one comparison per human decision and version.
    expect(await count('SELECT count(*) n FROM ai_decisions')).toBe(expectedDecisions);
    expect(await count('SELECT count(*) n FROM (SELECT 1 FROM ai_decisions GROUP BY workflow, item_id, workflow_version HAVING count(*) > 1) d')).toBe(0);
    expect(await count('SELECT count(*) n FROM human_decisions')).toBe(ITEMS);
    expect(await count('SELECT count(*) n FROM comparisons WHERE workflow = $1 AND workflow_version = 2', [wf.triage])).toBe(triageItems);
    expect(await count('SELECT count(*) n FROM ai_jobs')).toBe(expectedDecisions);

    // Rollups agree with the raw comparisons they summarise.
    const rollup = (await pg.query('SELECT sum(n)::int AS n, sum(agree)::int AS agree FROM rollup_minute')).rows[0];
    const raw = (await pg.query('SELECT count(*)::int AS n, count(*) FILTER (WHERE agree)::int AS agree FROM comparisons')).rows[0];
    expect(rollup).toEqual(raw);

    // Measured agreement matches the simulator's configured accuracy, per segment, within its 99.9 % interval.
    const perSegment = (
      await pg.query(
        `SELECT segment, sum(n)::int AS n, sum(agree)::int AS agree FROM rollup_minute
         WHERE workflow_version = 1 GROUP BY segment ORDER BY segment`,
      )
    ).rows as Array<{ segment: string; n: number; agree: number }>;
    expect(perSegment.map((r) => r.segment).sort()).toEqual(Object.keys(SEGMENT_ACCURACY).sort());
    for (const r of perSegment) {
      const ci = wilsonInterval(r.agree, r.n, 0.999);
      expect({ segment: r.segment, within: ci.lower <= SEGMENT_ACCURACY[r.segment] && SEGMENT_ACCURACY[r.segment] <= ci.upper }).toEqual({
        segment: r.segment,
        within: true,
      });
    }
    // The challenger (accuracy 0.6, no logprobs → self-reported confidence) is measured on the same items.
    const challenger = (await pg.query(`SELECT sum(n)::int AS n, sum(agree)::int AS agree FROM rollup_minute WHERE workflow_version = 2`)).rows[0];
    const cci = wilsonInterval(challenger.agree, challenger.n, 0.999);
    expect(cci.lower <= 0.6 && 0.6 <= cci.upper).toBe(true);
    expect(await count(`SELECT count(*) n FROM ai_decisions WHERE workflow_version = 2 AND confidence_source <> 'self-reported'`)).toBe(0);
    expect(await count(`SELECT count(*) n FROM ai_decisions WHERE workflow_version = 1 AND valid AND confidence_source <> 'logprobs'`)).toBe(0);

    // Paired counts for McNemar exist for the two versions on the same human decisions.
    const pairs = (await pg.query('SELECT sum(both_agree + a_only + b_only + neither)::int AS n FROM rollup_pairs')).rows[0];
    expect(pairs.n).toBe(triageItems);

    // Every malformed message is in the DLQ with its reason.
    await waitFor('malformed messages in the DLQ', async () => dlq.length >= malformed.length, 30_000);
    expect(dlq).toHaveLength(malformed.length);
    for (const m of malformed) {
      const entry = dlq.find((d) => d.value === m.value.toString('utf8'));
      expect(entry).toBeDefined();
      expect(entry!.reason).toMatch(m.why);
      expect(entry!.sourceOffset).toMatch(/^\d+$/);
    }

    // Redacted fields never reached the model.
    const requests = await simulatorRequests(wf.model);
    expect(requests.length).toBeGreaterThanOrEqual(ITEMS);
    const sent = JSON.stringify(requests.map((r) => r.body));
    for (const i of items.slice(0, 300)) {
      const pii = i.workflow === wf.triage ? (i.input.customer as { email: string; phone: string }) : null;
      if (pii) {
        expect(sent).not.toContain(pii.email);
        expect(sent).not.toContain(pii.phone);
      }
    }
    expect(sent).not.toContain('DE89 3704 0044 0532 0130 00');
    expect(sent).toContain('[redacted]');
  });
});
