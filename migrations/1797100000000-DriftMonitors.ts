import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The label-free drift monitors (rollout/domain/drift-watch.ts): valid answers per decision cell
 * (confidence bin × answer on the label field) in each rollup minute, and per segment the monitor's
 * state and the blind share it raised (routing multiplies the stage's audit or blind share by it).
 */
export class DriftMonitors1797100000000 implements MigrationInterface {
  name = 'DriftMonitors1797100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE rollup_minute ADD COLUMN decision_cells jsonb NOT NULL DEFAULT '{}';
      ALTER TABLE segments ADD COLUMN drift_monitor jsonb;
      ALTER TABLE segments ADD COLUMN audit_factor double precision CHECK (audit_factor IS NULL OR audit_factor >= 1);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE segments DROP COLUMN audit_factor;
      ALTER TABLE segments DROP COLUMN drift_monitor;
      ALTER TABLE rollup_minute DROP COLUMN decision_cells;
    `);
  }
}
