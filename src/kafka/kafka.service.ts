import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Consumer, ConsumerConfig, IHeaders, Kafka, logLevel, LogEntry, Producer, SASLOptions } from 'kafkajs';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { LOGGER } from '../common/logger';
import { createSharedProbe, SharedProbe } from './domain/shared-probe';

export interface OutgoingMessage {
  key: Buffer | string | null;
  value: Buffer | string;
  headers?: IHeaders;
}

/**
 * A publish the service stopped waiting for at shutdown: not known to be on Kafka. Named like
 * kafkajs's errors, so that whoever stores on the strength of a publish treats it as Kafka being
 * unavailable (retry, never dead-letter).
 */
export class PublishAbandonedError extends Error {
  override readonly name = 'KafkaPublishAbandoned';
}

/** Waits for `p` at most `ms`, never rejecting (for disconnects at shutdown). */
function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms));
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The event bus: one kafkajs client, one shared producer, consumers made on demand. */
@Injectable()
export class KafkaService implements OnModuleDestroy {
  readonly kafka: Kafka;
  private producer: Producer | null = null;
  private producerConnecting: Promise<Producer> | null = null;
  private readonly consumers = new Set<Consumer>();
  /** Rejects of the publishes under way (see abandonPublishing). */
  private readonly publishing = new Set<(e: Error) => void>();
  private abandoned: PublishAbandonedError | null = null;
  private readonly log: Logger;
  private readonly probe: SharedProbe;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'kafka' });
    const log = this.log;
    if (config.kafka.sasl && config.kafka.ssl === false)
      log.warn({ mechanism: config.kafka.sasl.mechanism }, 'SASL without TLS: credentials and data cross the network in the clear');
    this.kafka = new Kafka({
      clientId: config.kafka.clientId,
      brokers: config.kafka.brokers,
      ssl: config.kafka.ssl === false ? undefined : config.kafka.ssl,
      ...(config.kafka.sasl ? { sasl: config.kafka.sasl as SASLOptions } : {}),
      connectionTimeout: 5000,
      requestTimeout: 30000,
      retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 5000 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...rest } = entry;
          if (level === logLevel.ERROR) log.error(rest, message);
          else if (level === logLevel.WARN) log.warn(rest, message);
          else log.debug(rest, message);
        },
    });
    this.probe = createSharedProbe(async () => {
      const admin = this.kafka.admin({ retry: { retries: 0 } });
      await admin.connect();
      return { check: async () => void (await admin.describeCluster()), close: () => admin.disconnect() };
    }, 3000);
  }

  /**
   * Publishes and resolves only once every broker acknowledged (acks = all). Rejects with
   * PublishAbandonedError once the service stops waiting for Kafka (abandonPublishing).
   */
  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    if (this.abandoned) throw this.abandoned;
    await this.unlessAbandoned(this.getProducer().then((producer) => producer.send({ topic, messages, acks: -1 })));
  }

  /**
   * At shutdown: publishes under way are no longer waited for — they reject as not published, so
   * their callers leave the rows unsent (kafkajs may still deliver them before the process ends:
   * at least once, consumers dedupe) — and later publishes fail at once. kafkajs's own retries of an
   * unreachable cluster run for a minute and more; a stop cannot wait for them.
   */
  abandonPublishing(): number {
    this.abandoned ??= new PublishAbandonedError('publishing stopped: the service is shutting down');
    const underWay = [...this.publishing];
    this.publishing.clear();
    for (const reject of underWay) reject(this.abandoned);
    return underWay.length;
  }

  private unlessAbandoned<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.publishing.add(reject);
      work.then(resolve, reject).finally(() => this.publishing.delete(reject));
    });
  }

  consumer(config: Partial<ConsumerConfig> & { groupId: string }): Consumer {
    const consumer = this.kafka.consumer({
      sessionTimeout: this.config.kafka.sessionTimeoutMs,
      heartbeatInterval: this.config.kafka.heartbeatMs,
      rebalanceTimeout: Math.max(this.config.kafka.sessionTimeoutMs * 2, 10000),
      allowAutoTopicCreation: false,
      // kafkajs waits up to 5 s for data by default; a fetch held that long is latency added to
      // every item when traffic is light.
      maxWaitTimeInMs: this.config.kafka.maxWaitMs,
      maxBytesPerPartition: 2 * 1024 * 1024,
      retry: { initialRetryTime: 200, retries: 20, maxRetryTime: 5000 },
      ...config,
    });
    this.consumers.add(consumer);
    return consumer;
  }

  /**
   * Resolves when a metadata request succeeds against the brokers within 3 s (used by /health).
   * One admin connection is kept for it, not one per call: load balancers poll /health often.
   */
  ping(): Promise<void> {
    return this.probe();
  }

  private async getProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    if (!this.producerConnecting) {
      const producer = this.kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 10, initialRetryTime: 200 } });
      this.producerConnecting = producer
        .connect()
        .then(() => {
          this.producer = producer;
          return producer;
        })
        .finally(() => {
          this.producerConnecting = null;
        });
    }
    return this.producerConnecting;
  }

  async onModuleDestroy(): Promise<void> {
    await this.probe.close();
    await this.close();
  }

  /**
   * Stops publishing and disconnects the producer and the consumers together, each waited for at
   * most `timeoutMs`: against brokers that do not answer, a consumer's leave (and the commit before
   * it) is retried for a minute and more. What is not committed is redelivered to the group.
   */
  async close(timeoutMs = 5000): Promise<void> {
    this.abandonPublishing();
    const clients: Array<Consumer | Producer> = [...this.consumers, ...(this.producer ? [this.producer] : [])];
    this.consumers.clear();
    this.producer = null;
    await Promise.all(clients.map((c) => settleWithin(c.disconnect(), timeoutMs)));
  }
}
