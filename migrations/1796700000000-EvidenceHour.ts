import { MigrationInterface, QueryRunner } from 'typeorm';

const COUNTERS = `blind_n, blind_agree, anchored_n, anchored_agree, anchored_overridden, conf_n, conf_agree`;

const SUMS = `sum(blind_n), sum(blind_agree), sum(anchored_n), sum(anchored_agree), sum(anchored_overridden),
  understudy_array_sum_agg(conf_n), understudy_array_sum_agg(conf_agree)`;

/** The same counters negated, under their own names (what a changed or removed minute takes away from its hour). */
const NEGATED = `-blind_n AS blind_n, -blind_agree AS blind_agree, -anchored_n AS anchored_n, -anchored_agree AS anchored_agree,
  -anchored_overridden AS anchored_overridden, understudy_array_scale(conf_n, -1) AS conf_n, understudy_array_scale(conf_agree, -1) AS conf_agree`;

const ADD_EXCLUDED = `blind_n = h.blind_n + EXCLUDED.blind_n, blind_agree = h.blind_agree + EXCLUDED.blind_agree,
  anchored_n = h.anchored_n + EXCLUDED.anchored_n, anchored_agree = h.anchored_agree + EXCLUDED.anchored_agree,
  anchored_overridden = h.anchored_overridden + EXCLUDED.anchored_overridden,
  conf_n = understudy_array_add(h.conf_n, EXCLUDED.conf_n), conf_agree = understudy_array_add(h.conf_agree, EXCLUDED.conf_agree)`;

const HOUR = `date_trunc('hour', minute AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;

/** Adds the summed rows of a query (evidence_minute's key and counters) into their hours; keys in order, so concurrent writers lock hours alike. */
const addToHours = (rows: string) => `
  INSERT INTO evidence_hour AS h (workflow, segment, workflow_version, arm, hour, ${COUNTERS})
  SELECT workflow, segment, workflow_version, arm, ${HOUR} AS hour, ${SUMS}
  FROM (${rows}) x
  GROUP BY 1, 2, 3, 4, 5
  ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (workflow, segment, workflow_version, arm, hour) DO UPDATE SET ${ADD_EXCLUDED}`;

/**
 * Hourly evidence beside the per-minute evidence, as rollup_hour is beside rollup_minute. The
 * agreement report shows blind and anchored labels per group and arm; over a month it summed
 * ~780,000 evidence_minute rows, and the minutes at the ends of its period were found by a
 * sequential scan (the primary key starts with the segment): 280 ms of the report's time at
 * 10,000,000 comparisons. Reports now read whole hours here and the end minutes by
 * evidence_minute_time (5 ms). Decisions (gate, threshold, guard) keep reading evidence_minute:
 * their periods start at a minute and they need last_label_at, which hours do not keep.
 *
 * Kept by the database: statement triggers on evidence_minute add what each statement inserted,
 * changed or removed to its hour in the same transaction, so every writer keeps the hours exact.
 */
export class EvidenceHour1796700000000 implements MigrationInterface {
  name = 'EvidenceHour1796700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE evidence_hour (
        workflow text NOT NULL,
        segment text NOT NULL,
        workflow_version integer NOT NULL,
        arm text NOT NULL CHECK (arm IN ('shadow', 'supervised', 'confidence-routed')),
        hour timestamptz NOT NULL,
        blind_n bigint NOT NULL DEFAULT 0,
        blind_agree bigint NOT NULL DEFAULT 0,
        anchored_n bigint NOT NULL DEFAULT 0,
        anchored_agree bigint NOT NULL DEFAULT 0,
        anchored_overridden bigint NOT NULL DEFAULT 0,
        conf_n bigint[] NOT NULL DEFAULT '{}',
        conf_agree bigint[] NOT NULL DEFAULT '{}',
        PRIMARY KEY (workflow, segment, workflow_version, arm, hour)
      );
      -- The minutes at the ends of a report period, across segments: without it, a sequential scan of every minute.
      CREATE INDEX evidence_minute_time ON evidence_minute (minute);

      CREATE FUNCTION understudy_evidence_hour_inserted() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        ${addToHours(`SELECT workflow, segment, workflow_version, arm, minute, ${COUNTERS} FROM inserted_rows`)};
        RETURN NULL;
      END
      $$;
      CREATE FUNCTION understudy_evidence_hour_updated() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        ${addToHours(`SELECT workflow, segment, workflow_version, arm, minute, ${COUNTERS} FROM new_rows
                      UNION ALL SELECT workflow, segment, workflow_version, arm, minute, ${NEGATED} FROM old_rows`)};
        RETURN NULL;
      END
      $$;
      CREATE FUNCTION understudy_evidence_hour_deleted() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        ${addToHours(`SELECT workflow, segment, workflow_version, arm, minute, ${NEGATED} FROM deleted_rows`)};
        RETURN NULL;
      END
      $$;
      CREATE FUNCTION understudy_evidence_hour_truncated() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        TRUNCATE evidence_hour;
        RETURN NULL;
      END
      $$;
      CREATE TRIGGER evidence_minute_to_hour_insert AFTER INSERT ON evidence_minute
        REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION understudy_evidence_hour_inserted();
      CREATE TRIGGER evidence_minute_to_hour_update AFTER UPDATE ON evidence_minute
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION understudy_evidence_hour_updated();
      CREATE TRIGGER evidence_minute_to_hour_delete AFTER DELETE ON evidence_minute
        REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION understudy_evidence_hour_deleted();
      CREATE TRIGGER evidence_minute_to_hour_truncate AFTER TRUNCATE ON evidence_minute
        FOR EACH STATEMENT EXECUTE FUNCTION understudy_evidence_hour_truncated();

      -- The hours already counted in evidence_minute.
      ${addToHours(`SELECT workflow, segment, workflow_version, arm, minute, ${COUNTERS} FROM evidence_minute`)};
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER evidence_minute_to_hour_insert ON evidence_minute;
      DROP TRIGGER evidence_minute_to_hour_update ON evidence_minute;
      DROP TRIGGER evidence_minute_to_hour_delete ON evidence_minute;
      DROP TRIGGER evidence_minute_to_hour_truncate ON evidence_minute;
      DROP FUNCTION understudy_evidence_hour_inserted(), understudy_evidence_hour_updated(), understudy_evidence_hour_deleted(),
        understudy_evidence_hour_truncated();
      DROP TABLE evidence_hour;
      DROP INDEX evidence_minute_time;
    `);
  }
}
