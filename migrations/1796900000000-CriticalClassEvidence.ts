import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Blind labels per critical class (comparison/domain/critical-classes.ts), per arm and AI-decision
 * minute beside the rest of the evidence: { "priority=urgent": [person chose it, AI chose it, both] }.
 * The class guards read them from evidence_minute; reports do not (evidence_hour does not keep them).
 */
export class CriticalClassEvidence1796900000000 implements MigrationInterface {
  name = 'CriticalClassEvidence1796900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- Adds two objects of count triples key by key, element by element.
      CREATE FUNCTION understudy_class_counts_add(a jsonb, b jsonb) RETURNS jsonb
      LANGUAGE sql IMMUTABLE AS $$
        SELECT coalesce(jsonb_object_agg(k, jsonb_build_array(
                 coalesce((a->k->>0)::bigint, 0) + coalesce((b->k->>0)::bigint, 0),
                 coalesce((a->k->>1)::bigint, 0) + coalesce((b->k->>1)::bigint, 0),
                 coalesce((a->k->>2)::bigint, 0) + coalesce((b->k->>2)::bigint, 0))), '{}'::jsonb)
        FROM (SELECT jsonb_object_keys(coalesce(a, '{}'::jsonb)) AS k
              UNION SELECT jsonb_object_keys(coalesce(b, '{}'::jsonb))) keys
      $$;
      CREATE AGGREGATE understudy_class_counts_sum_agg(jsonb) (SFUNC = understudy_class_counts_add, STYPE = jsonb, INITCOND = '{}');
      ALTER TABLE evidence_minute ADD COLUMN critical jsonb NOT NULL DEFAULT '{}';
      ALTER TABLE segments ADD COLUMN class_guards jsonb;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE segments DROP COLUMN class_guards;
      ALTER TABLE evidence_minute DROP COLUMN critical;
      DROP AGGREGATE understudy_class_counts_sum_agg(jsonb);
      DROP FUNCTION understudy_class_counts_add(jsonb, jsonb);
    `);
  }
}
