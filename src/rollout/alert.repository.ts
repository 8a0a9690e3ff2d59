import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';

/** An alert whose webhook delivery is due, locked by the transaction that took it. */
export interface DueAlert {
  id: string;
  payload: unknown;
  attempts: number;
}

/** The alerts table: each alert raised, and the state of its webhook delivery (the table is the queue). */
@Injectable()
export class AlertRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /** Records an alert in the caller's transaction; `webhook` says whether a delivery is owed. Returns its id. */
  async insert(tx: Tx, a: { kind: string; workflow: string | null; segment: string | null; payload: unknown; webhook: boolean }): Promise<string> {
    const [row]: Array<{ id: string }> = await tx.query(
      `INSERT INTO alerts (kind, workflow, segment, payload, webhook_state) VALUES ($1, $2, $3, $4, $5) RETURNING id::text`,
      [a.kind, a.workflow, a.segment, a.payload, a.webhook ? 'pending' : 'none'],
    );
    return row.id;
  }

  /** The oldest alert whose delivery is due, locked (SKIP LOCKED: other instances take the next one); null when none is. */
  async takeDue(tx: Tx): Promise<DueAlert | null> {
    const [r]: DueAlert[] = await tx.query(
      `SELECT id::text, payload, webhook_attempts AS attempts FROM alerts
       WHERE webhook_state = 'pending' AND webhook_next_at <= now() ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    );
    return r ?? null;
  }

  async markDelivered(tx: Tx, id: string, attempts: number): Promise<void> {
    await tx.query(`UPDATE alerts SET webhook_state = 'delivered', webhook_attempts = $2, delivered_at = now() WHERE id = $1`, [id, attempts]);
  }

  /** A failed attempt: its error, and when to try again. */
  async markAttemptFailed(tx: Tx, id: string, attempts: number, error: string, retryInMs: number): Promise<void> {
    await tx.query(`UPDATE alerts SET webhook_attempts = $2, webhook_last_error = $3, webhook_next_at = now() + make_interval(secs => $4) WHERE id = $1`, [
      id,
      attempts,
      error,
      retryInMs / 1000,
    ]);
  }
}
