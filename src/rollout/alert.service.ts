import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import type { Tx } from '../database/sql';
import { OutboxRelay } from '../outbox/outbox.relay';
import { OutboxRepository } from '../outbox/outbox.repository';
import { nextAttemptDelayMs, SIGNATURE_HEADER, signWebhook } from './domain/alert-webhook';

export interface Alert {
  kind: string;
  workflow?: string;
  segment?: string;
  summary: string;
  details: Record<string, unknown>;
}

const WEBHOOK_BATCH = 20;

/**
 * Alerts go out two ways, both durable: to the alerts Kafka topic through the outbox (written in
 * the caller's transaction), and to the webhook URL, signed (HMAC-SHA256) and retried with backoff
 * until delivered. The alerts table is the queue, so a restart loses nothing: any instance picks
 * up what is still pending (a delivery cut short by a crash is sent again; the receiver dedupes on
 * X-Understudy-Alert-Id).
 */
@Injectable()
export class AlertService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  private sending = false;
  private readonly log: Logger;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'alerts' });
  }

  async raise(tx: Tx, alert: Alert): Promise<void> {
    const payload = { ...alert, raisedAt: new Date().toISOString(), source: 'understudy' };
    const [row] = await tx.query(
      `INSERT INTO alerts (kind, workflow, segment, payload, webhook_state) VALUES ($1, $2, $3, $4, $5) RETURNING id::text`,
      [alert.kind, alert.workflow ?? null, alert.segment ?? null, payload, this.config.controller.alertWebhookUrl ? 'pending' : 'none'],
    );
    await this.outbox.enqueue(tx, [
      {
        topic: this.config.kafka.topics.alerts,
        key: [alert.workflow, alert.segment].filter(Boolean).join('|') || alert.kind,
        payload: { alertId: row.id, ...payload },
      },
    ]);
    this.log.warn({ kind: alert.kind, workflow: alert.workflow, segment: alert.segment }, alert.summary);
  }

  /** Called after the raising transaction committed. */
  committed(): void {
    // Alert rows are not handed over: the relay's poll, woken now, publishes them.
    this.relay.committed();
    void this.deliverWebhooks();
  }

  onApplicationBootstrap(): void {
    if (!this.config.controller.alertWebhookUrl) return;
    this.timer = setInterval(() => void this.deliverWebhooks(), 1000);
    this.timer.unref();
  }

  async deliverWebhooks(): Promise<void> {
    const url = this.config.controller.alertWebhookUrl;
    const secret = this.config.controller.alertWebhookSecret;
    if (!url || !secret || this.sending) return;
    this.sending = true;
    try {
      // One alert per transaction: its row stays locked (SKIP LOCKED for other instances) while it
      // is sent, and a crash mid-send leaves it pending.
      for (let i = 0; i < WEBHOOK_BATCH; i += 1) {
        const sent = await this.dataSource.transaction(async (tx) => {
          const [r]: Array<{ id: string; payload: unknown; attempts: number }> = await tx.query(
            `SELECT id::text, payload, webhook_attempts AS attempts FROM alerts
             WHERE webhook_state = 'pending' AND webhook_next_at <= now() ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
          );
          if (!r) return false;
          const body = JSON.stringify({ alertId: r.id, ...(r.payload as object) });
          const attempts = r.attempts + 1;
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                [SIGNATURE_HEADER]: signWebhook(secret, body, Math.floor(Date.now() / 1000)),
                'x-understudy-alert-id': r.id,
                'x-understudy-attempt': String(attempts),
              },
              body,
              redirect: 'error',
              signal: AbortSignal.timeout(5000),
            });
            await res.body?.cancel().catch(() => undefined);
            if (!res.ok) throw new Error(`webhook answered ${res.status}`);
            await tx.query(`UPDATE alerts SET webhook_state = 'delivered', webhook_attempts = $2, delivered_at = now() WHERE id = $1`, [r.id, attempts]);
          } catch (e) {
            const { baseMs, maxMs } = this.config.controller.alertWebhookBackoff;
            const delayMs = nextAttemptDelayMs(attempts, baseMs, maxMs);
            await tx.query(
              `UPDATE alerts SET webhook_attempts = $2, webhook_last_error = $3, webhook_next_at = now() + make_interval(secs => $4) WHERE id = $1`,
              [r.id, attempts, errorMessage(e).slice(0, 500), delayMs / 1000],
            );
            this.log.warn({ alert: r.id, attempts, retryInMs: delayMs, err: errorMessage(e) }, 'alert webhook failed; will retry until delivered');
          }
          return true;
        });
        if (!sent) break;
      }
    } catch (e) {
      this.log.error({ err: errorMessage(e) }, 'delivering alert webhooks failed');
    } finally {
      this.sending = false;
    }
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
