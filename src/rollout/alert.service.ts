import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import type { Tx } from '../database/sql';
import { OutboxRelay } from '../outbox/outbox.relay';
import { OutboxRepository } from '../outbox/outbox.repository';
import { AlertRepository } from './alert.repository';
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
    private readonly alerts: AlertRepository,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'alerts' });
  }

  async raise(tx: Tx, alert: Alert): Promise<void> {
    const payload = { ...alert, raisedAt: new Date().toISOString(), source: 'understudy' };
    const alertId = await this.alerts.insert(tx, {
      kind: alert.kind,
      workflow: alert.workflow ?? null,
      segment: alert.segment ?? null,
      payload,
      webhook: Boolean(this.config.controller.alertWebhookUrl),
    });
    await this.outbox.enqueue(tx, [
      {
        topic: this.config.kafka.topics.alerts,
        key: [alert.workflow, alert.segment].filter(Boolean).join('|') || alert.kind,
        payload: { alertId, ...payload },
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
        const sent = await this.alerts.transaction(async (tx) => {
          const r = await this.alerts.takeDue(tx);
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
            await this.alerts.markDelivered(tx, r.id, attempts);
          } catch (e) {
            const { baseMs, maxMs } = this.config.controller.alertWebhookBackoff;
            const delayMs = nextAttemptDelayMs(attempts, baseMs, maxMs);
            await this.alerts.markAttemptFailed(tx, r.id, attempts, errorMessage(e).slice(0, 500), delayMs);
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
