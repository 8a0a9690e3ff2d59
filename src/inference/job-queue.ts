import type { Tx } from '../database/sql';

/** A work item just stored, whose AI jobs are to be queued. */
export interface QueuedItem {
  /** work_items.id */
  id: string;
  workflow: string;
  itemId: string;
}

/**
 * The AI job queue as other features see it: inference owns ai_jobs; ingest queues the jobs of the
 * items it stores through this port, in its own transaction, and never touches the table.
 */
export interface JobQueue {
  /** In the caller's transaction: one pending job per item and active version of its workflow (`versions`); a job already queued is not queued twice. */
  enqueue(tx: Tx, items: QueuedItem[], versions: Record<string, number[]>): Promise<void>;
  /** After the transaction that queued jobs committed: this instance's runner claims at once instead of at its next poll. */
  announce(count: number): void;
}

export const JOB_QUEUE = Symbol('JOB_QUEUE');
