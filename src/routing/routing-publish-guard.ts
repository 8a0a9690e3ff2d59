import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import type { Tx } from '../database/sql';
import type { Stage } from '../flags/domain/stage';
import type { PendingMessage, PublishGuard } from '../outbox/publish-guard';
import { PendingRoutingEvent, PendingRoutingRow, segmentsOf, withheldRows } from './domain/withhold';
import { STORED_ROUTING_STATE, StoredRoutingState } from './stored-routing-state';

/**
 * The outbox's publish guard for routing events: one that waited (Kafka was down, or its relay
 * died) is checked against the kill switch, ROUTING_MAX_DELAY_MS and the stage stored now before it
 * leaves (domain/withhold.ts). Other topics pass untouched.
 */
@Injectable()
export class RoutingPublishGuard implements PublishGuard {
  constructor(
    @Inject(STORED_ROUTING_STATE) private readonly stored: StoredRoutingState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async withheld(tx: Tx, messages: PendingMessage[]): Promise<Map<string, string>> {
    const rows: PendingRoutingRow[] = messages
      .filter((m) => m.topic === this.config.kafka.topics.routing)
      .map((m) => ({ id: m.id, event: m.payload as PendingRoutingEvent }));
    if (rows.length === 0) return new Map();
    const killSwitch = await this.stored.killSwitch(tx);
    const segments = await this.stored.segments(segmentsOf(rows), tx);
    const stages = new Map<string, Stage | null>(segments.map((s) => [`${s.workflow}\u0001${s.segment}`, s.stage]));
    return withheldRows(rows, {
      now: new Date(),
      killSwitch,
      maxDelayMs: this.config.routing.maxDelayMs,
      storedStage: (w, s) => stages.get(`${w}\u0001${s}`) ?? null,
    });
  }
}
