import { Inject, Injectable } from '@nestjs/common';
import type { IHeaders } from 'kafkajs';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { KafkaService, OutgoingMessage } from '../kafka/kafka.service';
import { MetricsService } from '../metrics/metrics.service';
import { reasonClass } from './domain/reason-class';
import type { Refused } from './ingest.service';

/**
 * Sends refused messages to the dead-letter topic: the raw bytes exactly as received, with the
 * reason and the source topic/partition/offset in headers (as Kafka Connect does), keyed as
 * the original. Resolves only once Kafka has them, so the caller may then commit the offsets.
 */
@Injectable()
export class DlqPublisher {
  private readonly log: Logger;

  constructor(
    private readonly kafka: KafkaService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'dlq' });
  }

  async publish(refused: Refused[]): Promise<void> {
    if (refused.length === 0) return;
    const topic = this.config.kafka.topics.dlq;
    const messages = refused.map((r) => this.toDlq(r, false));
    try {
      await this.kafka.publish(topic, messages);
    } catch (e) {
      if (!/too large|MESSAGE_TOO_LARGE/i.test(errorMessage(e))) throw e;
      // The reason headers pushed a near-limit message over the broker's size limit:
      // send each one alone, truncating only those the broker refuses, and say so in a header.
      for (const r of refused) {
        try {
          await this.kafka.publish(topic, [this.toDlq(r, false)]);
        } catch (inner) {
          if (!/too large|MESSAGE_TOO_LARGE/i.test(errorMessage(inner))) throw inner;
          await this.kafka.publish(topic, [this.toDlq(r, true)]);
        }
      }
    }
    for (const r of refused) {
      this.metrics.dlq.inc({ topic: r.message.topic, reason: reasonClass(r.reason) });
      this.log.warn(
        { topic: r.message.topic, partition: r.message.partition, offset: r.message.offset, reason: r.reason.slice(0, 500) },
        'message refused and sent to the DLQ',
      );
    }
  }

  private toDlq(r: Refused, truncate: boolean): OutgoingMessage {
    const m = r.message;
    const value = m.value ?? Buffer.alloc(0);
    // The producer's own headers and key bytes go with the message, unchanged, beside ours.
    const headers: IHeaders = {
      ...(m.headers as IHeaders | undefined),
      'x-understudy-reason': r.reason.slice(0, 2000),
      'x-understudy-source-topic': m.topic,
      'x-understudy-source-partition': String(m.partition),
      'x-understudy-source-offset': m.offset,
      'x-understudy-source-timestamp': m.timestamp,
      'x-understudy-refused-at': new Date().toISOString(),
      'x-understudy-original-bytes': String(value.length),
    };
    if (truncate) headers['x-understudy-truncated'] = 'true';
    return { key: m.key, value: truncate ? value.subarray(0, 64 * 1024) : value, headers };
  }
}
