import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole first schema of Understudy: workflows, the shadow pipeline (items, jobs, AI and
 * human decisions, comparisons), rollups for reports and gates, segments and their rollout
 * state, routing with its outbox, the append-only audit log, alerts and API tokens.
 */
export class InitialSchema1795428000000 implements MigrationInterface {
  name = 'InitialSchema1795428000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- Sums two jsonb objects of counters key by key (rollup upserts).
      CREATE FUNCTION understudy_jsonb_add(a jsonb, b jsonb) RETURNS jsonb
      LANGUAGE sql IMMUTABLE AS $$
        SELECT coalesce(jsonb_object_agg(k, coalesce((a->>k)::bigint, 0) + coalesce((b->>k)::bigint, 0)), '{}'::jsonb)
        FROM (SELECT jsonb_object_keys(coalesce(a, '{}'::jsonb)) AS k
              UNION SELECT jsonb_object_keys(coalesce(b, '{}'::jsonb))) keys
      $$;

      -- Adds two integer arrays element by element (histogram and confidence-bin upserts).
      CREATE FUNCTION understudy_array_add(a bigint[], b bigint[]) RETURNS bigint[]
      LANGUAGE sql IMMUTABLE AS $$
        SELECT coalesce(array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i), '{}'::bigint[])
        FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i)
      $$;

      -- Aggregates over rollup rows: counters summed key by key, arrays element by element.
      CREATE AGGREGATE understudy_jsonb_sum_agg(jsonb) (SFUNC = understudy_jsonb_add, STYPE = jsonb, INITCOND = '{}');
      CREATE AGGREGATE understudy_array_sum_agg(bigint[]) (SFUNC = understudy_array_add, STYPE = bigint[], INITCOND = '{}');

      -- Refuses any change to an append-only table, whoever asks.
      CREATE FUNCTION understudy_refuse_change() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$;
    `);

    await q.query(`
      CREATE TABLE workflow_versions (
        id bigserial PRIMARY KEY,
        workflow text NOT NULL,
        version integer NOT NULL CHECK (version > 0),
        definition jsonb NOT NULL,
        definition_hash text NOT NULL,
        model text NOT NULL,
        prompt_version text NOT NULL,
        role text NOT NULL DEFAULT 'retired' CHECK (role IN ('champion', 'challenger', 'retired')),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (workflow, version)
      );
      CREATE UNIQUE INDEX workflow_versions_one_champion ON workflow_versions (workflow) WHERE role = 'champion';

      CREATE TABLE work_items (
        id bigserial PRIMARY KEY,
        event_id text NOT NULL UNIQUE,
        workflow text NOT NULL,
        item_id text NOT NULL,
        segment text NOT NULL,
        attributes jsonb NOT NULL,
        input jsonb NOT NULL,
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (workflow, item_id)
      );
      CREATE INDEX work_items_segment ON work_items (workflow, segment);

      CREATE TABLE ai_jobs (
        id bigserial PRIMARY KEY,
        work_item_id bigint NOT NULL REFERENCES work_items (id),
        workflow text NOT NULL,
        item_id text NOT NULL,
        workflow_version integer NOT NULL,
        state text NOT NULL DEFAULT 'pending'
          CHECK (state IN ('pending', 'processing', 'retrying', 'completed', 'failed', 'skipped')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        locked_by text,
        locked_at timestamptz,
        last_error text,
        skip_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (workflow, item_id, workflow_version)
      );
      CREATE INDEX ai_jobs_ready ON ai_jobs (next_attempt_at, id) WHERE state IN ('pending', 'retrying');
      CREATE INDEX ai_jobs_leased ON ai_jobs (locked_at) WHERE state = 'processing';
      CREATE INDEX ai_jobs_state ON ai_jobs (workflow, state);

      CREATE TABLE ai_decisions (
        id bigserial PRIMARY KEY,
        job_id bigint NOT NULL REFERENCES ai_jobs (id),
        workflow text NOT NULL,
        item_id text NOT NULL,
        segment text NOT NULL,
        workflow_version integer NOT NULL,
        is_champion boolean NOT NULL,
        model text NOT NULL,
        prompt_version text NOT NULL,
        valid boolean NOT NULL,
        decision jsonb,
        raw_output text,
        error text,
        confidence double precision CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
        confidence_source text NOT NULL CHECK (confidence_source IN ('logprobs', 'self-reported', 'none')),
        input_hash text NOT NULL,
        prompt_tokens integer NOT NULL DEFAULT 0,
        completion_tokens integer NOT NULL DEFAULT 0,
        cost_usd numeric(14, 8) NOT NULL DEFAULT 0,
        latency_ms integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (workflow, item_id, workflow_version),
        CHECK (NOT valid OR decision IS NOT NULL)
      );
      CREATE INDEX ai_decisions_segment_time ON ai_decisions (workflow, segment, created_at);
      CREATE TRIGGER ai_decisions_append_only BEFORE UPDATE OR DELETE ON ai_decisions
        FOR EACH ROW EXECUTE FUNCTION understudy_refuse_change();
      CREATE TRIGGER ai_decisions_no_truncate BEFORE TRUNCATE ON ai_decisions
        FOR EACH STATEMENT EXECUTE FUNCTION understudy_refuse_change();

      CREATE TABLE human_decisions (
        id bigserial PRIMARY KEY,
        event_id text NOT NULL UNIQUE,
        workflow text NOT NULL,
        item_id text NOT NULL,
        decision jsonb NOT NULL,
        actor text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('independent', 'review')),
        ai_decision_id bigint,
        verdict text CHECK (verdict IN ('accepted', 'overridden')),
        decided_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX human_decisions_item ON human_decisions (workflow, item_id);

      CREATE TABLE comparisons (
        id bigserial PRIMARY KEY,
        workflow text NOT NULL,
        item_id text NOT NULL,
        segment text NOT NULL,
        workflow_version integer NOT NULL,
        is_champion boolean NOT NULL,
        ai_decision_id bigint NOT NULL REFERENCES ai_decisions (id),
        human_decision_id bigint NOT NULL REFERENCES human_decisions (id),
        human_kind text NOT NULL,
        route_action text,
        agree boolean NOT NULL,
        field_agreement jsonb NOT NULL,
        verdict text,
        ai_label text,
        human_label text,
        confidence double precision,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (ai_decision_id, human_decision_id)
      );
      CREATE INDEX comparisons_segment_time ON comparisons (workflow, segment, created_at);
      CREATE INDEX comparisons_human ON comparisons (human_decision_id);

      -- Two independent human decisions on one item: the human-vs-human noise baseline.
      CREATE TABLE human_agreements (
        id bigserial PRIMARY KEY,
        workflow text NOT NULL,
        item_id text NOT NULL,
        segment text NOT NULL,
        first_decision_id bigint NOT NULL REFERENCES human_decisions (id),
        second_decision_id bigint NOT NULL REFERENCES human_decisions (id),
        agree boolean NOT NULL,
        field_agreement jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (first_decision_id, second_decision_id)
      );
    `);

    await q.query(`
      -- Counters per workflow, segment, version and minute; written with the comparisons
      -- and decisions they count, so reports and gates never scan raw rows.
      CREATE TABLE rollup_minute (
        workflow text NOT NULL,
        segment text NOT NULL,
        workflow_version integer NOT NULL,
        minute timestamptz NOT NULL,
        n bigint NOT NULL DEFAULT 0,
        agree bigint NOT NULL DEFAULT 0,
        n_independent bigint NOT NULL DEFAULT 0,
        agree_independent bigint NOT NULL DEFAULT 0,
        n_review bigint NOT NULL DEFAULT 0,
        agree_review bigint NOT NULL DEFAULT 0,
        n_overridden bigint NOT NULL DEFAULT 0,
        n_audit bigint NOT NULL DEFAULT 0,
        agree_audit bigint NOT NULL DEFAULT 0,
        -- Comparisons of items routed to review (below the threshold): selected for being uncertain,
        -- so the regression guard leaves them out.
        n_review_routed bigint NOT NULL DEFAULT 0,
        agree_review_routed bigint NOT NULL DEFAULT 0,
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
        PRIMARY KEY (workflow, segment, workflow_version, minute)
      );
      CREATE INDEX rollup_minute_time ON rollup_minute (minute);

      CREATE TABLE rollup_confusion (
        workflow text NOT NULL,
        segment text NOT NULL,
        workflow_version integer NOT NULL,
        day date NOT NULL,
        ai_label text NOT NULL,
        human_label text NOT NULL,
        n bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (workflow, segment, workflow_version, day, ai_label, human_label)
      );

      -- Two versions judged on the same human decisions, for McNemar's paired test.
      CREATE TABLE rollup_pairs (
        workflow text NOT NULL,
        segment text NOT NULL,
        version_a integer NOT NULL,
        version_b integer NOT NULL,
        day date NOT NULL,
        both_agree bigint NOT NULL DEFAULT 0,
        a_only bigint NOT NULL DEFAULT 0,
        b_only bigint NOT NULL DEFAULT 0,
        neither bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (workflow, segment, version_a, version_b, day),
        CHECK (version_a < version_b)
      );

      CREATE TABLE budget_usage (
        workflow text NOT NULL,
        day date NOT NULL,
        tokens bigint NOT NULL DEFAULT 0,
        cost_usd numeric(18, 8) NOT NULL DEFAULT 0,
        PRIMARY KEY (workflow, day)
      );
    `);

    await q.query(`
      CREATE TABLE segments (
        workflow text NOT NULL,
        segment text NOT NULL,
        stage text NOT NULL DEFAULT 'shadow' CHECK (stage IN ('shadow', 'supervised', 'confidence-routed')),
        traffic_pct double precision NOT NULL DEFAULT 100 CHECK (traffic_pct >= 0 AND traffic_pct <= 100),
        stage_started_at timestamptz NOT NULL DEFAULT now(),
        step_started_at timestamptz NOT NULL DEFAULT now(),
        paused boolean NOT NULL DEFAULT false,
        pause_kind text CHECK (pause_kind IN ('hold', 'guard', 'operator')),
        pause_reason text,
        paused_at timestamptz,
        paused_by text,
        -- What the controller last wrote to (or adopted from) this segment's Unleash strategy.
        flag_split jsonb,
        -- Rollup totals when the current step began: the step's own counts are totals minus these.
        step_base jsonb,
        pending_step jsonb,
        approved_step jsonb,
        last_verdict jsonb,
        last_evaluated_at timestamptz,
        baseline jsonb,
        guard_state jsonb,
        guard_params jsonb,
        guard_window_started_at timestamptz,
        threshold double precision,
        threshold_source text NOT NULL DEFAULT 'none' CHECK (threshold_source IN ('none', 'computed', 'fixed')),
        threshold_details jsonb,
        threshold_updated_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workflow, segment)
      );

      -- What the controller last wrote to (or adopted from) Unleash, to tell an operator's change from its own.
      CREATE TABLE flag_snapshots (
        flag_name text PRIMARY KEY,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE controller_status (
        id integer PRIMARY KEY CHECK (id = 1),
        leader text,
        leader_since timestamptz,
        last_cycle_at timestamptz,
        last_cycle_ms integer,
        last_error text,
        cycles bigint NOT NULL DEFAULT 0
      );
      INSERT INTO controller_status (id) VALUES (1);

      CREATE TABLE routing_decisions (
        id bigserial PRIMARY KEY,
        ai_decision_id bigint NOT NULL UNIQUE REFERENCES ai_decisions (id),
        workflow text NOT NULL,
        item_id text NOT NULL,
        segment text NOT NULL,
        stage text,
        action text NOT NULL CHECK (action IN ('suggest', 'auto', 'review', 'audit', 'double-label', 'none')),
        reason text NOT NULL,
        threshold double precision,
        confidence double precision,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX routing_decisions_item ON routing_decisions (workflow, item_id);
      CREATE INDEX routing_decisions_auto ON routing_decisions (workflow, segment, created_at) WHERE action = 'auto';

      -- Transactional outbox: written with the data it announces, published to Kafka by a relay.
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        message_key text,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text
      );
      CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

      CREATE TABLE rereview_items (
        id bigserial PRIMARY KEY,
        workflow text NOT NULL,
        segment text NOT NULL,
        item_id text NOT NULL,
        routing_decision_id bigint NOT NULL UNIQUE REFERENCES routing_decisions (id),
        revert_audit_id bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        resolved_by text
      );

      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        actor_kind text NOT NULL CHECK (actor_kind IN ('person', 'controller', 'operator', 'system')),
        action text NOT NULL,
        workflow text,
        segment text,
        reason text,
        details jsonb NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_events_scope ON audit_events (workflow, segment, at);
      CREATE INDEX audit_events_action ON audit_events (action, at);
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION understudy_refuse_change();
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION understudy_refuse_change();

      CREATE TABLE alerts (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        workflow text,
        segment text,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        webhook_state text NOT NULL DEFAULT 'pending' CHECK (webhook_state IN ('pending', 'delivered', 'failed', 'none')),
        webhook_attempts integer NOT NULL DEFAULT 0,
        webhook_next_at timestamptz NOT NULL DEFAULT now(),
        webhook_last_error text,
        delivered_at timestamptz
      );
      CREATE INDEX alerts_webhook_pending ON alerts (id) WHERE webhook_state = 'pending';

      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('program_manager', 'analyst', 'ops', 'admin')),
        token_hash text NOT NULL UNIQUE,
        token_prefix text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        last_used_at timestamptz
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE api_tokens, alerts, audit_events, rereview_items, outbox, routing_decisions,
        controller_status, flag_snapshots, segments, budget_usage, rollup_pairs, rollup_confusion,
        rollup_minute, human_agreements, comparisons, human_decisions, ai_decisions, ai_jobs,
        work_items, workflow_versions;
      DROP FUNCTION understudy_refuse_change();
      DROP AGGREGATE understudy_array_sum_agg(bigint[]);
      DROP AGGREGATE understudy_jsonb_sum_agg(jsonb);
      DROP FUNCTION understudy_array_add(bigint[], bigint[]);
      DROP FUNCTION understudy_jsonb_add(jsonb, jsonb);
    `);
  }
}
