import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention and erasure of personal data (src/retention/domain/retention.ts has the rules).
 *
 * Each row that holds personal content records when it was removed, why (retention or erasure)
 * and a SHA-256 of what was removed. Partial indexes on the age of rows not yet removed let the
 * purge find its next batch without scanning what it already did; item_id indexes let an erasure
 * find one item in every workflow; the outbox is indexed by the AI decision a routing event carries.
 *
 * ai_decisions stays append-only with one exception: a single update that removes free text —
 * sets output_removed_at, empties raw_output, shortens error to a prefix of itself, replaces
 * decision values by "[removed]" keeping the keys — and changes nothing else. Anything else is
 * refused as before, whoever asks.
 */
export class PersonalDataRetention1796300000000 implements MigrationInterface {
  name = 'PersonalDataRetention1796300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE work_items
        ADD COLUMN input_sha256 text,
        ADD COLUMN input_removed_at timestamptz,
        ADD COLUMN input_removed_why text CHECK (input_removed_why IN ('retention', 'erasure'));
      ALTER TABLE human_decisions
        ADD COLUMN decision_sha256 text,
        ADD COLUMN free_text_removed_at timestamptz,
        ADD COLUMN free_text_removed_why text CHECK (free_text_removed_why IN ('retention', 'erasure'));
      ALTER TABLE ai_decisions
        ADD COLUMN output_sha256 text,
        ADD COLUMN output_removed_at timestamptz,
        ADD COLUMN output_removed_why text CHECK (output_removed_why IN ('retention', 'erasure'));
      ALTER TABLE outbox ADD COLUMN free_text_removed_at timestamptz;

      CREATE INDEX work_items_retention ON work_items (received_at, id) WHERE input_removed_at IS NULL;
      CREATE INDEX human_decisions_retention ON human_decisions (received_at, id) WHERE free_text_removed_at IS NULL;
      CREATE INDEX ai_decisions_retention ON ai_decisions (created_at, id) WHERE output_removed_at IS NULL;
      CREATE INDEX work_items_item_id ON work_items (item_id);
      CREATE INDEX human_decisions_item_id ON human_decisions (item_id);
      CREATE INDEX outbox_ai_decision ON outbox ((payload->>'aiDecisionId')) WHERE payload ? 'aiDecisionId';

      -- True when b is a with some values replaced by "[removed]": same keys, nothing else changed.
      CREATE FUNCTION understudy_only_removed(a jsonb, b jsonb) RETURNS boolean
      LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE
          WHEN a IS NULL OR b IS NULL THEN a IS NULL AND b IS NULL
          WHEN jsonb_typeof(a) <> 'object' OR jsonb_typeof(b) <> 'object' THEN a = b
          ELSE NOT EXISTS (
            SELECT 1 FROM jsonb_each(a) x FULL JOIN jsonb_each(b) y ON x.key = y.key
            WHERE x.key IS NULL OR y.key IS NULL OR (y.value <> x.value AND y.value <> '"[removed]"'::jsonb))
        END
      $$;

      -- ai_decisions is append-only, except for the one update that removes its free text.
      CREATE FUNCTION understudy_ai_decisions_guard() RETURNS trigger
      LANGUAGE plpgsql AS $$
      DECLARE
        free_text constant text[] := ARRAY['decision', 'raw_output', 'error', 'output_sha256', 'output_removed_at', 'output_removed_why'];
      BEGIN
        IF TG_OP = 'UPDATE'
           AND OLD.output_removed_at IS NULL AND NEW.output_removed_at IS NOT NULL
           AND NEW.output_removed_why IS NOT NULL AND NEW.output_sha256 IS NOT NULL
           AND NEW.raw_output IS NULL
           AND (NEW.error IS NULL OR (OLD.error IS NOT NULL AND starts_with(OLD.error, NEW.error)))
           AND understudy_only_removed(OLD.decision, NEW.decision)
           AND (to_jsonb(NEW) - free_text) = (to_jsonb(OLD) - free_text)
        THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$;
      DROP TRIGGER ai_decisions_append_only ON ai_decisions;
      CREATE TRIGGER ai_decisions_append_only BEFORE UPDATE OR DELETE ON ai_decisions
        FOR EACH ROW EXECUTE FUNCTION understudy_ai_decisions_guard();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER ai_decisions_append_only ON ai_decisions;
      CREATE TRIGGER ai_decisions_append_only BEFORE UPDATE OR DELETE ON ai_decisions
        FOR EACH ROW EXECUTE FUNCTION understudy_refuse_change();
      DROP FUNCTION understudy_ai_decisions_guard();
      DROP FUNCTION understudy_only_removed(jsonb, jsonb);
      DROP INDEX outbox_ai_decision, human_decisions_item_id, work_items_item_id, ai_decisions_retention,
        human_decisions_retention, work_items_retention;
      ALTER TABLE outbox DROP COLUMN free_text_removed_at;
      ALTER TABLE ai_decisions DROP COLUMN output_removed_why, DROP COLUMN output_removed_at, DROP COLUMN output_sha256;
      ALTER TABLE human_decisions DROP COLUMN free_text_removed_why, DROP COLUMN free_text_removed_at, DROP COLUMN decision_sha256;
      ALTER TABLE work_items DROP COLUMN input_removed_why, DROP COLUMN input_removed_at, DROP COLUMN input_sha256;
    `);
  }
}
