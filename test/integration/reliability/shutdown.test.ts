import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { WorkloadGenerator } from '../../../tools/simulator/workload';
import { writeTestWorkflows } from '../../factories/workflows';
import { findRepoRoot, KafkaClusterHandle, KafkaControl, startKafkaCluster } from '../../harness/kafka-cluster';
import { ServiceExit, setScenario, startService, stopTogether, TestService, TestTopics, uniqueSuffix, waitFor } from '../../harness/test-env';
import { checkInvariants, FaultDb, ItemPump, openDb, TopicWatcher, waitForQuiet } from './fault-kit';
import { writeStages } from '../../harness/service-fixture';

/**
 * A graceful stop (SIGTERM) while every Kafka broker is unreachable, on a mock cluster of this
 * test's own: the service exits by itself, with code 0, inside an orchestrator's 30 s grace —
 * without waiting on Kafka past its shutdown budget — and loses nothing. The answers of the model
 * calls under way are written to PostgreSQL before it exits; the routing events it could not
 * publish stay in the outbox; the jobs it had not started go back to the queue. When Kafka is back,
 * the next instance decides every item and publishes every routing event the outbox holds.
 */
jest.setTimeout(240_000);

const ITEMS = 600;
/** What an orchestrator allows (Kubernetes' default terminationGracePeriodSeconds) before SIGKILL. */
const GRACE_MS = 30_000;

describe('graceful shutdown with Kafka unreachable', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  const logDir = path.join(findRepoRoot(__dirname), '.stack', 'logs');
  let cluster: KafkaClusterHandle;
  let control: KafkaControl;
  let db: FaultDb;
  let topics: TestTopics;
  let kafka: Kafka;
  const services: TestService[] = [];
  let pump: ItemPump | null = null;
  let routing: TopicWatcher | null = null;

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
    cluster = await startKafkaCluster({ brokers: 3, logFile: path.join(logDir, `shutdown-${suffix}.log`) });
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
      clientId: `shutdown-${suffix}`,
      brokers: cluster.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 2000 },
    });
    db = await openDb();
    // Calls that take a while, so that some are under way when the signal comes.
    await setScenario(wf.model, { seed: 71, accuracy: 0.9, latencyMs: { distribution: 'uniform', min: 400, max: 1500 } });
    // Two segments send routing events out through the outbox; the rest stays in shadow.
    await writeStages(wf.triage, { 'email|eu': 'supervised', 'chat|us': 'confidence-routed' });
  });

  afterAll(async () => {
    await pump?.stop();
    await routing?.stop();
    await stopTogether(services, 'kill');
    await control?.brokerUp('all').catch(() => undefined);
    await control?.close();
    await cluster?.stop();
    await db?.close();
  });

  it('exits on its own within the grace, and the next instance finds everything it left', async () => {
    const first = await start();
    services.push(first);
    pump = await new ItemPump({
      kafka,
      topics,
      generator: new WorkloadGenerator({
        seed: 72,
        triageWorkflow: wf.triage,
        invoiceWorkflow: wf.invoice,
        triageSegments: [
          ['email', 'eu'],
          ['chat', 'us'],
          ['phone', 'apac'],
        ],
        idPrefix: `${suffix}-`,
      }),
      total: ITEMS,
      perSecond: 200,
      decisionDelayMs: 500,
    }).start();
    // Routing events leave while Kafka is up.
    await waitFor('routing events published', async () => (await db.count('SELECT count(*) n FROM outbox WHERE sent_at IS NOT NULL')) > 0, 90_000, 250);
    await pump.done();

    // Every broker down. The service keeps deciding from the items it stored, so its relay is now
    // trying to publish what it cannot, and its calls are still under way.
    await control.brokerDown('all');
    const downAt = new Date();
    await waitFor(
      'routing events written while Kafka is down, and model calls under way',
      async () => {
        const [r] = await db.rows<{ unsent: number; processing: number }>(
          `SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND created_at > $1)::int AS unsent,
                  (SELECT count(*) FROM ai_jobs WHERE state = 'processing' AND locked_by = $2)::int AS processing`,
          [downAt, first.env.INSTANCE_ID],
        );
        return r.unsent >= 5 && r.processing >= 10 ? r : null;
      },
      60_000,
      100,
    );
    const held = (await db.rows<{ id: string }>(`SELECT id::text FROM ai_jobs WHERE state = 'processing' AND locked_by = $1`, [first.env.INSTANCE_ID])).map(
      (r) => r.id,
    );

    const exit: ServiceExit = await first.stop({ killAfterMs: GRACE_MS });
    console.log(`shutdown: ${JSON.stringify({ exitMs: exit.ms, ...exit, heldAtSignal: held.length })}`);
    // It went by itself, cleanly, before the orchestrator's SIGKILL.
    expect(exit).toMatchObject({ killed: false, code: 0, signal: null });

    // It kept what it had: no job is left claimed by it (answers written, unstarted jobs given
    // back), and the calls under way at the signal were written before it exited.
    expect(await db.count(`SELECT count(*) n FROM ai_jobs WHERE state = 'processing' AND locked_by = $1`, [first.env.INSTANCE_ID])).toBe(0);
    expect(await db.count(`SELECT count(*) n FROM ai_decisions WHERE job_id = ANY($1::bigint[])`, [held])).toBeGreaterThan(0);
    // What it could not publish is still in the outbox, unsent.
    expect(await db.count('SELECT count(*) n FROM outbox WHERE sent_at IS NULL')).toBeGreaterThan(0);

    // Kafka back, a new instance: every item decided, every routing event on ai.routing once per outbox row.
    await control.brokerUp('all');
    services.push(await start());
    await waitForQuiet(db, { items: ITEMS, decisions: ITEMS, timeoutMs: 150_000 });
    routing = await new TopicWatcher(kafka, topics.routing, `routing-reader-${suffix}`).start();
    const outcome = await checkInvariants(db, { items: pump.items, decisions: pump.decisions, routing });
    expect(outcome.completed).toBe(ITEMS);
    expect(outcome.routed).toBeGreaterThan(0);
    console.log(`shutdown: ${JSON.stringify(outcome)}`);
  });
});
