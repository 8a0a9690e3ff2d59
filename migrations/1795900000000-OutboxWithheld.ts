import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A routing event that waited in the outbox and is no longer true when the relay gets to it (kill
 * switch on, too late for people, segment rolled back) is withheld, not published: it is marked
 * done with the reason.
 */
export class OutboxWithheld1795900000000 implements MigrationInterface {
  name = 'OutboxWithheld1795900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN withheld_reason text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox DROP COLUMN withheld_reason`);
  }
}
