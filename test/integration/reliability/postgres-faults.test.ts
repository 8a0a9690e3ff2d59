import { Client } from 'pg';
import { WorkloadGenerator } from '../../../tools/simulator/workload';
import { writeTestWorkflows } from '../../factories/workflows';
import { PG_BASE_URL } from '../../harness/postgres';
import { createTopics, kafkaClient, setScenario, startService, TestService, uniqueSuffix, waitFor } from '../../harness/test-env';
import { checkInvariants, FaultDb, health, HealthWatcher, ItemPump, OBSERVER_APP, openDb, sleep, TopicWatcher, waitForQuiet } from './fault-kit';
import { writeStages } from '../../harness/service-fixture';

/**
 * PostgreSQL failing under the service: every connection of the service to its
 * database terminated, again and again, the controller's leader connection on its own, and a
 * window in which the database refuses every new connection (what a server restart looks like
 * from the service). Restarting the real server is not done here: it would hit every test on
 * the machine; this test touches only its own database. The service recovers by itself: items
 * keep being stored and decided, nothing is lost or doubled, a leader leads again, and /health
 * returns to 200 with postgres up. Then, at the production job lease, connections are dropped in
 * the middle of their queries for a while: no job waits for its lease to come back.
 */
jest.setTimeout(180_000);

/** The stream runs until the faults are over (at most this many items), then ends. */
const MAX_ITEMS = 20_000;

describe('PostgreSQL faults', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  let db: FaultDb;
  let admin: Client;
  let service: TestService | null = null;
  let pump: ItemPump;
  let routing: TopicWatcher;
  let watcher: HealthWatcher;
  const cleanups: Array<() => Promise<unknown>> = [];

  /**
   * Backends this test has terminated. pg_terminate_backend only signals: a terminated backend
   * stays in pg_stat_activity for a moment, so "is a leader connected" must not count it (it once
   * did, and the leader-alone fault then found nothing left to terminate).
   */
  const terminated = new Set<number>();
  /** Terminates the service's connections to the test database; returns their application names. */
  const terminate = async (only?: 'leader'): Promise<string[]> => {
    const { rows } = await admin.query(
      `SELECT pid, application_name, pg_terminate_backend(pid) AS done FROM pg_stat_activity
       WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> $2 AND ($3::text IS NULL OR application_name LIKE '%:leader')
         AND NOT pid = ANY($4::int[])`,
      [db.name, OBSERVER_APP, only ?? null, [...terminated]],
    );
    const done = (rows as Array<{ pid: number; application_name: string; done: boolean }>).filter((r) => r.done);
    for (const r of done) terminated.add(r.pid);
    return done.map((r) => r.application_name);
  };
  /** A live leader connection: one this test has not already terminated. */
  const leaderConnected = async () =>
    Number(
      (
        await admin.query(`SELECT count(*) n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE '%:leader' AND NOT pid = ANY($2::int[])`, [
          db.name,
          [...terminated],
        ])
      ).rows[0].n,
    ) > 0;

  beforeAll(async () => {
    db = await openDb();
    admin = new Client({ connectionString: `${PG_BASE_URL}/postgres`, application_name: 'understudy-fault-admin' });
    await admin.connect();
    await setScenario(wf.model, { seed: 71, accuracy: 0.9, latencyMs: { distribution: 'uniform', min: 20, max: 120 } });
    await writeStages(wf.triage, { 'email|eu': 'supervised' });
  });

  afterAll(async () => {
    watcher?.stop();
    await pump?.stop();
    await routing?.stop();
    if (db) await admin?.query(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
    await service?.stop();
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await admin?.end();
    await db?.close();
  });

  it('recovers by itself from dropped connections and a database that refuses connections for a while', async () => {
    const topics = await createTopics(suffix, 4);
    service = await startService({
      suffix,
      topics,
      workflowsFile: wf.file,
      databaseUrl: db.url,
      // A short lease so that a job whose claim was answered on a dying connection comes back soon.
      env: { JOB_LEASE_MS: '10000', MODEL_TIMEOUT_MS: '3000', CONTROLLER_INTERVAL_MS: '1000' },
    });
    const kafka = kafkaClient(`pg-faults-${suffix}`);
    routing = await new TopicWatcher(kafka, topics.routing, `routing-reader-${suffix}`).start();
    watcher = new HealthWatcher(() => service?.url ?? null, 250).start();
    pump = await new ItemPump({
      kafka,
      topics,
      generator: new WorkloadGenerator({
        seed: 23,
        triageWorkflow: wf.triage,
        invoiceWorkflow: wf.invoice,
        triageSegments: [
          ['email', 'eu'],
          ['chat', 'us'],
        ],
        idPrefix: `${suffix}-`,
      }),
      total: MAX_ITEMS,
      perSecond: 80,
      decisionDelayMs: 1500,
    }).start();

    const progress: Array<{ fault: string; killed: number; itemsBefore: number }> = [];
    const stored = () => db.count('SELECT count(*) n FROM work_items');
    /** Waits until the service has stored 100 more items than `from`: it works again. */
    const storesAgain = (from: number, after: string) => waitFor(`items stored again after ${after}`, async () => (await stored()) >= from + 100, 60_000, 100);
    await waitFor('the controller to lead', leaderConnected, 30_000, 250);

    // Every connection dropped, three times, while items flow; the leader's connection among them.
    // Each round comes once the service has stored items again since the one before.
    let mark = 0;
    for (let round = 1; round <= 3; round++) {
      await storesAgain(mark, round === 1 ? 'the start' : `round ${round - 1}`);
      const itemsBefore = await stored();
      mark = itemsBefore;
      const killed = await terminate();
      expect(killed.length).toBeGreaterThan(1);
      if (round === 1) expect(killed.some((a) => a.endsWith(':leader'))).toBe(true);
      progress.push({ fault: `all connections terminated (${round})`, killed: killed.length, itemsBefore });
    }

    // The leader's connection alone: it loses the lock with the connection, and takes it again.
    const leaderKilled = await waitFor(
      'a reconnected leader connection to terminate',
      async () => {
        const killed = await terminate('leader');
        return killed.length > 0 ? killed : null;
      },
      30_000,
      250,
    );
    expect(leaderKilled).toHaveLength(1);
    progress.push({ fault: 'leader connection terminated', killed: 1, itemsBefore: await stored() });
    await waitFor('a leader again', leaderConnected, 30_000, 250);

    // The database refuses every connection for 8 s, as during a server restart — and on a busy
    // machine for as long as it takes /health to answer once while it lasts: 503, postgres down.
    await admin.query(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS false`);
    const outageStart = Date.now();
    progress.push({ fault: 'database refusing connections for 8 s', killed: (await terminate()).length, itemsBefore: await stored() });
    await waitFor(
      '/health to report postgres down during the outage',
      async () => watcher.samples.some((s) => s.at > outageStart && s.status === 503 && s.body?.checks?.postgres.status === 'down'),
      90_000,
      250,
    );
    const rest = outageStart + 8000 - Date.now();
    if (rest > 0) await sleep(rest);
    await admin.query(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS true`);

    await storesAgain(await stored(), 'the outage');
    progress.push({ fault: 'all connections terminated (last)', killed: (await terminate()).length, itemsBefore: await stored() });
    const lastFault = Date.now();

    // Recovery, by itself: health back to 200 with postgres up, the controller cycling again under a leader.
    await waitFor(
      '/health 200 with postgres up',
      async () => {
        const h = await health(service!.url);
        return h.status === 200 && h.body.checks?.postgres.status === 'up';
      },
      60_000,
      250,
    );
    await waitFor(
      'the controller cycling again',
      async () => {
        const [s] = await db.rows<{ at: Date | null; error: string | null }>(
          `SELECT last_cycle_at AS at, last_error AS error FROM controller_status WHERE id = 1`,
        );
        return s.at !== null && s.at.getTime() > lastFault + 1000 && s.error === null;
      },
      60_000,
      500,
    );
    await waitFor('the leader connected', leaderConnected, 30_000, 250);

    // Items streamed in through every fault; the rest need not wait for the stream's end.
    expect(pump.sent).toBeLessThan(MAX_ITEMS);
    pump.endNow();
    await pump.done();
    const items = pump.items.length;
    await waitForQuiet(db, { items, decisions: items, timeoutMs: 120_000 });
    const outcome = await checkInvariants(db, { items: pump.items, decisions: pump.decisions, routing });
    // Items kept being stored between the faults, not only at the end.
    expect(progress.map((p) => p.itemsBefore).every((n, i, all) => i === 0 || n >= all[i - 1])).toBe(true);
    expect(progress[progress.length - 1].itemsBefore).toBeGreaterThan(progress[0].itemsBefore);
    expect(outcome.failed).toBe(0);
    expect(service.exited()).toBe(false);
    const leaseReturns = await db.count(`SELECT count(*) n FROM ai_jobs WHERE last_error LIKE 'lease expired%'`);
    console.log(
      `postgres-faults: ${JSON.stringify({ progress, leaseReturns, ...outcome, health: { samples: watcher.samples.length, non200: watcher.samples.filter((s) => s.status !== 200).length } })}`,
    );
  });
  it('drops connections in the middle of their queries without leaving any job to its lease', async () => {
    const suffix2 = `${suffix}b`;
    const wf2 = writeTestWorkflows({ suffix: suffix2 });
    const db2 = await openDb();
    cleanups.push(() => db2.close());
    await setScenario(wf2.model, { seed: 72, accuracy: 0.9, latencyMs: 20 });
    const topics = await createTopics(suffix2, 4);
    // The production lease (120 s): a job stranded in 'processing' would hold the test far past its deadline.
    const svc = await startService({ suffix: suffix2, topics, workflowsFile: wf2.file, databaseUrl: db2.url, env: { CONTROLLER_ENABLED: 'false' } });
    cleanups.push(() => svc.stop());
    const kafka = kafkaClient(`pg-faults-${suffix2}`);
    const routing2 = await new TopicWatcher(kafka, topics.routing, `routing-reader-${suffix2}`).start();
    cleanups.push(() => routing2.stop());
    const pump2 = await new ItemPump({
      kafka,
      topics,
      generator: new WorkloadGenerator({ seed: 24, triageWorkflow: wf2.triage, invoiceWorkflow: wf2.invoice, idPrefix: `${suffix2}-` }),
      total: 1500,
      perSecond: 100,
    }).start();
    cleanups.push(() => pump2.stop());

    // For 12 s, every query of the service that is running when we look (every 20 ms: a look
    // without a pause would spin PostgreSQL and this worker, and starve the tests beside this one)
    // is cut off mid-way.
    let cut = 0;
    const until = Date.now() + 12_000;
    while (Date.now() < until) {
      const { rows } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> $2 AND state = 'active'`,
        [db2.name, OBSERVER_APP],
      );
      cut += rows.length;
      await sleep(20);
    }
    expect(cut).toBeGreaterThan(10);

    await pump2.done();
    // Well inside the 120 s lease: nothing waits for one.
    await waitForQuiet(db2, { items: 1500, timeoutMs: 60_000 });
    const outcome = await checkInvariants(db2, { items: pump2.items, routing: routing2 });
    expect(outcome.failed).toBe(0);
    expect(await db2.count(`SELECT count(*) n FROM ai_jobs WHERE last_error LIKE 'lease expired%'`)).toBe(0);
    const budgetRetries = await db2.count(`SELECT count(*) n FROM ai_jobs WHERE last_error LIKE 'budget check failed%'`);
    console.log(`postgres-faults (mid-query): ${JSON.stringify({ cut, budgetRetries, ...outcome })}`);
  });
});
