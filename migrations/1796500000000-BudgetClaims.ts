import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each instance's claim on a workflow's daily budget (room held for its calls in flight and its
 * unwritten usage), so that instances together stay within the budget. A claim not renewed for a
 * while belongs to an instance that is gone and no longer counts.
 */
export class BudgetClaims1796500000000 implements MigrationInterface {
  name = 'BudgetClaims1796500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE budget_claims (
        workflow text NOT NULL,
        day date NOT NULL,
        instance text NOT NULL,
        tokens bigint NOT NULL DEFAULT 0 CHECK (tokens >= 0),
        cost_usd numeric(18, 8) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
        renewed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workflow, day, instance)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE budget_claims`);
  }
}
