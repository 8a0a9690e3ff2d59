import { Client } from 'pg';
import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import { toWorkItemEvent, WorkloadGenerator } from '../../src/simulator/workload';
import { writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from '../harness/postgres';
import { createTopics, kafkaClient, stackInfo, startService, TestService, uniqueSuffix, waitFor } from '../harness/test-env';

/**
 * Issue 14, cardinality: every new attribute value made a segment, an Unleash strategy and metric
 * series. 100,000 distinct values arrive (on two instances); the workflow keeps within its bound,
 * the rest pooled in the overflow segment, and every item is stored.
 */
jest.setTimeout(900_000);

const ITEMS = 100_000;
const BOUND = 20;
const OVERFLOW = '(other)';

describe('the segment bound', () => {
  const suffix = uniqueSuffix();
  // A one-token budget: the model is never called, so the test spends its time on what it checks.
  const wf = writeTestWorkflows({ suffix, triage: { budget: { dailyTokens: 1 }, rollout: { maxSegments: BOUND } } });
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
    const topics = await createTopics(suffix, 4);
    const env = { CONTROLLER_INTERVAL_MS: '500' };
    for (let k = 0; k < 2; k++) services.push(await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url, env }));

    const gen = new WorkloadGenerator({ seed: 31, triageWorkflow: wf.triage, triageShare: 1, idPrefix: `${suffix}-` });
    const producer = kafkaClient(`bound-${suffix}`).producer();
    await producer.connect();
    for (let sent = 0; sent < ITEMS; sent += 2000) {
      const batch = gen.batch(2000).map((item, k) => ({ ...item, attributes: { ...item.attributes, region: `r-${sent + k}` } }));
      await producer.send({ topic: topics.workItems, messages: batch.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    }
    await producer.disconnect();

    await waitFor('every item stored', async () => Number((await q<{ n: string }>(`SELECT count(*) n FROM work_items`))[0].n) === ITEMS, 600_000, 1000);

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
      (await (await fetch(`${url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('understudy_segment_stage{') && l.includes(`workflow="${wf.triage}"`)).length;
    await waitFor('the stage series of every segment', async () => Math.max(...(await Promise.all(services.map((s) => stageSeries(s.url))))) === BOUND + 1, 60_000, 1000);
    for (const s of services) expect(await stageSeries(s.url)).toBeLessThanOrEqual(BOUND + 1);
    const overflowMetric = async (url: string) => {
      const line = (await (await fetch(`${url}/metrics`)).text()).split('\n').find((l) => l.startsWith('understudy_segment_overflow_total{') && l.includes(`workflow="${wf.triage}"`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    let pooled = 0;
    for (const s of services) pooled += await overflowMetric(s.url);
    expect(pooled).toBe(ITEMS - BOUND);
  });
});
