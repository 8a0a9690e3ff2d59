import { Client } from 'pg';
import { Consumer } from 'kafkajs';
import { toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
import { writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from '../harness/postgres';
import { createTopics, kafkaClient, setScenario, startService, TestService, uniqueSuffix, waitFor, waitForFlags } from '../harness/test-env';
import { writeStages } from '../harness/service-fixture';

/**
 * The transactional outbox: routing rows are written with the decision; an instance that dies
 * after the database write and before publishing loses nothing — the next one publishes it all.
 * A live instance publishes the rows it commits straight away (handed to its relay in memory),
 * once each; rows handed to a relay that never published them are taken by the poll after a grace.
 */
jest.setTimeout(300_000);

describe('outbox', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  let crashed: TestService | null = null;
  let next: TestService | null = null;
  let consumer: Consumer;
  const published = new Map<string, number>();
  let topics: Awaited<ReturnType<typeof createTopics>>;
  const count = async (sql: string, params: unknown[] = []) => Number((await pg.query(sql, params)).rows[0].n);

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await setScenario(wf.model, { seed: 1, accuracy: 0.9, latencyMs: 0 });
    await writeStages(wf.triage, { 'email|eu': 'supervised' });
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await crashed?.kill();
    await next?.stop();
    await pg?.end();
    await db?.drop();
  });

  it('publishes, after a crash, every routing event written before it', async () => {
    topics = await createTopics(suffix, 4);
    const env = { CONTROLLER_ENABLED: 'false', UNLEASH_REFRESH_MS: '500' };
    // This instance writes decisions and their outbox rows but dies before it publishes any.
    crashed = await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url, env: { ...env, RUN_RELAY: 'false' } });
    await waitForFlags(crashed);
    const kafka = kafkaClient(`outbox-${suffix}`);
    const producer = kafka.producer();
    await producer.connect();
    const gen = new WorkloadGenerator({ seed: 8, triageWorkflow: wf.triage, triageShare: 1, triageSegments: [['email', 'eu']], idPrefix: `${suffix}-` });
    const items = gen.batch(400);
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    await producer.disconnect();

    await waitFor('every decision routed', async () => (await count(`SELECT count(*) n FROM routing_decisions`)) === 400, 60_000);
    // Supervised: a suggestion, or (its blind share) an audit; either leaves through the outbox.
    expect(await count(`SELECT count(*) n FROM routing_decisions WHERE action IN ('suggest', 'audit')`)).toBe(400);
    expect(await count(`SELECT count(*) n FROM outbox WHERE sent_at IS NULL`)).toBe(400);
    await crashed.kill(); // SIGKILL: nothing flushed, nothing published

    consumer = kafka.consumer({ groupId: `outbox-reader-${suffix}` });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.routing, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const e = JSON.parse(message.value!.toString()) as { eventId: string };
        published.set(e.eventId, (published.get(e.eventId) ?? 0) + 1);
      },
    });
    await new Promise((r) => setTimeout(r, 3000));
    expect(published.size).toBe(0);

    next = await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url, env });
    await waitFor('the outbox drained', async () => (await count(`SELECT count(*) n FROM outbox WHERE sent_at IS NULL`)) === 0, 60_000);
    await waitFor('every routing event on Kafka', async () => published.size === 400, 30_000);
    const ids = (await pg.query(`SELECT 'routing-' || ai_decision_id AS id FROM routing_decisions`)).rows.map((r) => r.id as string);
    expect(ids.filter((id) => !published.has(id))).toEqual([]);
  });

  it('publishes what a live instance commits once, straight from its relay', async () => {
    const producer = kafkaClient(`outbox-live-${suffix}`).producer();
    await producer.connect();
    const gen = new WorkloadGenerator({ seed: 9, triageWorkflow: wf.triage, triageShare: 1, triageSegments: [['email', 'eu']], idPrefix: `${suffix}-live-` });
    const items = gen.batch(200);
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    await producer.disconnect();
    const itemIds = items.map((i) => i.itemId);
    await waitFor(
      'the live items routed and sent',
      async () => (await count(`SELECT count(*) n FROM outbox WHERE payload->>'itemId' = ANY($1) AND sent_at IS NOT NULL`, [itemIds])) === 200,
      60_000,
    );
    // Handed to this instance's relay (not left to the poll), and sent in one attempt.
    expect(await count(`SELECT count(*) n FROM outbox WHERE payload->>'itemId' = ANY($1) AND relay_instance IS NOT NULL AND attempts = 1`, [itemIds])).toBe(
      200,
    );
    const ids = (await pg.query(`SELECT payload->>'eventId' AS id FROM outbox WHERE payload->>'itemId' = ANY($1)`, [itemIds])).rows.map((r) => r.id as string);
    await waitFor('the live events on Kafka', async () => ids.every((id) => published.has(id)), 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(ids.filter((id) => published.get(id) !== 1)).toEqual([]);
  });

  it('publishes rows handed to a relay that never sent them, once their grace has passed', async () => {
    const row = (eventId: string) => [topics.routing, eventId, JSON.stringify({ eventId, itemId: eventId, action: 'suggest' })];
    // Handed to an instance that died before publishing: one long ago, one just now.
    await pg.query(
      `INSERT INTO outbox (topic, message_key, payload, relay_instance, created_at) VALUES
         ($1, $2, $3, 'understudy-gone', now() - interval '1 minute'), ($4, $5, $6, 'understudy-gone', now())`,
      [...row(`orphan-old-${suffix}`), ...row(`orphan-new-${suffix}`)],
    );
    await waitFor('the old orphan published', async () => published.has(`orphan-old-${suffix}`), 10_000);
    // The new one is still inside its grace (5 s): its instance might yet publish it.
    expect(published.has(`orphan-new-${suffix}`)).toBe(false);
    expect(await count(`SELECT count(*) n FROM outbox WHERE payload->>'eventId' = $1 AND sent_at IS NULL`, [`orphan-new-${suffix}`])).toBe(1);
    await waitFor('the new orphan published after its grace', async () => published.has(`orphan-new-${suffix}`), 15_000);
    expect(published.get(`orphan-old-${suffix}`)).toBe(1);
    expect(published.get(`orphan-new-${suffix}`)).toBe(1);
  });
});
