import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API tokens may be scoped to workflows: such a token acts on and reads only those. NULL is every
 * workflow, so every existing token keeps working as before. An admin token is never scoped (admins
 * manage tokens, which spans every workflow), and a scope names at least one workflow.
 */
export class TokenWorkflowScope1796400000000 implements MigrationInterface {
  name = 'TokenWorkflowScope1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_tokens ADD COLUMN workflows text[]`);
    await q.query(
      `ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_workflows_scope CHECK (workflows IS NULL OR (cardinality(workflows) >= 1 AND role <> 'admin'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_tokens DROP COLUMN workflows`);
  }
}
