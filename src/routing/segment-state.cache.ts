import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';
import type { Stage } from '../flags/domain/stage';
import { STORED_ROUTING_STATE, StoredRoutingState } from './stored-routing-state';

export interface SegmentRouting {
  threshold: number | null;
  thresholdSource: 'none' | 'computed' | 'fixed';
  /**
   * The segment's stage as decided in PostgreSQL (a move, a rollback, a revert, an adopted operator
   * change): routing never goes above it. Null while nothing was decided for the segment yet (a row
   * ingest created, whose default stage is no decision): the flag alone decides.
   */
  stage: Stage | null;
  /** The workflow version that earned the stage (null: not recorded yet). */
  version: number | null;
  /** The factor the stage's blind share is multiplied by after a drift alarm (null: the base share). */
  auditFactor: number | null;
}

const REFRESH_MS = 1000;

/**
 * What routing needs from PostgreSQL (through StoredRoutingState), cached for the hot path and read again every second: per
 * segment the confidence threshold in force and the stored stage, and the kill switch as last set
 * through the API or adopted from Unleash. These are the safety controls that hold when Unleash
 * does not answer: a rollback, a revert and the kill switch reach every instance within REFRESH_MS.
 */
@Injectable()
export class SegmentStateCache implements OnModuleDestroy {
  private state = new Map<string, SegmentRouting>();
  private storedKillSwitch = false;
  private loadedAt = 0;
  private loading: Promise<void> | null = null;
  private readonly log: Logger;

  constructor(
    @Inject(STORED_ROUTING_STATE) private readonly stored: StoredRoutingState,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'segment-cache' });
  }

  async get(workflow: string, segment: string): Promise<SegmentRouting> {
    await this.ensureFresh();
    return this.state.get(`${workflow}\u0001${segment}`) ?? { threshold: null, thresholdSource: 'none', stage: null, version: null, auditFactor: null };
  }

  /** The kill switch as stored in PostgreSQL (the flag's own state is checked beside it). */
  async killSwitch(): Promise<boolean> {
    await this.ensureFresh();
    return this.storedKillSwitch;
  }

  /** Forget the cache now (after a change made in this process). */
  invalidate(): void {
    this.loadedAt = 0;
  }

  private async ensureFresh(): Promise<void> {
    if (Date.now() - this.loadedAt < REFRESH_MS) return;
    if (!this.loading) {
      this.loading = this.load().finally(() => {
        this.loading = null;
      });
    }
    await this.loading;
  }

  private async load(): Promise<void> {
    // Fresh from when the read began: a change committed during the read is seen by the next one.
    const started = Date.now();
    try {
      const rows = await this.stored.segments();
      const killSwitch = await this.stored.killSwitch();
      this.state = new Map(
        rows.map((r) => [
          `${r.workflow}\u0001${r.segment}`,
          { threshold: r.threshold, thresholdSource: r.thresholdSource, stage: r.stage, version: r.version, auditFactor: r.auditFactor ?? null },
        ]),
      );
      this.storedKillSwitch = killSwitch;
      this.loadedAt = started;
    } catch (e) {
      // Keep routing on the last known state; a stale state is safer than none.
      this.log.error({ err: errorMessage(e) }, 'reading segment thresholds failed');
      if (this.loadedAt === 0) throw e;
    }
  }

  onModuleDestroy(): void {
    this.state.clear();
  }
}
