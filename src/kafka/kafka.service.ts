import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Consumer, ConsumerConfig, IHeaders, Kafka, logLevel, LogEntry, Producer, SASLOptions } from 'kafkajs';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { LOGGER } from '../common/logger';
import { createSharedProbe, SharedProbe } from '../health/domain/shared-probe';

export interface OutgoingMessage {
  key: Buffer | string | null;
  value: Buffer | string;
  headers?: IHeaders;
}

/** The event bus: one kafkajs client, one shared producer, consumers made on demand. */
@Injectable()
export class KafkaService implements OnModuleDestroy {
  readonly kafka: Kafka;
  private producer: Producer | null = null;
  private producerConnecting: Promise<Producer> | null = null;
  private readonly consumers = new Set<Consumer>();
  private readonly log: Logger;
  private readonly probe: SharedProbe;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig, @Inject(LOGGER) logger: Logger) {
    this.log = logger.child({ component: 'kafka' });
    const log = this.log;
    if (config.kafka.sasl && config.kafka.ssl === false) log.warn({ mechanism: config.kafka.sasl.mechanism }, 'SASL without TLS: credentials and data cross the network in the clear');
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

  /** Publishes and resolves only once every broker acknowledged (acks = all). */
  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.getProducer();
    await producer.send({ topic, messages, acks: -1 });
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
    for (const c of this.consumers) await c.disconnect().catch(() => undefined);
    this.consumers.clear();
    if (this.producer) await this.producer.disconnect().catch(() => undefined);
    this.producer = null;
  }
}
