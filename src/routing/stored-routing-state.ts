import type { Tx } from '../database/sql';
import type { Stage } from '../flags/domain/stage';

/** A segment as routing reads it from PostgreSQL. */
export interface StoredSegmentRouting {
  workflow: string;
  segment: string;
  threshold: number | null;
  thresholdSource: 'none' | 'computed' | 'fixed';
  /** The stage as decided in PostgreSQL; null while nothing was decided for the segment. */
  stage: Stage | null;
  version: number | null;
  /** The factor the stage's blind share is multiplied by after a drift alarm (null: the base share). */
  auditFactor: number | null;
}

/**
 * The safety controls routing obeys as stored in PostgreSQL: the kill switch, and each segment's
 * decided stage and threshold. Rollout owns those tables; this port lets routing read them without
 * depending on rollout (which depends on routing), bound in the composition root (port-bindings.module.ts).
 */
export interface StoredRoutingState {
  /** The kill switch as last set through the API or adopted from Unleash. */
  killSwitch(tx?: Tx): Promise<boolean>;
  /** Every segment, or only those of `keys`. */
  segments(keys?: Array<{ workflow: string; segment: string }>, tx?: Tx): Promise<StoredSegmentRouting[]>;
}

export const STORED_ROUTING_STATE = Symbol('STORED_ROUTING_STATE');
