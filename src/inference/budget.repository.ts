import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';
import type { Amount } from './domain/budget-ledger';

/** PostgreSQL holds at least what an instance counts on: costs rounded up to the column's 8 decimals. */
const dbCost = (usd: number) => (Math.ceil(usd * 1e8) / 1e8).toFixed(8);

/** Entries in workflow order, so that concurrent transactions lock the rows alike. */
const sorted = (byWorkflow: Map<string, Amount>) => [...byWorkflow.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

/** The facts a claim is grown from, read under the workflow's budget row lock. */
export interface ClaimFacts {
  committed: Amount;
  /** The live claims of the other instances. */
  others: Amount;
}

/**
 * budget_usage (each workflow's committed usage per day) and budget_claims (the room each instance
 * holds for its calls in flight): the only SQL on either table.
 */
@Injectable()
export class BudgetRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** A workflow's committed usage on a day (zero when nothing is recorded). */
  async committedUsage(workflow: string, day: string): Promise<Amount> {
    const rows: Array<{ tokens: string; cost: string }> = await this.dataSource.query(
      `SELECT tokens::text, cost_usd::text AS cost FROM budget_usage WHERE workflow = $1 AND day = $2::date`,
      [workflow, day],
    );
    return { tokens: Number(rows[0]?.tokens ?? 0), cost: Number(rows[0]?.cost ?? 0) };
  }

  /**
   * In one transaction under the workflow's budget row lock: reads the committed usage and the other
   * instances' live claims (renewed within `claimTtlMs`), asks `decide` for this instance's new
   * claim, and stores it. Returns the claim stored, or null when `decide` found no room.
   */
  async growClaim(workflow: string, day: string, instance: string, claimTtlMs: number, decide: (facts: ClaimFacts) => Amount | null): Promise<Amount | null> {
    return this.dataSource.transaction(async (tx) => {
      await tx.query(`INSERT INTO budget_usage (workflow, day) VALUES ($1, $2::date) ON CONFLICT DO NOTHING`, [workflow, day]);
      const [committed] = await tx.query(`SELECT tokens::text, cost_usd::text AS cost FROM budget_usage WHERE workflow = $1 AND day = $2::date FOR UPDATE`, [
        workflow,
        day,
      ]);
      const [others] = await tx.query(
        `SELECT coalesce(sum(tokens), 0)::text AS tokens, coalesce(sum(cost_usd), 0)::text AS cost FROM budget_claims
         WHERE workflow = $1 AND day = $2::date AND instance <> $3 AND renewed_at > now() - $4 * interval '1 millisecond'`,
        [workflow, day, instance, claimTtlMs],
      );
      const claim = decide({
        committed: { tokens: Number(committed.tokens), cost: Number(committed.cost) },
        others: { tokens: Number(others.tokens), cost: Number(others.cost) },
      });
      if (!claim) return null;
      await tx.query(
        `INSERT INTO budget_claims (workflow, day, instance, tokens, cost_usd) VALUES ($1, $2::date, $3, $4, $5)
         ON CONFLICT (workflow, day, instance) DO UPDATE SET tokens = EXCLUDED.tokens, cost_usd = EXCLUDED.cost_usd, renewed_at = now()`,
        [workflow, day, instance, Math.ceil(claim.tokens), dbCost(claim.cost)],
      );
      return claim;
    });
  }

  /** Sets an instance's claim (shrunk: spare room given back) and renews it. */
  async setClaim(workflow: string, day: string, instance: string, claim: Amount): Promise<void> {
    await this.dataSource.query(
      `UPDATE budget_claims SET tokens = $4, cost_usd = $5, renewed_at = now() WHERE workflow = $1 AND day = $2::date AND instance = $3`,
      [workflow, day, instance, Math.ceil(claim.tokens), dbCost(claim.cost)],
    );
  }

  /** Renews the claims an instance still holds, so that a live instance's room does not expire. */
  async renewClaims(instance: string): Promise<void> {
    await this.dataSource.query(`UPDATE budget_claims SET renewed_at = now() WHERE instance = $1 AND (tokens > 0 OR cost_usd > 0)`, [instance]);
  }

  /** Gives an instance's room back at once (it is stopping) rather than leave it to expire. */
  async deleteClaims(instance: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM budget_claims WHERE instance = $1`, [instance]);
  }

  /**
   * In the caller's transaction: adds actual usage to the day's committed usage, and takes it out of
   * the instance's claims (the claim no longer holds what is now committed).
   */
  async commitUsage(tx: Tx, day: string, byWorkflow: Map<string, Amount>, instance: string): Promise<void> {
    const entries = sorted(byWorkflow);
    const params = [entries.map(([w]) => w), entries.map(([, u]) => u.tokens), entries.map(([, u]) => u.cost), day];
    await tx.query(
      `INSERT INTO budget_usage AS b (workflow, day, tokens, cost_usd)
       SELECT w, $4::date, t, c FROM unnest($1::text[], $2::bigint[], $3::numeric[]) AS x(w, t, c)
       ON CONFLICT (workflow, day) DO UPDATE SET tokens = b.tokens + EXCLUDED.tokens, cost_usd = b.cost_usd + EXCLUDED.cost_usd`,
      params,
    );
    await tx.query(
      `UPDATE budget_claims c SET tokens = greatest(0, c.tokens - x.t), cost_usd = greatest(0, c.cost_usd - x.c), renewed_at = now()
       FROM unnest($1::text[], $2::bigint[], $3::numeric[]) AS x(w, t, c)
       WHERE c.workflow = x.w AND c.day = $4::date AND c.instance = $5`,
      [...params, instance],
    );
  }
}
