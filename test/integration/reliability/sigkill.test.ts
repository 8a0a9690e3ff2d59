import { WorkloadGenerator } from '../../../tools/simulator/workload';
import { writeTestWorkflows } from '../../factories/workflows';
import { createTopics, kafkaClient, setScenario, startService, TestService, uniqueSuffix, waitFor } from '../../harness/test-env';
import { checkInvariants, FaultDb, health, ItemPump, openDb, TopicWatcher, waitForQuiet } from './fault-kit';
import { writeStages } from '../../harness/service-fixture';

/** Each job's lease: an instance that cannot renew its leases for this long loses its jobs. */
const LEASE_MS = 3000;

/**
 * A crash: the service is killed with SIGKILL — nothing flushed, no shutdown hook — while
 * items stream in and a few hundred model calls are in flight, twice, and restarted each time.
 * Then a second instance joins and the first one freezes (SIGSTOP) past its leases and wakes up.
 * Nothing is lost (every item stored once, every job final), nothing is done twice (one AI
 * decision per item and version, one comparison per pair of decisions), and every routing
 * decision that sends something reaches ai.routing.
 */
jest.setTimeout(240_000);

/** The stream runs until the faults are done (at most this many items). */
const MAX_ITEMS = 20_000;
const KILLS = 2;

describe('SIGKILL under load', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  let db: FaultDb;
  let service: TestService | null = null;
  let other: TestService | null = null;
  let pump: ItemPump;
  let routing: TopicWatcher;

  beforeAll(async () => {
    db = await openDb();
    // Real model latency (50–200 ms per call), so that calls are in flight when the kill comes.
    await setScenario(wf.model, { seed: 91, accuracy: 0.9, latencyMs: { distribution: 'uniform', min: 50, max: 200 } });
    // Two triage segments send something out (suggest; review until a threshold exists); the
    // third and the invoices stay in shadow.
    await writeStages(wf.triage, { 'email|eu': 'supervised', 'chat|us': 'confidence-routed' });
  });

  afterAll(async () => {
    await pump?.stop();
    await routing?.stop();
    await service?.kill();
    await other?.kill();
    await db?.close();
  });

  it('loses nothing and does nothing twice when killed mid-flight, again and again', async () => {
    const topics = await createTopics(suffix, 6);
    const kafka = kafkaClient(`sigkill-${suffix}`);
    const start = () =>
      startService({
        suffix,
        topics,
        workflowsFile: wf.file,
        databaseUrl: db.url,
        env: {
          // Jobs held by a killed instance come back after 3 s; a call never outlives its lease.
          JOB_LEASE_MS: String(LEASE_MS),
          MODEL_TIMEOUT_MS: '2000',
          MODEL_CONCURRENCY: '300',
          UNLEASH_REFRESH_MS: '500',
          // Short Kafka sessions: a killed member leaves the group (and the mock's coordinator ends
          // a rebalance) in seconds, so the stream resumes quickly after each restart.
          KAFKA_SESSION_TIMEOUT_MS: '3000',
          KAFKA_HEARTBEAT_MS: '300',
        },
      });
    service = await start();
    routing = await new TopicWatcher(kafka, topics.routing, `routing-reader-${suffix}`).start();
    pump = await new ItemPump({
      kafka,
      topics,
      generator: new WorkloadGenerator({
        seed: 17,
        triageWorkflow: wf.triage,
        invoiceWorkflow: wf.invoice,
        triageSegments: [
          ['email', 'eu'],
          ['chat', 'us'],
          ['phone', 'apac'],
        ],
        idPrefix: `${suffix}-`,
      }),
      total: MAX_ITEMS,
      perSecond: 50,
      decisionDelayMs: 2000,
    }).start();

    // In flight: jobs claimed by the instance, calls outstanding. A burst of items makes a backlog
    // first, since the service keeps up with the steady stream with only a few dozen in flight
    // (1,000 items: a few hundred in flight, without thousands more to process afterwards, which
    // on a busy machine took longer than the faults); another burst every 15 s if the instance has
    // not taken enough of it (with two instances the backlog is shared, and a rebalance may hold it back).
    const busy = async (instance: TestService, minProcessing: number, minUnfinished = 300) => {
      let burstAt = 0;
      return waitFor(
        `${minProcessing} jobs in flight on ${instance.env.INSTANCE_ID}`,
        async () => {
          if (Date.now() - burstAt > 15_000) {
            pump.burst(1000);
            burstAt = Date.now();
          }
          const [r] = await db.rows<{ unfinished: number; processing: number }>(
            `SELECT count(*) FILTER (WHERE state IN ('pending', 'processing', 'retrying'))::int AS unfinished,
                    count(*) FILTER (WHERE state = 'processing' AND locked_by = $1)::int AS processing
             FROM ai_jobs`,
            [instance.env.INSTANCE_ID],
          );
          return r.unfinished >= minUnfinished && r.processing >= minProcessing ? r : null;
        },
        90_000,
        50,
      );
    };

    const t0 = Date.now();
    const atKill: Array<{ unfinished: number; processing: number; sent: number; atMs: number; restartMs?: number }> = [];
    for (let k = 0; k < KILLS; k++) {
      const load = await busy(service, 200);
      await service.kill();
      const at = Date.now();
      atKill.push({ ...load, sent: pump.sent, atMs: at - t0 });
      service = await start();
      atKill[k].restartMs = Date.now() - at;
    }

    // A stall: a second instance joins, and the first freezes (SIGSTOP, as a paused VM or a long GC
    // pause would) past its leases while its calls are out; the second takes its jobs over. When the
    // first wakes up (SIGCONT), its late answers must not become second decisions.
    other = await start();
    const stalled = service;
    // Its calls out when it freezes: 100 of its own in flight, however the two share the backlog.
    const load = { ...(await busy(stalled, 100, 100)), sent: pump.sent, atMs: Date.now() - t0 };
    process.kill(stalled.pid, 'SIGSTOP');
    // Frozen past its leases: it can renew none of them, and the other instance may give its jobs back
    // to the queue. Wait until every lease it holds has run out by the database's clock (a read, which
    // a transaction the frozen instance left open cannot block, as the other's give-back can).
    await waitFor(
      'every lease of the stalled instance run out',
      async () =>
        (await db.count(
          `SELECT count(*) n FROM ai_jobs WHERE state = 'processing' AND locked_by = $1 AND locked_at > now() - make_interval(secs => $2::float8 / 1000)`,
          [stalled.env.INSTANCE_ID, LEASE_MS],
        )) === 0,
      90_000,
      250,
    );
    process.kill(stalled.pid, 'SIGCONT');
    expect(stalled.exited()).toBe(false);

    // Every fault came while items were still streaming in.
    expect(load.sent).toBeLessThan(MAX_ITEMS);
    pump.endNow();
    await pump.done();
    const items = pump.items.length;
    await waitForQuiet(db, { items, decisions: items, timeoutMs: 150_000 });
    const outcome = await checkInvariants(db, { items: pump.items, decisions: pump.decisions, routing });

    // The killed and the stalled instances' jobs came back through their expired leases, and were finished by another one.
    const leaseReturns = await db.count(`SELECT count(*) n FROM ai_jobs WHERE last_error LIKE 'lease expired%' AND attempts > 1`);
    expect(leaseReturns).toBeGreaterThan(0);
    // With a healthy model, every job ends with a valid decision.
    expect(outcome.failed).toBe(0);
    expect(outcome.completed).toBe(items);
    expect(outcome.routed).toBeGreaterThan(0);
    expect((await health(stalled.url)).status).toBe(200);
    expect((await health(other.url)).status).toBe(200);
    console.log(`sigkill: ${JSON.stringify({ atKill, atStall: load, leaseReturns, ...outcome, producerRetries: pump.sendRetries })}`);
  });
});
