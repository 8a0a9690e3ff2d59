import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API tokens may expire (null: never). Alert webhooks are now retried until delivered, so the
 * alerts an older version gave up on ('failed') go back to the queue: nothing raised is lost.
 */
export class TokenExpiry1796100000000 implements MigrationInterface {
  name = 'TokenExpiry1796100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz`);
    await q.query(`UPDATE alerts SET webhook_state = 'pending', webhook_next_at = now() WHERE webhook_state = 'failed'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_tokens DROP COLUMN expires_at`);
  }
}
