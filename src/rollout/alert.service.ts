import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import type { Tx } from '../database/sql';
import { RoutingService } from '../routing/routing.service';

export interface Alert {
  kind: string;
  workflow?: string;
  segment?: string;
  summary: string;
  details: Record<string, unknown>;
}

const MAX_WEBHOOK_ATTEMPTS = 8;

/**
 * Alerts go out two ways, both durable: to the alerts Kafka topic through the outbox (written in
 * the caller's transaction), and to the webhook URL, retried with backoff until delivered.
 */
@Injectable()
export class AlertService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  private sending = false;
  private readonly log: Logger;

  constructor(
    private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
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
    await tx.query(`INSERT INTO outbox (topic, message_key, payload) VALUES ($1, $2, $3)`, [
      this.config.kafka.topics.alerts,
      [alert.workflow, alert.segment].filter(Boolean).join('|') || alert.kind,
      { alertId: row.id, ...payload },
    ]);
    this.log.warn({ kind: alert.kind, workflow: alert.workflow, segment: alert.segment }, alert.summary);
  }

  /** Called after the raising transaction committed. */
  committed(): void {
    this.routing.wakeRelay();
    void this.deliverWebhooks();
  }

  onApplicationBootstrap(): void {
    if (!this.config.controller.alertWebhookUrl) return;
    this.timer = setInterval(() => void this.deliverWebhooks(), 1000);
    this.timer.unref();
  }

  async deliverWebhooks(): Promise<void> {
    const url = this.config.controller.alertWebhookUrl;
    if (!url || this.sending) return;
    this.sending = true;
    try {
      await this.dataSource.transaction(async (tx) => {
        const rows: Array<{ id: string; payload: unknown; attempts: number }> = await tx.query(
          `SELECT id::text, payload, webhook_attempts AS attempts FROM alerts
           WHERE webhook_state = 'pending' AND webhook_next_at <= now() ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED`,
        );
        for (const r of rows) {
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(r.payload),
              signal: AbortSignal.timeout(5000),
            });
            if (!res.ok) throw new Error(`webhook answered ${res.status}`);
            await tx.query(`UPDATE alerts SET webhook_state = 'delivered', webhook_attempts = webhook_attempts + 1, delivered_at = now() WHERE id = $1`, [r.id]);
          } catch (e) {
            const attempts = r.attempts + 1;
            const state = attempts >= MAX_WEBHOOK_ATTEMPTS ? 'failed' : 'pending';
            await tx.query(
              `UPDATE alerts SET webhook_state = $2, webhook_attempts = $3, webhook_last_error = $4,
                 webhook_next_at = now() + make_interval(secs => $5) WHERE id = $1`,
              [r.id, state, attempts, errorMessage(e).slice(0, 500), Math.min(300, 2 ** attempts)],
            );
            this.log.warn({ alert: r.id, attempts, err: errorMessage(e) }, state === 'failed' ? 'alert webhook gave up' : 'alert webhook failed; will retry');
          }
        }
      });
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
