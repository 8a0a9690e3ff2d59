import type { Tx } from '../database/sql';

/** An unsent outbox row as a publish guard sees it. */
export interface PendingMessage {
  id: string;
  topic: string;
  payload: unknown;
}

/**
 * What decides, when a message finally leaves, that it must not any more (a routing event that
 * waited while the kill switch was pulled, say). Declared here and implemented by the feature that
 * knows its messages, so the outbox depends on none of them; bound in the composition root.
 */
export interface PublishGuard {
  /** The rows of a claimed batch to withhold, with why (id → reason); read in the claiming transaction. */
  withheld(tx: Tx, rows: PendingMessage[]): Promise<Map<string, string>>;
}

export const PUBLISH_GUARD = Symbol('PUBLISH_GUARD');
