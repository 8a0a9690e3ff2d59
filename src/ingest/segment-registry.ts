import type { Tx } from '../database/sql';

/**
 * Where segments are registered: the `segments` table belongs to rollout (it holds each segment's
 * stage, threshold and flag split), so ingest, which sees a segment first, registers it through this
 * port; the composition root binds it to rollout's repository.
 */
export interface SegmentRegistry {
  /** Makes sure each (workflow, segment) has its row; a new one starts in shadow. In key order, so concurrent batches lock alike. */
  ensure(tx: Tx, keys: Array<{ workflow: string; segment: string }>): Promise<void>;
  /**
   * Takes the workflow's registration lock for the rest of the transaction (one instance at a time
   * may admit new segments, so two cannot both take the last place) and returns its known segments.
   */
  lockAndList(tx: Tx, workflow: string): Promise<Set<string>>;
}

export const SEGMENT_REGISTRY = Symbol('SEGMENT_REGISTRY');
