import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ai_decisions_segment_time (workflow, segment, created_at) was read by no query, and while the
 * table's statistics lag behind its growth (a new deployment, a burst, every test database) the
 * planner chose it for the claim's "no decision stored yet" check, filtering a workflow's every
 * decision per job: 95 ms per claim at 15,000 decisions, the largest share of PostgreSQL's CPU in
 * `npm run bench`. Without it the check has only the unique (workflow, item_id, workflow_version)
 * index to use, and every stored decision costs one index write less.
 */
export class PlanSafeQueueIndexes1796600000000 implements MigrationInterface {
  name = 'PlanSafeQueueIndexes1796600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ai_decisions_segment_time`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ai_decisions_segment_time ON ai_decisions (workflow, segment, created_at)`);
  }
}
