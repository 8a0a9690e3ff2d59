import { Client } from 'pg';
import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import { writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from '../harness/postgres';
import { createTopics, kafkaClient, stackInfo, startService, TestService, uniqueSuffix, waitFor } from '../harness/test-env';

/**
 * Cardinality: every new attribute value once made a segment, an Unleash strategy and metric
 * series. 100,000 distinct values arrive (on two instances); the workflow keeps within its bound,
 * the rest pooled in the overflow segment, and every item is stored.
 */
jest.setTimeout(900_000);

const ITEMS = 100_000;
const BOUND = 20;
const OVERFLOW = '(other)';

describe('the segment bound', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix, triage: { rollout: { maxSegments: BOUND } } });
  const admin = new UnleashAdminGateway({ url: stackInfo().unleash.url, adminToken: stackInfo().unleash.adminToken });
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  const services: TestService[] = [];

  const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await pg.query(sql, params)).rows as T[];

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    for (const s of services) await s.stop();
    await pg?.end();
    await db?.drop();
  });

  it('keeps segments, strategies and metric series within the bound, and stores every item', async () => {
    // Many partitions, and no more than 20,000 items ahead of ingest: the mock cluster keeps at most
    // 5 MiB per partition log and trims older messages silently (tools/kafka-mock/launcher.c).
    const topics = await createTopics(suffix, 16);
    // Ingest and the controller are what this is about: no model calls (the jobs wait, as they would for a runner).
    const env = { CONTROLLER_INTERVAL_MS: '500', RUN_RUNNER: 'false' };
    for (let k = 0; k < 2; k++) services.push(await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url, env }));

    // Small items, each with a region of its own: 100,000 distinct segment keys.
    const producer = kafkaClient(`bound-${suffix}`).producer();
    await producer.connect();
    const occurredAt = new Date().toISOString();
    const started = Date.now();
    for (let sent = 0; sent < ITEMS; sent += 5000) {
      const messages = Array.from({ length: Math.min(5000, ITEMS - sent) }, (_, k) => {
        const n = sent + k;
        const itemId = `${suffix}-${n}`;
        const event = {
          eventId: `e-${itemId}`,
          workflow: wf.triage,
          itemId,
          attributes: { channel: ['email', 'chat', 'phone'][n % 3], region: `r-${n}` },
          input: { subject: `ticket ${n}`, body: 'hello' },
          occurredAt,
        };
        return { key: itemId, value: JSON.stringify(event) };
      });
      await producer.send({ topic: topics.workItems, messages });
      const sentSoFar = sent + messages.length;
      await waitFor(
        'ingest to keep up',
        async () => sentSoFar - Number((await q<{ n: string }>(`SELECT count(*) n FROM work_items`))[0].n) <= 20_000,
        300_000,
        250,
      );
    }
    await producer.disconnect();

    let stored = 0;
    let said = Date.now();
    await waitFor(
      'every item stored',
      async () => {
        stored = Number((await q<{ n: string }>(`SELECT count(*) n FROM work_items`))[0].n);
        if (Date.now() - said > 30_000) {
          said = Date.now();
          console.log(`segment bound: ${stored} of ${ITEMS} stored after ${((Date.now() - started) / 1000).toFixed(0)} s`);
        }
        return stored === ITEMS;
      },
      600_000,
      1000,
    );
    console.log(`segment bound: ${ITEMS} items with distinct values stored by two instances in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    // Segments: the first BOUND values admitted (one item each, every value being new), the rest pooled.
    const segments = await q<{ segment: string; items: string }>(
      `SELECT s.segment, (SELECT count(*) FROM work_items i WHERE i.workflow = s.workflow AND i.segment = s.segment) items FROM segments s WHERE s.workflow = $1`,
      [wf.triage],
    );
    expect(segments).toHaveLength(BOUND + 1);
    const overflow = segments.find((s) => s.segment === OVERFLOW)!;
    expect(Number(overflow.items)).toBe(ITEMS - BOUND);
    expect(segments.filter((s) => s.segment !== OVERFLOW).every((s) => Number(s.items) === 1 && /\|r-\d+$/.test(s.segment))).toBe(true);
    // Pooled items keep their own attribute values.
    const [distinct] = await q<{ n: string }>(`SELECT count(DISTINCT attributes->>'region') n FROM work_items WHERE segment = $1`, [OVERFLOW]);
    expect(Number(distinct.n)).toBe(ITEMS - BOUND);

    // Unleash: one strategy per segment, the overflow's in shadow.
    await waitFor('a strategy for every segment', async () => (await admin.readWorkflowFlag(wf.triage)).segments.length === BOUND + 1, 120_000, 1000);
    const flag = await admin.readWorkflowFlag(wf.triage);
    expect(flag.segments.find((s) => s.segment === OVERFLOW)?.split.stage).toBe('shadow');

    // Metric series: the leader's controller sets one stage series per segment, and no instance has more.
    const stageSeries = async (url: string) =>
      (await (await fetch(`${url}/metrics`)).text())
        .split('\n')
        .filter((l) => l.startsWith('understudy_segment_stage{') && l.includes(`workflow="${wf.triage}"`)).length;
    await waitFor(
      'the stage series of every segment',
      async () => Math.max(...(await Promise.all(services.map((s) => stageSeries(s.url))))) === BOUND + 1,
      60_000,
      1000,
    );
    for (const s of services) expect(await stageSeries(s.url)).toBeLessThanOrEqual(BOUND + 1);
    const overflowMetric = async (url: string) => {
      const line = (await (await fetch(`${url}/metrics`)).text())
        .split('\n')
        .find((l) => l.startsWith('understudy_segment_overflow_total{') && l.includes(`workflow="${wf.triage}"`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    let pooled = 0;
    for (const s of services) pooled += await overflowMetric(s.url);
    expect(pooled).toBe(ITEMS - BOUND);
  });
});
