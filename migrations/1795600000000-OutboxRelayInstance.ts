import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An outbox row remembers which instance publishes it straight after its commit (the decision
 * writer hands the rows to that instance's relay in memory). Other relays, and that instance's own
 * poll, leave such rows alone for a grace period, so that a row is not sent twice in the normal
 * course; after it — the instance died or Kafka refused — any relay takes it.
 */
export class OutboxRelayInstance1795600000000 implements MigrationInterface {
  name = 'OutboxRelayInstance1795600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN relay_instance text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox DROP COLUMN relay_instance`);
  }
}
