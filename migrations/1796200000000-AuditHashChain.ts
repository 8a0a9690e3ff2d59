import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A hash chain over the audit log: each entry stores the previous entry's hash (`prev_hash`) and
 * the sha256 of that hash and its own canonical content (`hash`), computed by the database as the
 * entry is appended — by every writer, whatever it is — so `npm run audit:verify` can tell whether
 * an entry was changed, removed or inserted since. The rule is `src/audit/domain/audit-chain.ts`;
 * this is its SQL twin. Existing entries are hashed here, in id order.
 */
export class AuditHashChain1796200000000 implements MigrationInterface {
  name = 'AuditHashChain1796200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE audit_events ADD COLUMN prev_hash text, ADD COLUMN hash text;

      -- A field as '<UTF-8 byte length>:<text>', null as '-': unambiguous without escaping.
      CREATE FUNCTION understudy_audit_field(v text) RETURNS text
      LANGUAGE sql STABLE AS $$
        SELECT CASE WHEN v IS NULL THEN '-' ELSE octet_length(convert_to(v, 'UTF8'))::text || ':' || v END
      $$;

      CREATE FUNCTION understudy_audit_hash(prev text, id bigint, at timestamptz, actor text, actor_kind text, action text,
                                            workflow text, segment text, reason text, details jsonb) RETURNS text
      LANGUAGE sql STABLE AS $$
        SELECT encode(sha256(convert_to(
          understudy_audit_field(prev) || understudy_audit_field(id::text)
          || understudy_audit_field(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
          || understudy_audit_field(actor) || understudy_audit_field(actor_kind) || understudy_audit_field(action)
          || understudy_audit_field(workflow) || understudy_audit_field(segment) || understudy_audit_field(reason)
          || understudy_audit_field(details::text), 'UTF8')), 'hex')
      $$;

      -- Appends take turns until commit, so entries from every instance form one chain. The id is
      -- drawn under the turn, so id order is chain order; the hash of the last committed entry is
      -- read with a fresh snapshot, which only READ COMMITTED gives inside a transaction.
      CREATE FUNCTION understudy_audit_chain() RETURNS trigger
      LANGUAGE plpgsql AS $$
      DECLARE
        last_hash text;
      BEGIN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
          RAISE EXCEPTION 'audit_events is appended in READ COMMITTED transactions only (this one is %)', current_setting('transaction_isolation')
            USING ERRCODE = 'feature_not_supported';
        END IF;
        PERFORM pg_advisory_xact_lock(hashtextextended('understudy:audit-chain', 0));
        NEW.id := nextval(pg_get_serial_sequence('audit_events', 'id')::regclass);
        SELECT e.hash INTO last_hash FROM audit_events e ORDER BY e.id DESC LIMIT 1;
        NEW.prev_hash := last_hash;
        NEW.hash := understudy_audit_hash(last_hash, NEW.id, NEW.at, NEW.actor, NEW.actor_kind, NEW.action,
                                          NEW.workflow, NEW.segment, NEW.reason, NEW.details);
        RETURN NEW;
      END
      $$;
    `);

    // Existing entries, oldest first; the append-only trigger is off for this transaction only.
    await q.query(`
      ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
      DO $$
      DECLARE
        r record;
        last_hash text := NULL;
        h text;
      BEGIN
        FOR r IN SELECT * FROM audit_events ORDER BY id LOOP
          h := understudy_audit_hash(last_hash, r.id, r.at, r.actor, r.actor_kind, r.action, r.workflow, r.segment, r.reason, r.details);
          UPDATE audit_events SET prev_hash = last_hash, hash = h WHERE id = r.id;
          last_hash := h;
        END LOOP;
      END
      $$;
      ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
      ALTER TABLE audit_events ALTER COLUMN hash SET NOT NULL;
      CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
        FOR EACH ROW EXECUTE FUNCTION understudy_audit_chain();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER audit_events_chain ON audit_events;
      DROP FUNCTION understudy_audit_chain();
      DROP FUNCTION understudy_audit_hash(text, bigint, timestamptz, text, text, text, text, text, text, jsonb);
      DROP FUNCTION understudy_audit_field(text);
      ALTER TABLE audit_events DROP COLUMN hash, DROP COLUMN prev_hash;
    `);
  }
}
