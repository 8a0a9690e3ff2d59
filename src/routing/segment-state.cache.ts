import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';

export interface SegmentRouting {
  threshold: number | null;
  thresholdSource: 'none' | 'computed' | 'fixed';
}

const REFRESH_MS = 1000;

/**
 * The confidence threshold in force per segment, read from the segments table (written by the
 * controller or set by a program manager) and cached for the routing hot path.
 */
@Injectable()
export class SegmentStateCache implements OnModuleDestroy {
  private state = new Map<string, SegmentRouting>();
  private loadedAt = 0;
  private loading: Promise<void> | null = null;
  private readonly log: Logger;

  constructor(private readonly dataSource: DataSource, @Inject(LOGGER) logger: Logger) {
    this.log = logger.child({ component: 'segment-cache' });
  }

  async get(workflow: string, segment: string): Promise<SegmentRouting> {
    await this.ensureFresh();
    return this.state.get(`${workflow}\u0001${segment}`) ?? { threshold: null, thresholdSource: 'none' };
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
    try {
      const rows: Array<{ workflow: string; segment: string; threshold: number | null; source: SegmentRouting['thresholdSource'] }> = await this.dataSource.query(
        `SELECT workflow, segment, threshold, threshold_source AS source FROM segments`,
      );
      this.state = new Map(rows.map((r) => [`${r.workflow}\u0001${r.segment}`, { threshold: r.threshold, thresholdSource: r.source }]));
      this.loadedAt = Date.now();
    } catch (e) {
      // Keep routing on the last known thresholds; a stale threshold is safer than none.
      this.log.error({ err: errorMessage(e) }, 'reading segment thresholds failed');
      if (this.loadedAt === 0) throw e;
    }
  }

  onModuleDestroy(): void {
    this.state.clear();
  }
}
