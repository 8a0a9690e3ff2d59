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

/**
 * Decides what leaves Understudy for each new champion decision and writes it (routing rows and
 * outbox rows) in the caller's transaction. Returns the action per AI decision id.
 */
export interface RoutingPlanner {
  plan(tx: Tx, decisions: RoutableDecision[], acc: RollupAccumulator): Promise<Map<string, string>>;
  /** Called after the transaction committed, e.g. to wake the outbox relay. */
  committed(): void;
}

export const ROUTING_PLANNER = Symbol('ROUTING_PLANNER');
