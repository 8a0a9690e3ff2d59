import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The evidence model. Each comparison records how its human label was obtained (blind, anchored,
 * unsampled), the arm its item was routed under, and when the AI decided. evidence_minute adds the
 * labels up per arm and per minute of the AI decision — not of the label's arrival — so a step's
 * evidence is the items the AI decided during it, and a gate, a threshold or a guard can read blind
 * labels of the arm it judges alone. last_label_at tells the guard which AI-decision minutes its
 * latest evidence came from (the start of a re-review window).
 */
export class BlindEvidence1795700000000 implements MigrationInterface {
  name = 'BlindEvidence1795700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE comparisons
        ADD COLUMN evidence text CHECK (evidence IN ('blind', 'anchored', 'unsampled')),
        ADD COLUMN arm text CHECK (arm IN ('shadow', 'supervised', 'confidence-routed')),
        ADD COLUMN ai_decided_at timestamptz;

      CREATE TABLE evidence_minute (
        workflow text NOT NULL,
        segment text NOT NULL,
        workflow_version integer NOT NULL,
        arm text NOT NULL CHECK (arm IN ('shadow', 'supervised', 'confidence-routed')),
        minute timestamptz NOT NULL,
        blind_n bigint NOT NULL DEFAULT 0,
        blind_agree bigint NOT NULL DEFAULT 0,
        anchored_n bigint NOT NULL DEFAULT 0,
        anchored_agree bigint NOT NULL DEFAULT 0,
        anchored_overridden bigint NOT NULL DEFAULT 0,
        conf_n bigint[] NOT NULL DEFAULT '{}',
        conf_agree bigint[] NOT NULL DEFAULT '{}',
        last_label_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workflow, segment, workflow_version, arm, minute)
      );
      CREATE INDEX evidence_minute_labels ON evidence_minute (workflow, segment, workflow_version, arm, last_label_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE evidence_minute;
      ALTER TABLE comparisons DROP COLUMN evidence, DROP COLUMN arm, DROP COLUMN ai_decided_at;
    `);
  }
}
