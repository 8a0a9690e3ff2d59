import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { KafkaService } from '../kafka/kafka.service';
import { DlqPublisher } from './dlq.publisher';
import { MAX_OTHER_ATTEMPTS, storeFailure } from './domain/store-failure';
import { IncomingMessage, IngestService } from './ingest.service';

const CHUNK = 500;
/** At most this many messages of concurrently consumed partitions go into one transaction. */
const MAX_COMBINED = 2000;

/**
 * Consumes work.items and work.decisions in one consumer group, in batches. Offsets are
 * resolved only after a chunk is stored (or dead-lettered), so a crash redelivers rather than
 * loses; storage is idempotent, so a redelivery changes nothing.
 */
@Injectable()
export class IngestConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: Consumer | null = null;
  /** Failed attempts at messages whose batch failed for a reason other than the data or an outage. */
  private readonly attempts = new Map<string, number>();
  private readonly log: Logger;
  private running = false;
  /** Chunks of partitions consumed concurrently, waiting to be stored together (per topic). */
  private readonly waiting = new Map<string, Array<{ messages: IncomingMessage[]; done: (error?: unknown) => void }>>();
  private readonly storing = new Set<string>();

  constructor(
    private readonly kafka: KafkaService,
    private readonly ingest: IngestService,
    private readonly dlq: DlqPublisher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'ingest' });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.roles.ingest) await this.start();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const { workItems, workDecisions } = this.config.kafka.topics;
    const consumer = this.kafka.consumer({ groupId: this.config.kafka.groupId });
    this.consumer = consumer;
    // kafkajs gives up on a consumer after a non-retriable error (restart: false) — e.g. the
    // INVALID_REQUEST some brokers answer to an early SyncGroup. Nothing may stop consumption for
    // good, so such a consumer is replaced; its uncommitted messages are redelivered.
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart || !this.running || this.consumer !== consumer) return;
      this.log.error({ err: errorMessage(event.payload.error) }, 'the Kafka consumer crashed for good; replacing it');
      void this.replace(consumer);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [workItems, workDecisions], fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitInterval: 1000,
      // Many partitions at once: their batches are stored together (see store()), so this sets how
      // many can join one transaction, not how many transactions run.
      partitionsConsumedConcurrently: 16,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.log.info({ topics: [workItems, workDecisions], groupId: this.config.kafka.groupId }, 'consuming');
  }

  private async replace(old: Consumer): Promise<void> {
    await old.disconnect().catch(() => undefined);
    for (let attempt = 1; this.running; attempt++) {
      try {
        await this.connect();
        return;
      } catch (e) {
        await this.consumer?.disconnect().catch(() => undefined);
        this.log.error({ err: errorMessage(e), attempt }, 'reconnecting the Kafka consumer failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * attempt)));
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    const consumer = this.consumer;
    this.consumer = null;
    if (consumer) await consumer.disconnect().catch(() => undefined);
  }

  get isRunning(): boolean {
    return this.running;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    for (let i = 0; i < batch.messages.length; i += CHUNK) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(i, i + CHUNK);
      const incoming = chunk.map((m) => toIncoming(batch.topic, batch.partition, m));
      await this.store(batch.topic, incoming);
      resolveOffset(chunk[chunk.length - 1].offset);
      await heartbeat();
    }
    await commitOffsetsIfNecessary();
  }

  /**
   * Stores a partition's chunk together with the chunks other partitions hand in at the same time:
   * one transaction for all of them instead of one each. At a few hundred items a second spread over
   * many partitions, each fetch brings a handful of messages per partition, and a transaction per
   * handful made ingest the bottleneck of routing latency. Resolves once this chunk is
   * durable (or dead-lettered); rejects, like storeChunk, when the database or Kafka is unavailable.
   */
  private store(topic: string, messages: IncomingMessage[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const list = this.waiting.get(topic) ?? [];
      list.push({ messages, done: (e) => (e === undefined ? resolve() : reject(e)) });
      this.waiting.set(topic, list);
      // The other partitions of the same fetch start in the same turn of the event loop: let them join.
      if (!this.storing.has(topic)) setImmediate(() => void this.storeWaiting(topic));
    });
  }

  private async storeWaiting(topic: string): Promise<void> {
    if (this.storing.has(topic)) return;
    this.storing.add(topic);
    try {
      const list = this.waiting.get(topic) ?? [];
      while (list.length > 0) {
        const taken = [list.shift()!];
        let count = taken[0].messages.length;
        while (list.length > 0 && count + list[0].messages.length <= MAX_COMBINED) {
          count += list[0].messages.length;
          taken.push(list.shift()!);
        }
        try {
          await this.storeChunk(
            topic,
            taken.flatMap((t) => t.messages),
          );
          for (const t of taken) t.done();
        } catch (e) {
          for (const t of taken) t.done(e ?? new Error('storing failed'));
        }
      }
    } finally {
      this.storing.delete(topic);
    }
  }

  private async storeChunk(topic: string, incoming: IncomingMessage[]): Promise<void> {
    try {
      const result = await this.ingest.handleBatch(topic, incoming);
      await this.dlq.publish(result.refused);
      this.forget(incoming);
    } catch (e) {
      const kind = storeFailure(e);
      if (kind === 'unavailable') throw e; // database or Kafka unavailable: let kafkajs retry the batch
      if (kind === 'other') {
        const attempt = this.countAttempt(incoming);
        if (attempt < MAX_OTHER_ATTEMPTS) {
          this.log.error({ err: errorMessage(e), topic, attempt }, 'storing a batch failed; retrying it');
          throw e;
        }
      }
      // One message that cannot be stored must not block the partition: store one by one and
      // dead-letter only the messages that fail on their own.
      this.log.warn({ err: errorMessage(e), topic, kind }, 'batch refused; storing message by message');
      for (const m of incoming) {
        try {
          const r = await this.ingest.handleBatch(topic, [m]);
          await this.dlq.publish(r.refused);
        } catch (inner) {
          const innerKind = storeFailure(inner);
          if (innerKind === 'unavailable') throw inner;
          // A failure nobody recognises is the message's only while the database answers: else retry.
          if (innerKind === 'other' && !(await this.ingest.databaseAnswers())) throw inner;
          await this.dlq.publish([{ message: m, reason: `could not be stored: ${errorMessage(inner)}` }]);
        }
      }
      this.forget(incoming);
    }
  }

  /** Counts one more failed attempt at these messages; returns how many there have been. */
  private countAttempt(messages: IncomingMessage[]): number {
    const keys = messages.map((m) => `${m.topic}\u0001${m.partition}\u0001${m.offset}`);
    const attempt = 1 + Math.max(0, ...keys.map((k) => this.attempts.get(k) ?? 0));
    for (const k of keys) this.attempts.set(k, attempt);
    return attempt;
  }

  private forget(messages: IncomingMessage[]): void {
    if (this.attempts.size === 0) return;
    for (const m of messages) this.attempts.delete(`${m.topic}\u0001${m.partition}\u0001${m.offset}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }
}

function toIncoming(topic: string, partition: number, m: KafkaMessage): IncomingMessage {
  return { topic, partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp, headers: m.headers };
}
