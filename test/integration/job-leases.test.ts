import { Client } from 'pg';
import { Producer } from 'kafkajs';
import { toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
import { writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from '../harness/postgres';
import { createTopics, kafkaClient, setScenario, simulatorRequests, startService, TestService, TestTopics, uniqueSuffix, waitFor } from '../harness/test-env';

/**
 * A model call is paid once. Jobs wait behind a slow rate limit far longer than their lease, yet
 * no other claim takes them over (the instance renews its leases); a job put back in the queue after
 * its answer was stored is completed without calling the model again; a job claimed too often
 * without an outcome is failed instead of run forever.
 */
jest.setTimeout(300_000);

const ITEMS = 8;

describe('job leases', () => {
  const suffix = uniqueSuffix();
  // Half a call a second: eight items take about 16 s, five times the 3 s lease.
  const wf = writeTestWorkflows({ suffix, triage: { rateLimitPerSecond: 0.5 } });
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  let service: TestService | null = null;
  let topics: TestTopics;
  let producer: Producer;
  const generator = new WorkloadGenerator({ seed: 71, triageWorkflow: wf.triage, triageShare: 1, triageSegments: [['email', 'eu']], idPrefix: `${suffix}-` });

  const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await pg.query(sql, params)).rows as T[];
  const jobs = async () =>
    q<{ item_id: string; state: string; attempts: number; last_error: string | null }>(
      `SELECT item_id, state, attempts, last_error FROM ai_jobs WHERE workflow = $1 ORDER BY item_id`,
      [wf.triage],
    );
  const calls = async () => (await simulatorRequests(wf.model)).length;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    topics = await createTopics(suffix, 2);
    await setScenario(wf.model, { seed: 5, accuracy: 0.9, latencyMs: 0 });
    service = await startService({
      suffix,
      topics,
      workflowsFile: wf.file,
      databaseUrl: db.url,
      env: { JOB_LEASE_MS: '3000', MODEL_TIMEOUT_MS: '2000', JOB_MAX_CLAIMS: '3' },
    });
    producer = kafkaClient(`leases-${suffix}`).producer();
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await service?.stop();
    await pg?.end();
    await db?.drop();
  });

  it('calls the model once per job however long the job waits, and never again once its answer is stored', async () => {
    const items = generator.batch(ITEMS);
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    await waitFor(
      'every job completed',
      async () => {
        const j = await jobs();
        return j.length === ITEMS && j.every((x) => x.state === 'completed');
      },
      120_000,
      500,
    );
    // Held past the lease behind the rate limit, yet claimed once and called once each.
    expect(await calls()).toBe(ITEMS);
    expect((await jobs()).map((j) => j.attempts)).toEqual(new Array(ITEMS).fill(1));

    // As if each job's lease had run out after its paid answer was stored: back in the queue.
    await pg.query(`UPDATE ai_jobs SET state = 'retrying', next_attempt_at = now(), locked_by = NULL, locked_at = NULL WHERE workflow = $1`, [wf.triage]);
    await waitFor('the jobs settled again', async () => (await jobs()).every((x) => x.state === 'completed'), 30_000, 250);
    expect(await calls()).toBe(ITEMS);
    expect(Number((await q<{ n: string }>(`SELECT count(*) n FROM ai_decisions WHERE workflow = $1`, [wf.triage]))[0].n)).toBe(ITEMS);
  });

  it('fails a job claimed JOB_MAX_CLAIMS times without an outcome instead of running it again', async () => {
    // A job whose runs killed or stalled its instance three times (the lease gave it back each time).
    const itemId = `${suffix}-crasher`;
    const [w] = await q<{ id: string }>(
      `INSERT INTO work_items (event_id, workflow, item_id, segment, attributes, input, occurred_at)
       VALUES ($1, $2, $3, 'email|eu', '{"channel":"email","region":"eu"}', '{"subject":"x","body":"y"}', now()) RETURNING id::text`,
      [`${itemId}-event`, wf.triage, itemId],
    );
    const before = await calls();
    await pg.query(`INSERT INTO ai_jobs (work_item_id, workflow, item_id, workflow_version, state, attempts) VALUES ($1, $2, $3, 1, 'retrying', 3)`, [
      w.id,
      wf.triage,
      itemId,
    ]);
    await waitFor('the job failed', async () => (await jobs()).find((j) => j.item_id === itemId)?.state === 'failed', 30_000, 250);
    expect((await jobs()).find((j) => j.item_id === itemId)!.last_error).toBe('claimed 3 times without an outcome: given up (JOB_MAX_CLAIMS)');
    expect(await calls()).toBe(before);
  });
});
