import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { Tx } from '../database/sql';
import type { JobQueue, QueuedItem } from './job-queue';
import { JobRepository } from './job.repository';

const ANNOUNCED = 'jobs-announced';

/** The job queue port on ai_jobs, with the in-process news that wakes the runner. */
@Injectable()
export class PostgresJobQueue implements JobQueue {
  private readonly events = new EventEmitter();

  constructor(private readonly jobs: JobRepository) {}

  enqueue(tx: Tx, items: QueuedItem[], versions: Record<string, number[]>): Promise<void> {
    return this.jobs.insert(tx, items, versions);
  }

  announce(count: number): void {
    this.events.emit(ANNOUNCED, count);
  }

  onAnnounced(listener: (count: number) => void): void {
    this.events.on(ANNOUNCED, listener);
  }

  offAnnounced(listener: (count: number) => void): void {
    this.events.off(ANNOUNCED, listener);
  }
}
