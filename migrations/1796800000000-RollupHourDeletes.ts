import { MigrationInterface, QueryRunner } from 'typeorm';

const COUNTERS = [
  'n',
  'agree',
  'n_independent',
  'agree_independent',
  'n_review',
  'agree_review',
  'n_overridden',
  'n_audit',
  'agree_audit',
  'conf_n',
  'conf_agree',
  'field_agree',
  'hh_n',
  'hh_agree',
  'ai_calls',
  'ai_ok',
  'ai_invalid',
  'ai_failed',
  'ai_skipped',
  'prompt_tokens',
  'completion_tokens',
  'cost_usd',
  'latency_sum_ms',
  'latency_hist',
  'routed',
];
const ARRAYS = new Set(['conf_n', 'conf_agree', 'latency_hist']);
const OBJECTS = new Set(['field_agree', 'routed']);

/** A minute row's counters negated, each under its own name (what a removed minute takes away from its hour). */
const NEGATED = COUNTERS.map((c) =>
  ARRAYS.has(c) ? `understudy_array_scale(${c}, -1) AS ${c}` : OBJECTS.has(c) ? `understudy_jsonb_scale(${c}, -1) AS ${c}` : `-${c} AS ${c}`,
).join(', ');

/**
 * rollup_hour's trigger for deleted minutes selected the negated counters without names, so the
 * hour's sums could not find them: every DELETE on rollup_minute failed ("column n does not
 * exist") — an operator's correction, or a future retention of old minutes, could not remove a
 * minute at all. (The update trigger names its columns through its first UNION branch.) Found by
 * test/integration/hourly-rollups.test.ts, which deletes minutes.
 */
export class RollupHourDeletes1796800000000 implements MigrationInterface {
  name = 'RollupHourDeletes1796800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION understudy_rollup_hour_deleted() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO rollup_hour AS h (workflow, segment, workflow_version, hour, ${COUNTERS.join(', ')})
        SELECT workflow, segment, workflow_version, date_trunc('hour', minute AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
          ${COUNTERS.map((c) => (ARRAYS.has(c) ? `understudy_array_sum_agg(${c})` : OBJECTS.has(c) ? `understudy_jsonb_sum_agg(${c})` : `sum(${c})`)).join(', ')}
        FROM (SELECT workflow, segment, workflow_version, minute, ${NEGATED} FROM deleted_rows) x
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (workflow, segment, workflow_version, hour) DO UPDATE SET
          ${COUNTERS.map((c) =>
            ARRAYS.has(c)
              ? `${c} = understudy_array_add(h.${c}, EXCLUDED.${c})`
              : OBJECTS.has(c)
                ? `${c} = understudy_jsonb_add(h.${c}, EXCLUDED.${c})`
                : `${c} = h.${c} + EXCLUDED.${c}`,
          ).join(', ')};
        RETURN NULL;
      END
      $$;
    `);
  }

  async down(): Promise<void> {
    // The repaired function stays: the one before it fails on every delete.
  }
}
