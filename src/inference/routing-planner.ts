import type { RollupAccumulator } from '../comparison/domain/rollup';
import type { Tx } from '../database/sql';

/** A champion decision just stored, ready to be routed. */
export interface RoutableDecision {
  aiDecisionId: string;
  workflow: string;
  itemId: string;
  segment: string;
  version: number;
  valid: boolean;
  decision: Record<string, unknown> | null;
  confidence: number | null;
  model: string;
  promptVersion: string;
  receivedAt: Date;
}

/** What a batch's routing wrote: the action and stage per AI decision id, and what to do once it commits. */
export interface RoutingPlan {
  routes: Map<string, { action: string; stage: string | null; threshold: number | null }>;
  /** Called after the batch's transaction committed (e.g. hands its outbox rows to the relay); never after a rollback. */
  committed(): void;
}

/**
 * Decides what leaves Understudy for each new champion decision and writes it (routing rows and
 * outbox rows) in the caller's transaction.
 */
export interface RoutingPlanner {
  plan(tx: Tx, decisions: RoutableDecision[], acc: RollupAccumulator): Promise<RoutingPlan>;
}

export const ROUTING_PLANNER = Symbol('ROUTING_PLANNER');
