import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The workflow version whose evidence earned a segment's stage: a new champion earns its own, from
 * shadow. Existing rows stay null (the controller records the champion at its next look, no reset).
 */
export class SegmentVersion1796000000000 implements MigrationInterface {
  name = 'SegmentVersion1796000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE segments ADD COLUMN workflow_version integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE segments DROP COLUMN workflow_version`);
  }
}
