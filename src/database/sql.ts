import { EntityManager } from 'typeorm';

/**
 * Runs `fn` in one transaction. Repositories take the EntityManager they are given, so a
 * service can put several writes (a decision, its comparisons, rollups and outbox rows)
 * into one commit.
 */
export type Tx = EntityManager;

/** Takes transaction-scoped advisory locks on item keys in a fixed order (no deadlocks between batches). */
export async function lockItems(tx: Tx, keys: Array<{ workflow: string; itemId: string }>): Promise<void> {
  if (keys.length === 0) return;
  const unique = [...new Set(keys.map((k) => `${k.workflow}\u0001${k.itemId}`))];
  await tx.query(`SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(x, 0) AS k FROM unnest($1::text[]) AS x ORDER BY 1) s`, [unique]);
}
