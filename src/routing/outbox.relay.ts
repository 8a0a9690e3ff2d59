import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { KafkaService } from '../kafka/kafka.service';
import { MetricsService } from '../metrics/metrics.service';
import { OUTBOX_WRITTEN, RoutingService } from './routing.service';

const BATCH = 500;
const POLL_MS = 500;

/**
 * Publishes outbox rows to Kafka and marks them sent. Rows are locked (SKIP LOCKED) while being
 * published, so several instances share the work without sending a row twice at once; a crash
 * after publishing and before marking re-sends it (at least once: consumers dedupe on eventId).
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private wokenWhileBusy = false;
  private readonly log: Logger;
  private readonly onWritten = () => this.wakeUp();
  private failures = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly kafka: KafkaService,
    private readonly routing: RoutingService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'outbox-relay' });
  }

  onApplicationBootstrap(): void {
    if (this.config.roles.relay) this.start();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.routing.events.on(OUTBOX_WRITTEN, this.onWritten);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.routing.events.off(OUTBOX_WRITTEN, this.onWritten);
    this.wakeUp();
    await this.loop;
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    if (w) w();
    // Publishing a batch right now: rows committed meanwhile may not be in it, so look again at once
    // afterwards rather than at the next poll (up to POLL_MS later).
    else this.wokenWhileBusy = true;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.relayOnce();
        this.failures = 0;
      } catch (e) {
        this.failures++;
        this.log.error({ err: errorMessage(e), failures: this.failures }, 'publishing the outbox failed; will retry');
      }
      if (sent === BATCH) continue;
      if (this.wokenWhileBusy && this.failures === 0) {
        this.wokenWhileBusy = false;
        continue;
      }
      const wait = this.failures > 0 ? Math.min(10_000, 200 * 2 ** this.failures) : POLL_MS;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(t);
          // After a failure, back off even when new rows arrive.
          if (this.failures === 0) resolve();
          else setTimeout(resolve, wait).unref();
        };
      });
    }
  }

  /** Publishes one batch; returns how many rows were sent. */
  async relayOnce(): Promise<number> {
    return this.dataSource.transaction(async (tx) => {
      const rows: Array<{ id: string; topic: string; key: string | null; payload: unknown }> = await tx.query(
        `SELECT id::text, topic, message_key AS key, payload FROM outbox
         WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH],
      );
      if (rows.length === 0) return 0;
      const byTopic = new Map<string, typeof rows>();
      for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
      try {
        for (const [topic, list] of byTopic) {
          await this.kafka.publish(
            topic,
            list.map((r) => ({ key: r.key, value: JSON.stringify(r.payload), headers: { 'x-understudy-outbox-id': r.id } })),
          );
        }
      } catch (e) {
        await this.dataSource
          .query(`UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id), errorMessage(e).slice(0, 1000)])
          .catch(() => undefined);
        throw e;
      }
      await tx.query(`UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }

  async pending(): Promise<number> {
    const [r] = await this.dataSource.query(`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL`);
    this.metrics.outboxPending.set(r.n);
    return r.n;
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }
}
