import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { KafkaService } from '../kafka/kafka.service';
import { DlqPublisher } from './dlq.publisher';
import { IncomingMessage, IngestService } from './ingest.service';

const CHUNK = 500;

/** PostgreSQL error classes that belong to the data, not to the database being unavailable. */
function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * Consumes work.items and work.decisions in one consumer group, in batches. Offsets are
 * resolved only after a chunk is stored (or dead-lettered), so a crash redelivers rather than
 * loses; storage is idempotent, so a redelivery changes nothing.
 */
@Injectable()
export class IngestConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: Consumer | null = null;
  private readonly log: Logger;
  private running = false;

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
      partitionsConsumedConcurrently: 4,
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
      await this.storeChunk(batch.topic, incoming);
      resolveOffset(chunk[chunk.length - 1].offset);
      await heartbeat();
    }
    await commitOffsetsIfNecessary();
  }

  private async storeChunk(topic: string, incoming: IncomingMessage[]): Promise<void> {
    try {
      const result = await this.ingest.handleBatch(topic, incoming);
      await this.dlq.publish(result.refused);
    } catch (e) {
      if (!isDataError(e)) throw e; // database or Kafka unavailable: let kafkajs retry the batch
      // One message the database refuses must not block the partition: store one by one and
      // dead-letter only the messages that fail on their own.
      this.log.warn({ err: errorMessage(e), topic }, 'batch refused by the database; storing message by message');
      for (const m of incoming) {
        try {
          const r = await this.ingest.handleBatch(topic, [m]);
          await this.dlq.publish(r.refused);
        } catch (inner) {
          if (!isDataError(inner)) throw inner;
          await this.dlq.publish([{ message: m, reason: `could not be stored: ${errorMessage(inner)}` }]);
        }
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }
}

function toIncoming(topic: string, partition: number, m: KafkaMessage): IncomingMessage {
  return { topic, partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp, headers: m.headers };
}
