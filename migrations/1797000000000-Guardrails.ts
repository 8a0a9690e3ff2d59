import { MigrationInterface, QueryRunner } from 'typeorm';

/** The guardrails' watermarks of a segment's stage (rollout/domain/guardrails.ts); null: since the stage began. */
export class Guardrails1797000000000 implements MigrationInterface {
  name = 'Guardrails1797000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE segments ADD COLUMN guardrail_state jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE segments DROP COLUMN guardrail_state`);
  }
}
