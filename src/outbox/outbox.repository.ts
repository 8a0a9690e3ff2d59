import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';

/** A message to publish, written in the caller's transaction. */
export interface OutboxMessage {
  topic: string;
  key: string | null;
  payload: unknown;
}

/** An unsent row, locked by the transaction that claimed it. */
export interface UnsentOutboxRow {
  id: string;
  topic: string;
  key: string | null;
  payload: unknown;
}

/** A row whose payload retention rewrote (its free text gone). */
export interface OutboxPayloadRow {
  id: string;
  payload: Record<string, unknown>;
}

/**
 * The only place that writes the outbox: features enqueue their messages in their own
 * transactions (so a message leaves if and only if what it announces committed), the relay claims,
 * publishes and marks them, and retention rewrites payloads that carried personal content.
 */
@Injectable()
export class OutboxRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /**
   * Writes messages in the caller's transaction and returns their ids in the order given.
   * `relayInstance` names the instance whose relay publishes them straight after the commit (the
   * poll leaves them alone for a grace period); null leaves them to the poll.
   */
  async enqueue(tx: Tx, messages: OutboxMessage[], relayInstance: string | null = null): Promise<string[]> {
    if (messages.length === 0) return [];
    // Ids drawn beside each message's position, so that they come back in the messages' order
    // (RETURNING promises no order).
    const rows: Array<{ id: string }> = await tx.query(
      `WITH m AS MATERIALIZED (
         SELECT nextval('outbox_id_seq') AS id, x.m, x.n FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(m, n)
       ), written AS (
         INSERT INTO outbox (id, topic, message_key, payload, relay_instance)
         SELECT id, m->>'topic', m->>'key', m->'payload', $2 FROM m
       )
       SELECT id::text FROM m ORDER BY n`,
      [JSON.stringify(messages.map((m) => ({ topic: m.topic, key: m.key, payload: m.payload }))), relayInstance],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Locks (SKIP LOCKED: several relays share the work) up to `limit` unsent rows, oldest first,
   * leaving alone for `graceMs` the rows an instance's relay was handed straight after their commit.
   */
  claimUnsent(tx: Tx, limit: number, graceMs: number): Promise<UnsentOutboxRow[]> {
    return tx.query(
      `SELECT id::text, topic, message_key AS key, payload FROM outbox
       WHERE sent_at IS NULL AND (relay_instance IS NULL OR created_at < now() - make_interval(secs => $2::double precision / 1000))
       ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit, graceMs],
    );
  }

  /** Rows published: marked sent, unless a relay that published them too marked them first. */
  async markSent(ids: string[], tx?: Tx): Promise<void> {
    await (tx ?? this.dataSource.manager).query(`UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[]) AND sent_at IS NULL`, [
      ids,
    ]);
  }

  /** Rows withheld at publish time: done, with why (id → reason). */
  async markWithheld(tx: Tx, reasons: Map<string, string>): Promise<void> {
    await tx.query(
      `UPDATE outbox o SET sent_at = now(), withheld_reason = w.reason
       FROM unnest($1::bigint[], $2::text[]) AS w(id, reason) WHERE o.id = w.id AND o.sent_at IS NULL`,
      [[...reasons.keys()], [...reasons.values()]],
    );
  }

  /**
   * A publish that failed: the attempt and its error, on the rows. Inside the claiming transaction
   * when there is one: the rows are locked by it, so another connection's update would wait for its
   * commit — which waits for that update.
   */
  async markFailed(ids: string[], error: string, tx?: Tx): Promise<void> {
    await (tx ?? this.dataSource.manager).query(`UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`, [ids, error]);
  }

  /** Rows not published yet. */
  async unsentCount(): Promise<number> {
    const [r]: Array<{ n: number }> = await this.dataSource.query(`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL`);
    return r.n;
  }

  // ---- retention and erasure ----

  /** Messages that carried these AI decisions (routing events) and still hold their free text, locked. */
  payloadsOfAiDecisions(tx: Tx, aiDecisionIds: string[]): Promise<OutboxPayloadRow[]> {
    if (aiDecisionIds.length === 0) return Promise.resolve([]);
    return tx.query(
      `SELECT id::text, payload FROM outbox
       WHERE payload ? 'aiDecisionId' AND payload->>'aiDecisionId' = ANY($1::text[]) AND free_text_removed_at IS NULL
       ORDER BY id FOR NO KEY UPDATE`,
      [aiDecisionIds],
    );
  }

  /** Replaces payloads by their version without free text, once; returns how many rows changed. */
  async removeFreeText(tx: Tx, rows: OutboxPayloadRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const [, n] = await tx.query(
      `UPDATE outbox o SET payload = x.payload, free_text_removed_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, payload jsonb)
       WHERE o.id = x.id AND o.free_text_removed_at IS NULL`,
      [JSON.stringify(rows)],
    );
    return n;
  }
}
