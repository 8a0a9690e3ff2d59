import { MigrationInterface, QueryRunner } from 'typeorm';

const COUNTERS = `n, agree, n_independent, agree_independent, n_review, agree_review, n_overridden, n_audit, agree_audit, conf_n,
  conf_agree, field_agree, hh_n, hh_agree, ai_calls, ai_ok, ai_invalid, ai_failed, ai_skipped, prompt_tokens, completion_tokens,
  cost_usd, latency_sum_ms, latency_hist, routed`;

/** Sums of the counters of a set of rollup rows (arrays element by element, counters in jsonb key by key). */
const SUMS = `sum(n), sum(agree), sum(n_independent), sum(agree_independent), sum(n_review), sum(agree_review), sum(n_overridden),
  sum(n_audit), sum(agree_audit), understudy_array_sum_agg(conf_n), understudy_array_sum_agg(conf_agree),
  understudy_jsonb_sum_agg(field_agree), sum(hh_n), sum(hh_agree), sum(ai_calls), sum(ai_ok), sum(ai_invalid), sum(ai_failed),
  sum(ai_skipped), sum(prompt_tokens), sum(completion_tokens), sum(cost_usd), sum(latency_sum_ms),
  understudy_array_sum_agg(latency_hist), understudy_jsonb_sum_agg(routed)`;

/** The same counters, negated (what a changed or removed minute row takes away from its hour). */
const NEGATED = `-n, -agree, -n_independent, -agree_independent, -n_review, -agree_review, -n_overridden, -n_audit, -agree_audit,
  understudy_array_scale(conf_n, -1), understudy_array_scale(conf_agree, -1), understudy_jsonb_scale(field_agree, -1), -hh_n,
  -hh_agree, -ai_calls, -ai_ok, -ai_invalid, -ai_failed, -ai_skipped, -prompt_tokens, -completion_tokens, -cost_usd,
  -latency_sum_ms, understudy_array_scale(latency_hist, -1), understudy_jsonb_scale(routed, -1)`;

const ADD_EXCLUDED = `n = h.n + EXCLUDED.n, agree = h.agree + EXCLUDED.agree, n_independent = h.n_independent + EXCLUDED.n_independent,
  agree_independent = h.agree_independent + EXCLUDED.agree_independent, n_review = h.n_review + EXCLUDED.n_review,
  agree_review = h.agree_review + EXCLUDED.agree_review, n_overridden = h.n_overridden + EXCLUDED.n_overridden,
  n_audit = h.n_audit + EXCLUDED.n_audit, agree_audit = h.agree_audit + EXCLUDED.agree_audit,
  conf_n = understudy_array_add(h.conf_n, EXCLUDED.conf_n), conf_agree = understudy_array_add(h.conf_agree, EXCLUDED.conf_agree),
  field_agree = understudy_jsonb_add(h.field_agree, EXCLUDED.field_agree), hh_n = h.hh_n + EXCLUDED.hh_n,
  hh_agree = h.hh_agree + EXCLUDED.hh_agree, ai_calls = h.ai_calls + EXCLUDED.ai_calls, ai_ok = h.ai_ok + EXCLUDED.ai_ok,
  ai_invalid = h.ai_invalid + EXCLUDED.ai_invalid, ai_failed = h.ai_failed + EXCLUDED.ai_failed,
  ai_skipped = h.ai_skipped + EXCLUDED.ai_skipped, prompt_tokens = h.prompt_tokens + EXCLUDED.prompt_tokens,
  completion_tokens = h.completion_tokens + EXCLUDED.completion_tokens, cost_usd = h.cost_usd + EXCLUDED.cost_usd,
  latency_sum_ms = h.latency_sum_ms + EXCLUDED.latency_sum_ms, latency_hist = understudy_array_add(h.latency_hist, EXCLUDED.latency_hist),
  routed = understudy_jsonb_add(h.routed, EXCLUDED.routed)`;

const HOUR = `date_trunc('hour', minute AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;

/** Adds the summed rows of a query (rollup_minute's columns) into their hours; keys in order, so concurrent writers lock hours alike. */
const addToHours = (rows: string) => `
  INSERT INTO rollup_hour AS h (workflow, segment, workflow_version, hour, ${COUNTERS})
  SELECT workflow, segment, workflow_version, ${HOUR} AS hour, ${SUMS}
  FROM (${rows}) x
  GROUP BY 1, 2, 3, 4
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (workflow, segment, workflow_version, hour) DO UPDATE SET ${ADD_EXCLUDED}`;

/**
 * Hourly rollups beside the per-minute ones. A report over a week read up to ~10,000 minute rows
 * per segment and summed their histograms and field counters row by row: over 1,000,000
 * comparisons, more than a second (BENCHMARKS.md). Reports now read whole hours from rollup_hour
 * (168 rows per segment and week) and only the minutes at the ends of a period from rollup_minute.
 *
 * rollup_hour is kept by the database itself: statement triggers on rollup_minute add what each
 * statement inserted, changed or removed to its hour, in the same transaction. So every writer of
 * minute rows — the service, a backfill, a fixture, an operator's correction — keeps the hours
 * exact, with no second write to forget.
 */
export class RollupHour1795500000000 implements MigrationInterface {
  name = 'RollupHour1795500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rollup_hour (
        workflow text NOT NULL,
        segment text NOT NULL,
        workflow_version integer NOT NULL,
        hour timestamptz NOT NULL,
        n bigint NOT NULL DEFAULT 0,
        agree bigint NOT NULL DEFAULT 0,
        n_independent bigint NOT NULL DEFAULT 0,
        agree_independent bigint NOT NULL DEFAULT 0,
        n_review bigint NOT NULL DEFAULT 0,
        agree_review bigint NOT NULL DEFAULT 0,
        n_overridden bigint NOT NULL DEFAULT 0,
        n_audit bigint NOT NULL DEFAULT 0,
        agree_audit bigint NOT NULL DEFAULT 0,
        conf_n bigint[] NOT NULL DEFAULT '{}',
        conf_agree bigint[] NOT NULL DEFAULT '{}',
        field_agree jsonb NOT NULL DEFAULT '{}',
        hh_n bigint NOT NULL DEFAULT 0,
        hh_agree bigint NOT NULL DEFAULT 0,
        ai_calls bigint NOT NULL DEFAULT 0,
        ai_ok bigint NOT NULL DEFAULT 0,
        ai_invalid bigint NOT NULL DEFAULT 0,
        ai_failed bigint NOT NULL DEFAULT 0,
        ai_skipped bigint NOT NULL DEFAULT 0,
        prompt_tokens bigint NOT NULL DEFAULT 0,
        completion_tokens bigint NOT NULL DEFAULT 0,
        cost_usd numeric(18, 8) NOT NULL DEFAULT 0,
        latency_sum_ms bigint NOT NULL DEFAULT 0,
        latency_hist bigint[] NOT NULL DEFAULT '{}',
        routed jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (workflow, segment, workflow_version, hour)
      );

      -- Multiplies an integer array, or the counters of a jsonb object, by k.
      CREATE FUNCTION understudy_array_scale(a bigint[], k bigint) RETURNS bigint[]
      LANGUAGE sql IMMUTABLE AS $$
        SELECT coalesce(array_agg(x * k ORDER BY i), '{}'::bigint[]) FROM unnest(a) WITH ORDINALITY AS t(x, i)
      $$;
      CREATE FUNCTION understudy_jsonb_scale(a jsonb, k bigint) RETURNS jsonb
      LANGUAGE sql IMMUTABLE AS $$
        SELECT coalesce(jsonb_object_agg(key, value::bigint * k), '{}'::jsonb) FROM jsonb_each_text(coalesce(a, '{}'::jsonb))
      $$;

      CREATE FUNCTION understudy_rollup_hour_inserted() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        ${addToHours('SELECT * FROM inserted_rows')};
        RETURN NULL;
      END
      $$;
      CREATE FUNCTION understudy_rollup_hour_updated() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        ${addToHours(`SELECT workflow, segment, workflow_version, minute, ${COUNTERS} FROM new_rows
                      UNION ALL SELECT workflow, segment, workflow_version, minute, ${NEGATED} FROM old_rows`)};
        RETURN NULL;
      END
      $$;
      CREATE FUNCTION understudy_rollup_hour_deleted() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        ${addToHours(`SELECT workflow, segment, workflow_version, minute, ${NEGATED} FROM deleted_rows`)};
        RETURN NULL;
      END
      $$;
      CREATE FUNCTION understudy_rollup_hour_truncated() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        TRUNCATE rollup_hour;
        RETURN NULL;
      END
      $$;
      CREATE TRIGGER rollup_minute_to_hour_insert AFTER INSERT ON rollup_minute
        REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION understudy_rollup_hour_inserted();
      CREATE TRIGGER rollup_minute_to_hour_update AFTER UPDATE ON rollup_minute
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION understudy_rollup_hour_updated();
      CREATE TRIGGER rollup_minute_to_hour_delete AFTER DELETE ON rollup_minute
        REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION understudy_rollup_hour_deleted();
      CREATE TRIGGER rollup_minute_to_hour_truncate AFTER TRUNCATE ON rollup_minute
        FOR EACH STATEMENT EXECUTE FUNCTION understudy_rollup_hour_truncated();

      -- The hours already counted in rollup_minute.
      ${addToHours('SELECT * FROM rollup_minute')};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER rollup_minute_to_hour_insert ON rollup_minute;
      DROP TRIGGER rollup_minute_to_hour_update ON rollup_minute;
      DROP TRIGGER rollup_minute_to_hour_delete ON rollup_minute;
      DROP TRIGGER rollup_minute_to_hour_truncate ON rollup_minute;
      DROP FUNCTION understudy_rollup_hour_inserted(), understudy_rollup_hour_updated(), understudy_rollup_hour_deleted(),
        understudy_rollup_hour_truncated();
      DROP FUNCTION understudy_array_scale(bigint[], bigint), understudy_jsonb_scale(jsonb, bigint);
      DROP TABLE rollup_hour;
    `);
  }
}
