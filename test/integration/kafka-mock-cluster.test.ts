/**
 * The Kafka test cluster itself: kafkajs against librdkafka's mock cluster
 * (tools/kafka-mock) — topics created through the launcher, consumer groups,
 * a broker outage, injected request errors.
 *
 * It starts its own 3-broker cluster rather than a shared one, because it
 * takes brokers down and injects errors; its topics and groups carry a unique
 * prefix all the same.
 */
import { Admin, Consumer, Kafka, Partitioners, Producer, logLevel } from 'kafkajs';
import { KafkaClusterHandle, KafkaControl, startKafkaCluster } from '../harness/kafka-cluster';

// Set here: jest ignores testTimeout inside a `projects` entry.
jest.setTimeout(60_000);

const PREFIX = `kmock-${process.pid}-${Date.now().toString(36)}`;

// Retries short enough for a test, long enough to ride out a ~1.5 s outage.
const RETRY = { initialRetryTime: 100, maxRetryTime: 1000, retries: 12 };
// The mock's coordinator holds a rebalance open for sessionTimeout - 1 s (3 s
// for the first member of an empty group), so a short session keeps
// rebalances at ~2 s; the mock honours Fetch MaxWait, so a short one keeps
// consumers responsive without spinning.
const CONSUMER_TIMINGS = { heartbeatInterval: 300, sessionTimeout: 3000, rebalanceTimeout: 10000, maxWaitTimeInMs: 250 };

interface Received {
  id: number;
  partition: number;
  consumer: string;
  at: number;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function messages(from: number, count: number): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: JSON.stringify({ id: from + i }) }));
}

async function sumOfHighWatermarks(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

describe('Kafka mock cluster (librdkafka mock + kafkajs)', () => {
  let cluster: KafkaClusterHandle;
  let control: KafkaControl;
  let kafka: Kafka;
  let admin: Admin;
  // Everything a test connects, disconnected after it even when it fails.
  let connected: (Producer | Consumer)[] = [];
  let stopping = false;
  let restartFailures: unknown[] = [];

  const producer = async (retry: { retries: number; initialRetryTime?: number; maxRetryTime?: number } = RETRY): Promise<Producer> => {
    const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, retry });
    connected.push(p);
    await p.connect();
    return p;
  };

  /**
   * A consumer that records every message it receives into `into`.
   *
   * It replaces itself when kafkajs gives up on it. The mock (librdkafka 2.0.2)
   * has a race: when the group leader's SyncGroup arrives before a follower's,
   * the group is already "Up" and the follower's SyncGroup is answered with
   * INVALID_REQUEST, which kafkajs treats as fatal (CRASH, restart: false).
   * A service has to restart such a consumer anyway; so does this helper.
   */
  const consumer = async (name: string, groupId: string, topic: string, into: Received[]): Promise<{ assigned: () => number[] }> => {
    let assigned: number[] = [];
    const start = async (): Promise<void> => {
      const c = kafka.consumer({ groupId, ...CONSUMER_TIMINGS, retry: RETRY });
      connected.push(c);
      c.on(c.events.GROUP_JOIN, (event) => {
        assigned = [...(event.payload.memberAssignment[topic] ?? [])].sort((x, y) => x - y);
      });
      c.on(c.events.CRASH, (event) => {
        if (event.payload.restart || stopping) return;
        assigned = [];
        start().catch((error: unknown) => restartFailures.push(error));
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({
        eachMessage: async ({ partition, message }) => {
          const { id } = JSON.parse(String(message.value)) as { id: number };
          into.push({ id, partition, consumer: name, at: Date.now() });
        },
      });
    };
    await start();
    return { assigned: () => assigned };
  };

  beforeAll(async () => {
    cluster = await startKafkaCluster({ brokers: 3 });
    control = new KafkaControl(cluster.control);
    kafka = new Kafka({ clientId: PREFIX, brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: RETRY });
    admin = kafka.admin();
    await admin.connect();
  });

  afterEach(async () => {
    stopping = true;
    await Promise.all(connected.map((c) => c.disconnect()));
    connected = [];
    stopping = false;
    const failures = restartFailures;
    restartFailures = [];
    expect(failures).toEqual([]); // a consumer that could not be replaced
  });

  afterAll(async () => {
    await admin?.disconnect();
    await control?.close();
    await cluster?.stop();
  });

  it('answers on its control socket, queues concurrent commands and names what is wrong', async () => {
    const topic = `${PREFIX}-control`;
    const replies = await Promise.all([...Array.from({ length: 20 }, () => control.ping()), control.createTopic(topic, 2), control.bootstrap()]);
    expect(replies[21]).toEqual(cluster.brokers);

    await expect(control.createTopic(topic, 2)).resolves.toBeUndefined(); // idempotent
    await expect(control.createTopic(topic, 3)).rejects.toThrow(/already exists with 2 partitions, not 3/);
    await expect(control.createTopic('no/slashes', 1)).rejects.toThrow(/not a legal Kafka topic name/);
    await expect(control.createTopic(`${topic}-zero`, 0)).rejects.toThrow(/partitions must be an integer 1\.\.\d+, got '0'/);
    await expect(control.brokerDown(4)).rejects.toThrow(/broker id must be 1\.\.3 or 'all', got '4'/);
    await expect(control.setRtt(1, -5)).rejects.toThrow(/ms must be an integer/);
    await expect(control.injectErrors(0, 1, 'NO_SUCH_ERROR')).rejects.toThrow(/unknown error code 'NO_SUCH_ERROR'/);
    await expect(control.send('frobnicate')).rejects.toThrow(/unknown command 'frobnicate'/);
    await expect(control.ping()).resolves.toBeUndefined(); // still in step after the errors

    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0].partitions).toHaveLength(2);
  });

  it('delivers 2,000 messages to a consumer group of two, every message at least once', async () => {
    const topic = `${PREFIX}-group`;
    const groupId = `${PREFIX}-group`;
    const total = 2000;
    await control.createTopic(topic, 4);

    const received: Received[] = [];
    // Started together, both usually make the coordinator's first 3 s join window.
    const [a, b] = await Promise.all([consumer('a', groupId, topic, received), consumer('b', groupId, topic, received)]);
    // Produce only once both members hold partitions, so both must consume.
    await waitFor('both consumers to share the 4 partitions', () => {
      const both = [...a.assigned(), ...b.assigned()].sort();
      return a.assigned().length > 0 && b.assigned().length > 0 && both.join() === '0,1,2,3';
    });

    const p = await producer();
    for (let from = 0; from < total; from += 200) {
      await p.send({ topic, messages: messages(from, 200) });
    }
    expect(await sumOfHighWatermarks(admin, topic)).toBe(total);

    await waitFor(`${total} distinct messages`, () => new Set(received.map((r) => r.id)).size === total);
    const ids = new Set(received.map((r) => r.id));
    expect(ids.size).toBe(total);
    expect(Math.min(...ids)).toBe(0);
    expect(Math.max(...ids)).toBe(total - 1);
    expect(received.length).toBeGreaterThanOrEqual(total);

    const partitionsOf = (name: string): number[] => [...new Set(received.filter((r) => r.consumer === name).map((r) => r.partition))].sort();
    expect(partitionsOf('a').length).toBeGreaterThan(0);
    expect(partitionsOf('b').length).toBeGreaterThan(0);
    // A set: should a member miss its session under load, a rebalance may
    // legitimately hand a partition over mid-test (and redeliver).
    expect([...new Set([...partitionsOf('a'), ...partitionsOf('b')])].sort().join()).toBe('0,1,2,3');
  });

  it('resumes consumption after a partition leader goes down and comes back, losing nothing', async () => {
    const topic = `${PREFIX}-outage`;
    const groupId = `${PREFIX}-outage`;
    await control.createTopic(topic, 6);

    // The mock places leaders at random: take down the broker leading most
    // partitions, so the outage certainly hits this topic.
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const led = (broker: number): number => topics[0].partitions.filter((p) => p.leader === broker).length;
    const victim = [1, 2, 3].reduce((best, broker) => (led(broker) > led(best) ? broker : best));
    const victimPartitions = topics[0].partitions.filter((p) => p.leader === victim).map((p) => p.partitionId);
    expect(victimPartitions.length).toBeGreaterThan(0);

    const received: Received[] = [];
    const c = await consumer('c', groupId, topic, received);
    await waitFor('the consumer to join', () => c.assigned().length === 6);

    const p = await producer();
    await p.send({ topic, messages: messages(0, 250) });
    await waitFor('the first 250 messages', () => new Set(received.map((r) => r.id)).size === 250);

    await control.brokerDown(victim);
    // Sends to the downed leader retry until it is back (leadership does not
    // move in the mock), so this resolves only after brokerUp.
    const sending = p.send({ topic, messages: messages(250, 250) }).then(() => Date.now());
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const upAt = Date.now();
    await control.brokerUp(victim);
    expect(await sending).toBeGreaterThanOrEqual(upAt); // the outage was real

    await waitFor('all 500 messages', () => new Set(received.map((r) => r.id)).size === 500);
    expect(new Set(received.map((r) => r.id)).size).toBe(500);
    expect(await sumOfHighWatermarks(admin, topic)).toBe(500);
    // Consumption from the partitions that were down did resume after the outage.
    const resumed = received.filter((r) => r.id >= 250 && victimPartitions.includes(r.partition) && r.at >= upAt);
    expect(resumed.length).toBeGreaterThan(0);
  });

  it('applies injected Produce errors, and a retrying producer recovers from them', async () => {
    const topic = `${PREFIX}-errors`;
    const PRODUCE = 0;
    const NOT_LEADER_FOR_PARTITION = 6; // retriable: kafkajs refreshes metadata and retries
    await control.createTopic(topic, 1);

    const fragile = await producer({ retries: 0 });
    const sturdy = await producer({ retries: 5, initialRetryTime: 100 });
    const one = (id: number) => ({ topic, messages: messages(id, 1) });
    // Warm up both (metadata, connections), so the injected errors hit Produce requests only.
    await fragile.send(one(0));
    await sturdy.send(one(1));

    await control.injectErrors(PRODUCE, 1, NOT_LEADER_FOR_PARTITION);
    await expect(fragile.send(one(2))).rejects.toThrow(/leader/i);

    await control.injectErrors(PRODUCE, 3, NOT_LEADER_FOR_PARTITION);
    await expect(sturdy.send(one(3))).resolves.toHaveLength(1);
    await expect(fragile.send(one(4))).resolves.toHaveLength(1); // all three were used up

    await control.injectErrors(PRODUCE, 5, 'NOT_LEADER_FOR_PARTITION');
    await control.clearErrors(PRODUCE);
    await expect(fragile.send(one(5))).resolves.toHaveLength(1);

    // Exactly the successful sends were written: 0, 1, 3, 4, 5.
    expect(await sumOfHighWatermarks(admin, topic)).toBe(5);
  });
});
