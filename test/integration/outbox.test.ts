import { Client } from 'pg';
import { Consumer } from 'kafkajs';
import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import { toWorkItemEvent, WorkloadGenerator } from '../../src/simulator/workload';
import { writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from '../harness/postgres';
import { createTopics, kafkaClient, setScenario, stackInfo, startService, TestService, uniqueSuffix, waitFor } from '../harness/test-env';

/**
 * The transactional outbox: routing rows are written with the decision; an instance that dies
 * after the database write and before publishing loses nothing — the next one publishes it all.
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

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await setScenario(wf.model, { seed: 1, accuracy: 0.9, latencyMs: 0 });
    const admin = new UnleashAdminGateway({ url: stackInfo().unleash.url, adminToken: stackInfo().unleash.adminToken });
    await admin.ensureSetup();
    await admin.ensureWorkflowFlag(wf.triage);
    await admin.writeSegmentSplit(wf.triage, 'email|eu', { stage: 'supervised', trafficPct: 100 });
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await crashed?.kill();
    await next?.stop();
    await pg?.end();
    await db?.drop();
  });

  it('publishes, after a crash, every routing event written before it', async () => {
    const topics = await createTopics(suffix, 4);
    const env = { CONTROLLER_ENABLED: 'false', UNLEASH_REFRESH_MS: '500' };
    // This instance writes decisions and their outbox rows but dies before it publishes any.
    crashed = await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url, env: { ...env, RUN_RELAY: 'false' } });
    await new Promise((r) => setTimeout(r, 1500)); // the flag reader's first refresh
    const kafka = kafkaClient(`outbox-${suffix}`);
    const producer = kafka.producer();
    await producer.connect();
    const gen = new WorkloadGenerator({ seed: 8, triageWorkflow: wf.triage, triageShare: 1, triageSegments: [['email', 'eu']], idPrefix: `${suffix}-` });
    const items = gen.batch(400);
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    await producer.disconnect();

    const count = async (sql: string) => Number((await pg.query(sql)).rows[0].n);
    await waitFor('every decision routed', async () => (await count(`SELECT count(*) n FROM routing_decisions`)) === 400, 60_000);
    expect(await count(`SELECT count(*) n FROM routing_decisions WHERE action = 'suggest'`)).toBe(400);
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
});
