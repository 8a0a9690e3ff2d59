import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Human parity is judged on the blind double-labelled items of a segment over the threshold
 * window: human_agreements is read by workflow, segment and time, beside the AI's comparison with
 * the first person.
 */
export class HumanParityPairs1795800000000 implements MigrationInterface {
  name = 'HumanParityPairs1795800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX human_agreements_segment_time ON human_agreements (workflow, segment, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX human_agreements_segment_time`);
  }
}
