import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { KafkaService } from '../kafka/kafka.service';
import { MetricsService } from '../metrics/metrics.service';
import { byTopic, nextPoll } from './domain/relay-turn';
import { OutboxRepository } from './outbox.repository';
import { PUBLISH_GUARD, PublishGuard } from './publish-guard';

const BATCH = 500;
const POLL_MS = 500;
/**
 * How long the poll leaves a row alone that an instance's relay was handed straight after its
 * commit. Such a row normally leaves within milliseconds; one still unsent after this — its
 * instance died, or Kafka refused it — is published by whichever relay polls next.
 */
export const DIRECT_GRACE_MS = 5000;
/** Direct publishes in flight at most; beyond (Kafka slow or down), rows wait for the poll. */
const MAX_DIRECT_IN_FLIGHT = 16;

/** An outbox row as it goes to Kafka. */
interface OutgoingRow {
  id: string;
  topic: string;
  key: string | null;
  value: string;
}

/** An outbox row this instance's relay publishes straight after the commit that wrote it. */
export interface DirectOutboxRow {
  id: string;
  topic: string;
  key: string;
  value: string;
}

/**
 * Publishes outbox rows to Kafka and marks them sent, two ways. Rows the decision writer of this
 * instance just committed are handed over in memory and published at once (the way with the least
 * latency: no poll, no read). Everything else — alerts, rows of instances without a relay, rows a
 * direct publish failed on or whose instance died — is found by a poll: rows are locked
 * (SKIP LOCKED) while being published, so several instances share the work without sending a row
 * twice at once. A crash after publishing and before marking re-sends a row (at least once:
 * consumers dedupe on eventId). Before a polled row leaves, the publish guard (bound in the
 * composition root) may withhold it.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private wokenWhileBusy = false;
  private readonly log: Logger;
  private readonly direct = new Set<Promise<void>>();
  private failures = 0;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly kafka: KafkaService,
    @Inject(PUBLISH_GUARD) private readonly guard: PublishGuard,
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
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp();
    await this.loop;
    await Promise.all([...this.direct]);
  }

  /**
   * Called after a transaction that wrote outbox rows committed: the rows given (written with this
   * instance as their relay_instance) are published at once; without rows, the poll looks now
   * rather than at its next turn. Nothing happens where this instance does not run the relay.
   */
  committed(rows?: DirectOutboxRow[]): void {
    if (!this.running) return;
    if (rows && rows.length > 0) this.publishDirect(rows);
    else this.wakeUp();
  }

  /**
   * Publishes rows this instance just committed, without reading them back, and marks them sent.
   * Concurrent with the poll and with other direct publishes: the poll leaves these rows alone for
   * DIRECT_GRACE_MS. On failure the rows stay unsent and the poll takes them after the grace.
   */
  private publishDirect(rows: DirectOutboxRow[]): void {
    if (!this.running || this.direct.size >= MAX_DIRECT_IN_FLIGHT) return;
    const p = this.sendDirect(rows).finally(() => this.direct.delete(p));
    this.direct.add(p);
  }

  private async sendDirect(rows: DirectOutboxRow[]): Promise<void> {
    try {
      await this.publish(rows);
    } catch (e) {
      this.log.warn(
        { err: errorMessage(e), rows: rows.length, retryAfterMs: DIRECT_GRACE_MS },
        'publishing committed outbox rows failed; the poll will retry them',
      );
      await this.outbox
        .markFailed(
          rows.map((r) => r.id),
          errorMessage(e).slice(0, 1000),
        )
        .catch(() => undefined);
      return;
    }
    try {
      await this.outbox.markSent(rows.map((r) => r.id));
    } catch (e) {
      // Published but not marked: the poll publishes them again after the grace (at least once).
      this.log.warn({ err: errorMessage(e), rows: rows.length }, 'marking published outbox rows sent failed; they will be sent again');
    }
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
      // Stopping: not another batch, nor a backoff to sit out (stop() waits for this loop).
      if (!this.running) break;
      const next = nextPoll({ finished: sent, batch: BATCH, failures: this.failures, wokenWhileBusy: this.wokenWhileBusy, pollMs: POLL_MS });
      if (next.now) {
        if (next.consumesWake) this.wokenWhileBusy = false;
        continue;
      }
      const wait = next.waitMs;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(t);
          // After a failure, back off even when new rows arrive (but not when stopping).
          if (this.failures === 0 || !this.running) resolve();
          else setTimeout(resolve, wait).unref();
        };
      });
    }
  }

  /** Publishes one batch; returns how many rows it finished (published or withheld), or throws what the publish failed with. */
  async relayOnce(): Promise<number> {
    const result = await this.outbox.transaction(async (tx): Promise<{ sent: number; withheld?: number; error?: unknown }> => {
      const rows = await this.outbox.claimUnsent(tx, BATCH, DIRECT_GRACE_MS);
      if (rows.length === 0) return { sent: 0 };
      // Messages that waited (routing events) may no longer be true: checked before they leave.
      const withheld = await this.guard.withheld(tx, rows);
      if (withheld.size > 0) {
        await this.outbox.markWithheld(tx, withheld);
        this.log.warn({ rows: withheld.size, reasons: [...new Set(withheld.values())] }, 'routing events withheld at publish time');
      }
      const outgoing = rows.filter((r) => !withheld.has(r.id));
      const ids = outgoing.map((r) => r.id);
      if (outgoing.length === 0) return { sent: 0, withheld: withheld.size };
      try {
        await this.publish(outgoing.map((r) => ({ id: r.id, topic: r.topic, key: r.key, value: JSON.stringify(r.payload) })));
      } catch (error) {
        // In this transaction: the rows are locked by it, so another connection's update would
        // wait for its commit — which waits for that update.
        await this.outbox.markFailed(ids, errorMessage(error).slice(0, 1000), tx);
        return { sent: 0, error };
      }
      await this.outbox.markSent(ids, tx);
      return { sent: outgoing.length, withheld: withheld.size };
    });
    if (result.error !== undefined) throw result.error;
    return result.sent + (result.withheld ?? 0);
  }

  /** Sends rows to their topics, one produce request per topic. */
  private async publish(rows: OutgoingRow[]): Promise<void> {
    for (const [topic, list] of byTopic(rows)) {
      await this.kafka.publish(
        topic,
        list.map((r) => ({ key: r.key, value: r.value, headers: { 'x-understudy-outbox-id': r.id } })),
      );
    }
  }

  async pending(): Promise<number> {
    const n = await this.outbox.unsentCount();
    this.metrics.outboxPending.set(n);
    return n;
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }
}
