import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { writeTestWorkflows } from '../../factories/workflows';
import { findRepoRoot, KafkaClusterHandle, KafkaControl, startKafkaCluster } from '../../harness/kafka-cluster';
import { startService, TestService, TestTopics, uniqueSuffix, waitFor } from '../../harness/test-env';
import { FaultDb, openDb, TopicWatcher } from './fault-kit';

/**
 * Kafka refusing a publish of the relay's poll: the attempt and its error are recorded on the rows,
 * and the relay tries again and delivers them. (The poll once recorded the failure on another
 * connection while its own transaction held the rows' locks, and waited on itself for ever.)
 * On a Kafka cluster of its own: injected errors are taken by any client of the cluster.
 */
jest.setTimeout(120_000);

const PRODUCE = 0;
const MESSAGE_TOO_LARGE = 10; // not retriable: kafkajs gives up on the send at once

describe('outbox publish failure', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  let cluster: KafkaClusterHandle;
  let control: KafkaControl;
  let db: FaultDb;
  let service: TestService | null = null;
  let routing: TopicWatcher;

  beforeAll(async () => {
    cluster = await startKafkaCluster({ brokers: 1, logFile: path.join(findRepoRoot(__dirname), '.stack', 'logs', `outbox-publish-failure-${suffix}.log`) });
    control = new KafkaControl(cluster.control);
    const topics: TestTopics = {
      workItems: `work.items.${suffix}`,
      workDecisions: `work.decisions.${suffix}`,
      routing: `ai.routing.${suffix}`,
      dlq: `understudy.dlq.${suffix}`,
      alerts: `understudy.alerts.${suffix}`,
    };
    await control.createTopics(Object.values(topics).map((name) => ({ name, partitions: 2 })));
    db = await openDb();
    // Only the relay: nothing else of this instance produces.
    service = await startService({
      suffix,
      topics,
      workflowsFile: wf.file,
      databaseUrl: db.url,
      env: { KAFKA_BROKERS: cluster.brokers.join(','), RUN_INGEST: 'false', RUN_RUNNER: 'false', CONTROLLER_ENABLED: 'false' },
    });
    const kafka = new Kafka({ clientId: `outbox-publish-failure-${suffix}`, brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    routing = await new TopicWatcher(kafka, topics.routing, `routing-reader-${suffix}`).start();
  });

  afterAll(async () => {
    await routing?.stop();
    await service?.stop();
    await control?.close();
    await cluster?.stop();
    await db?.close();
  });

  it('records the failed attempt, then delivers the row once', async () => {
    await control.injectErrors(PRODUCE, 1, MESSAGE_TOO_LARGE);
    const eventId = `refused-once-${suffix}`;
    await db.pg.query(`INSERT INTO outbox (topic, message_key, payload) VALUES ($1, $2, $3)`, [
      `ai.routing.${suffix}`,
      eventId,
      JSON.stringify({ eventId, itemId: eventId, action: 'suggest' }),
    ]);
    await waitFor('the row sent', async () => (await db.count(`SELECT count(*) n FROM outbox WHERE sent_at IS NOT NULL`)) === 1, 30_000, 250);
    const [row] = (await db.pg.query(`SELECT attempts, last_error FROM outbox`)).rows as Array<{ attempts: number; last_error: string | null }>;
    expect(row.attempts).toBe(2);
    expect(row.last_error).toMatch(/larger than the max message size/);
    await waitFor('the event on ai.routing', async () => routing.eventIds().has(eventId), 30_000, 250);
    expect(routing.eventIds().get(eventId)).toBe(1);
  });
});
