import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import { KafkaService } from '../kafka/kafka.service';
import { MetricsService } from '../metrics/metrics.service';
import type { Tx } from '../database/sql';
import type { Stage } from '../flags/domain/stage';
import { PendingRoutingEvent, PublishState, withholdReason } from './domain/withhold';
import { DirectOutboxRow, OUTBOX_WRITTEN, RoutingService } from './routing.service';
import { DECIDED_STAGE_SQL } from './segment-state.cache';

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
/** Rows published: marked sent, unless a relay that published them too marked them first. */
const MARK_SENT = `UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[]) AND sent_at IS NULL`;
/** Rows withheld at publish time: done, with why ($1 ids, $2 reasons in the same order). */
const MARK_WITHHELD = `UPDATE outbox o SET sent_at = now(), withheld_reason = w.reason
  FROM unnest($1::bigint[], $2::text[]) AS w(id, reason) WHERE o.id = w.id AND o.sent_at IS NULL`;
/** A publish that failed: the attempt and its error, on the rows ($1 ids, $2 error). */
const MARK_FAILED = `UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`;

/** An outbox row as it goes to Kafka. */
interface OutgoingRow {
  id: string;
  topic: string;
  key: string | null;
  value: string;
}

/**
 * Publishes outbox rows to Kafka and marks them sent, two ways. Rows the decision writer of this
 * instance just committed are handed over in memory and published at once (the way with the least
 * latency: no poll, no read). Everything else — alerts, rows of instances without a relay, rows a
 * direct publish failed on or whose instance died — is found by a poll: rows are locked
 * (SKIP LOCKED) while being published, so several instances share the work without sending a row
 * twice at once. A crash after publishing and before marking re-sends a row (at least once:
 * consumers dedupe on eventId).
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private wokenWhileBusy = false;
  private readonly log: Logger;
  private readonly onWritten = (rows?: DirectOutboxRow[]) => (rows && rows.length > 0 ? this.publishDirect(rows) : this.wakeUp());
  private readonly direct = new Set<Promise<void>>();
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
    await Promise.all([...this.direct]);
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
      this.log.warn({ err: errorMessage(e), rows: rows.length, retryAfterMs: DIRECT_GRACE_MS }, 'publishing committed outbox rows failed; the poll will retry them');
      await this.dataSource.query(MARK_FAILED, [rows.map((r) => r.id), errorMessage(e).slice(0, 1000)]).catch(() => undefined);
      return;
    }
    try {
      await this.dataSource.query(MARK_SENT, [rows.map((r) => r.id)]);
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
          // After a failure, back off even when new rows arrive (but not when stopping).
          if (this.failures === 0 || !this.running) resolve();
          else setTimeout(resolve, wait).unref();
        };
      });
    }
  }

  /** Publishes one batch; returns how many rows it finished (published or withheld), or throws what the publish failed with. */
  async relayOnce(): Promise<number> {
    const result = await this.dataSource.transaction(async (tx): Promise<{ sent: number; withheld?: number; error?: unknown }> => {
      const rows: Array<{ id: string; topic: string; key: string | null; payload: unknown }> = await tx.query(
        `SELECT id::text, topic, message_key AS key, payload FROM outbox
         WHERE sent_at IS NULL AND (relay_instance IS NULL OR created_at < now() - make_interval(secs => $2::double precision / 1000))
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH, DIRECT_GRACE_MS],
      );
      if (rows.length === 0) return { sent: 0 };
      // Routing events that waited may no longer be true: checked against PostgreSQL before they leave.
      const withheld = await this.withheld(tx, rows);
      if (withheld.size > 0) {
        await tx.query(MARK_WITHHELD, [[...withheld.keys()], [...withheld.values()]]);
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
        await tx.query(MARK_FAILED, [ids, errorMessage(error).slice(0, 1000)]);
        return { sent: 0, error };
      }
      await tx.query(MARK_SENT, [ids]);
      return { sent: outgoing.length, withheld: withheld.size };
    });
    if (result.error !== undefined) throw result.error;
    return result.sent + (result.withheld ?? 0);
  }

  /** The routing rows of a batch that must not be published any more, with why (domain/withhold.ts). */
  private async withheld(tx: Tx, rows: Array<{ id: string; topic: string; payload: unknown }>): Promise<Map<string, string>> {
    const routing = rows.filter((r) => r.topic === this.config.kafka.topics.routing);
    const out = new Map<string, string>();
    if (routing.length === 0) return out;
    const [kill] = await tx.query(`SELECT (state->>'enabled')::boolean AS enabled FROM flag_snapshots WHERE flag_name = $1`, [this.config.unleash.killSwitchFlag]);
    const events = routing.map((r) => ({ id: r.id, e: r.payload as PendingRoutingEvent }));
    const stages: Array<{ workflow: string; segment: string; stage: Stage | null }> = await tx.query(
      `SELECT workflow, segment, ${DECIDED_STAGE_SQL} AS stage FROM segments s JOIN jsonb_to_recordset($1::jsonb) AS k(workflow text, segment text) USING (workflow, segment)`,
      [JSON.stringify(events.map(({ e }) => ({ workflow: e.workflow, segment: e.segment })))],
    );
    const stored = new Map(stages.map((s) => [`${s.workflow}\u0001${s.segment}`, s.stage]));
    const state: PublishState = {
      now: new Date(),
      killSwitch: kill?.enabled === true,
      maxDelayMs: this.config.routing.maxDelayMs,
      storedStage: (w, s) => stored.get(`${w}\u0001${s}`) ?? null,
    };
    for (const { id, e } of events) {
      const reason = withholdReason(e, state);
      if (reason) out.set(id, reason);
    }
    return out;
  }

  /** Sends rows to their topics, one produce request per topic. */
  private async publish(rows: OutgoingRow[]): Promise<void> {
    const byTopic = new Map<string, OutgoingRow[]>();
    for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    for (const [topic, list] of byTopic) {
      await this.kafka.publish(topic, list.map((r) => ({ key: r.key, value: r.value, headers: { 'x-understudy-outbox-id': r.id } })));
    }
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
