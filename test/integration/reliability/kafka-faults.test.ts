import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { WorkloadGenerator } from '../../../tools/simulator/workload';
import { writeTestWorkflows } from '../../factories/workflows';
import { findRepoRoot, KafkaClusterHandle, KafkaControl, startKafkaCluster } from '../../harness/kafka-cluster';
import { setScenario, startService, stopTogether, TestService, TestTopics, uniqueSuffix, waitFor } from '../../harness/test-env';
import { checkInvariants, FaultDb, HealthWatcher, ItemPump, openDb, sleep, TopicWatcher, waitForQuiet } from './fault-kit';
import { writeStages } from '../../harness/service-fixture';

/**
 * Kafka failing under the service, on a mock cluster of this test's own (so that no
 * other test file sees its outages): the broker leading most partitions goes down and comes back,
 * then every broker in turn (one of them coordinates the consumer group); requests fail with
 * injected retriable errors (Fetch, Produce, OffsetCommit); a SyncGroup is answered
 * INVALID_REQUEST while a second instance joins, which makes kafkajs give up on a consumer for
 * good. Consumption resumes every time, nothing is lost and nothing is stored twice.
 */
jest.setTimeout(240_000);

/** The stream runs until the faults are over (at most this many items), then ends. */
const MAX_ITEMS = 20_000;
const FETCH = 1;
const PRODUCE = 0;
const OFFSET_COMMIT = 8;
const SYNC_GROUP = 14;
const NOT_LEADER_FOR_PARTITION = 6;
const REQUEST_TIMED_OUT = 7;
const INVALID_REQUEST = 42;

describe('Kafka faults', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  const logDir = path.join(findRepoRoot(__dirname), '.stack', 'logs');
  let cluster: KafkaClusterHandle;
  let control: KafkaControl;
  let db: FaultDb;
  let topics: TestTopics;
  let kafka: Kafka;
  const services: TestService[] = [];
  let pump: ItemPump;
  let routing: TopicWatcher;
  let watcher: HealthWatcher;

  const stored = () => db.count('SELECT count(*) n FROM work_items');
  /** Waits until consumption has moved on by `n` more items than now (the stream is still running). */
  const timeline: Array<{ after: string; resumedInMs: number }> = [];
  const progresses = async (what: string, n = 50) => {
    const from = await stored();
    const t0 = Date.now();
    await waitFor(`consumption to resume after ${what}`, async () => (await stored()) >= from + n, 90_000, 250);
    timeline.push({ after: what, resumedInMs: Date.now() - t0 });
  };
  const start = () =>
    startService({
      suffix,
      topics,
      workflowsFile: wf.file,
      databaseUrl: db.url,
      // Short sessions: the mock's coordinator holds each rebalance open for most of a session timeout.
      env: { KAFKA_BROKERS: cluster.brokers.join(','), KAFKA_SESSION_TIMEOUT_MS: '3000', KAFKA_HEARTBEAT_MS: '300', CONTROLLER_ENABLED: 'false' },
    });

  beforeAll(async () => {
    cluster = await startKafkaCluster({ brokers: 3, logFile: path.join(logDir, `kafka-faults-${suffix}.log`) });
    control = new KafkaControl(cluster.control);
    topics = {
      workItems: `work.items.${suffix}`,
      workDecisions: `work.decisions.${suffix}`,
      routing: `ai.routing.${suffix}`,
      dlq: `understudy.dlq.${suffix}`,
      alerts: `understudy.alerts.${suffix}`,
    };
    await control.createTopics(Object.values(topics).map((name) => ({ name, partitions: 6 })));
    kafka = new Kafka({
      clientId: `kafka-faults-${suffix}`,
      brokers: cluster.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 2000 },
    });
    db = await openDb();
    await setScenario(wf.model, { seed: 61, accuracy: 0.9, latencyMs: 20 });
    // One segment supervised, so that the service also produces (the outbox relay) through the faults.
    await writeStages(wf.triage, { 'email|eu': 'supervised' });
  });

  afterAll(async () => {
    watcher?.stop();
    await pump?.stop();
    await routing?.stop();
    await stopTogether(services);
    await control?.close();
    await cluster?.stop();
    await db?.close();
  });

  it('resumes consumption after broker outages and injected request errors, losing nothing and storing nothing twice', async () => {
    services.push(await start());
    watcher = new HealthWatcher(() => services[0]?.url ?? null).start();
    pump = await new ItemPump({
      kafka,
      topics,
      generator: new WorkloadGenerator({
        seed: 62,
        triageWorkflow: wf.triage,
        invoiceWorkflow: wf.invoice,
        triageSegments: [
          ['email', 'eu'],
          ['chat', 'us'],
        ],
        idPrefix: `${suffix}-`,
      }),
      total: MAX_ITEMS,
      // Slow enough that streaming through every fault costs no more than 2,000 items did.
      perSecond: 25,
      decisionDelayMs: 1000,
    }).start();
    await waitFor('items flowing', async () => (await stored()) >= 75, 60_000, 250);

    // The broker leading most partitions of work.items goes down for 8 s (leadership does not move in the mock).
    const admin = kafka.admin();
    await admin.connect();
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topics.workItems] })).topics;
    await admin.disconnect();
    const led = (b: number) => meta.partitions.filter((p) => p.leader === b).length;
    const victim = [1, 2, 3].reduce((best, b) => (led(b) > led(best) ? b : best));
    await control.brokerDown(victim);
    await sleep(8000);
    await control.brokerUp(victim);
    await progresses(`broker ${victim} (leader of ${led(victim)} of 6 partitions) down for 8 s`);

    // Every broker in turn; one of them is the group's coordinator.
    for (const b of [1, 2, 3]) {
      await control.brokerDown(b);
      await sleep(5000);
      await control.brokerUp(b);
      await progresses(`broker ${b} down for 5 s`);
    }

    // Injected retriable errors on fetches, produces and offset commits, to whichever client asks next.
    // kafkajs answers a Fetch NOT_LEADER_FOR_PARTITION by refreshing metadata and re-joining the
    // group, which the mock's coordinator holds open for most of a session timeout: two of those
    // make the point; REQUEST_TIMED_OUT is retried in place.
    await control.injectErrors(FETCH, 2, NOT_LEADER_FOR_PARTITION);
    await control.injectErrors(FETCH, 10, REQUEST_TIMED_OUT);
    await control.injectErrors(PRODUCE, 10, REQUEST_TIMED_OUT);
    await control.injectErrors(OFFSET_COMMIT, 10, REQUEST_TIMED_OUT);
    await progresses('injected Fetch, Produce and OffsetCommit errors');
    await control.injectErrors(PRODUCE, 10, NOT_LEADER_FOR_PARTITION);
    await control.injectErrors(OFFSET_COMMIT, 5, NOT_LEADER_FOR_PARTITION);
    await progresses('more injected Produce and OffsetCommit errors');

    // A second instance joins; the rebalance's next SyncGroup is answered INVALID_REQUEST, which
    // kafkajs treats as fatal for that consumer. The service replaces it and consumption goes on.
    await control.injectErrors(SYNC_GROUP, 1, INVALID_REQUEST);
    services.push(await start());
    await waitFor(
      'a consumer replaced after the failed SyncGroup',
      async () => services.some((s) => readFileSync(s.logFile, 'utf8').includes('the Kafka consumer crashed for good; replacing it')),
      60_000,
      500,
    );
    await progresses('a consumer given up by kafkajs and replaced');

    // Items streamed in through every fault (the stream had not run out before the last one).
    expect(pump.sent).toBeLessThan(MAX_ITEMS);
    pump.endNow();
    await pump.done();
    const items = pump.items.length;
    await waitForQuiet(db, { items, decisions: items, timeoutMs: 120_000 });
    // ai.routing is read only now, from the beginning: a reader running through the faults would
    // take injected errors meant for the service (the SyncGroup one would end its consumer).
    routing = await new TopicWatcher(kafka, topics.routing, `routing-reader-${suffix}`).start();
    const outcome = await checkInvariants(db, { items: pump.items, decisions: pump.decisions, routing });
    expect(outcome.failed).toBe(0);
    // Kafka trouble never takes the service down: it stays up (degraded at worst) and answers 200.
    watcher.stop();
    expect(watcher.samples.filter((s) => s.status !== 200)).toEqual([]);
    for (const s of services) expect(s.exited()).toBe(false);
    const degraded = watcher.samples.filter((s) => s.body?.checks?.kafka.status !== 'up').length;
    console.log(
      `kafka-faults: ${JSON.stringify({ victim, timeline, ...outcome, producerRetries: pump.sendRetries, healthSamples: watcher.samples.length, kafkaNotUp: degraded })}`,
    );
  });
});
