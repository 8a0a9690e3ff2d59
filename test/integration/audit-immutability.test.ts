import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
import { writeTestWorkflows } from '../factories/workflows';
import { findRepoRoot } from '../harness/kafka-cluster';
import { createTestDatabase, RUNTIME_ROLE, runtimeUrl } from '../harness/postgres';
import { api, createToken, createTopics, kafkaClient, setScenario, startService, TestService, uniqueSuffix, waitFor } from '../harness/test-env';

/**
 * The audit log holds against the service's own database credentials: the service runs as a
 * runtime role that reads and appends but cannot alter the schema, so it can neither change
 * entries nor turn off the triggers that refuse it; every entry is chained to the one before by a
 * hash, and `npm run audit:verify` names the first entry that was changed or removed, even by the
 * owner with the triggers off.
 */
jest.setTimeout(300_000);

const OWNER_WARNING = 'the audit log is append-only for every role but this one';

interface VerifyRun {
  code: number;
  stdout: string;
  stderr: string;
}

function verifyAudit(databaseUrl: string, ...args: string[]): Promise<VerifyRun> {
  const cli = path.join(findRepoRoot(__dirname), 'dist', 'src', 'cli', 'verify-audit.js');
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url, application_name: 'audit-immutability-test' });
  await c.connect();
  return c;
}

describe('the audit log', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  let db: { url: string; drop: () => Promise<void> };
  let owner: Client;
  let runtime: Client;
  let service: TestService | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    owner = await connect(db.url);
    runtime = await connect(runtimeUrl(db.url));
    await setScenario(wf.model, { seed: 4, accuracy: 0.9, latencyMs: 0 });
  });

  afterAll(async () => {
    await service?.stop();
    await owner?.end();
    await runtime?.end();
    await db?.drop();
  });

  describe('with the service running as the runtime role', () => {
    it("works end to end: ingests, decides and audits people's actions", async () => {
      const topics = await createTopics(suffix, 2);
      service = await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url, env: { CONTROLLER_INTERVAL_MS: '500' } });
      const sessions = await owner.query(`SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, [
        service.env.INSTANCE_ID,
      ]);
      expect(sessions.rows).toEqual([{ usename: RUNTIME_ROLE }]);

      const admin = createToken(db.url, 'admin');
      const created = await api(service.url, 'POST', '/api/tokens', { token: admin, body: { name: `ops-${suffix}`, role: 'ops' } });
      expect(created.status).toBe(201);
      const ops = created.body.token as string;

      const gen = new WorkloadGenerator({ seed: 5, triageWorkflow: wf.triage, invoiceWorkflow: wf.invoice, idPrefix: `${suffix}-` });
      const items = gen.batch(50);
      const producer = kafkaClient(`audit-${suffix}`).producer();
      await producer.connect();
      await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
      await producer.disconnect();
      await waitFor('every item decided', async () => Number((await owner.query(`SELECT count(*) n FROM ai_decisions`)).rows[0].n) === 50, 120_000);
      // The kill switch is pulled only once the items are decided: an item that arrives while an
      // instance still sees the switch on is skipped for good, as it should be.
      expect((await api(service.url, 'PUT', '/api/kill-switch', { token: ops, body: { enabled: true, reason: 'audit test' } })).status).toBe(200);
      expect((await api(service.url, 'PUT', '/api/kill-switch', { token: ops, body: { enabled: false, reason: 'audit test done' } })).status).toBe(200);

      const actions = (await owner.query(`SELECT action FROM audit_events ORDER BY id`)).rows.map((r) => r.action as string);
      expect(actions.filter((a) => a === 'token.created')).toHaveLength(2);
      expect(actions.filter((a) => a === 'kill-switch.changed')).toHaveLength(2);
      expect(readFileSync(service.logFile, 'utf8')).not.toContain(OWNER_WARNING);
    });

    it("refuses the service's own user any change to the audit log and its triggers", async () => {
      const [{ id }] = (await owner.query(`SELECT id::text FROM audit_events ORDER BY audit_events.id LIMIT 1`)).rows;
      const refused: Array<[string, RegExp]> = [
        [`UPDATE audit_events SET reason = 'rewritten' WHERE id = ${id}`, /permission denied for table audit_events/],
        [`DELETE FROM audit_events WHERE id = ${id}`, /permission denied for table audit_events/],
        [`TRUNCATE audit_events`, /permission denied for table audit_events/],
        [`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`, /must be owner of table audit_events/],
        [`ALTER TABLE audit_events DISABLE TRIGGER ALL`, /must be owner of table audit_events/],
        [`DROP TRIGGER audit_events_append_only ON audit_events`, /must be owner of (table|relation) audit_events/],
        [`DROP TRIGGER audit_events_chain ON audit_events`, /must be owner of (table|relation) audit_events/],
        [`DROP TABLE audit_events`, /must be owner of table audit_events/],
        [
          `CREATE OR REPLACE FUNCTION understudy_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
          /must be owner of function understudy_refuse_change|permission denied for schema public/,
        ],
        [
          `CREATE OR REPLACE FUNCTION understudy_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
          /must be owner of function understudy_audit_chain|permission denied for schema public/,
        ],
        // Triggers do not fire for a session in replica mode: only a superuser may set it.
        [`SET session_replication_role = replica`, /permission denied to set parameter "session_replication_role"/],
        [`CREATE TABLE audit_copy (id bigint PRIMARY KEY)`, /permission denied for schema public/],
      ];
      for (const [sql, error] of refused) await expect(runtime.query(sql)).rejects.toThrow(error);
      const triggers = (await owner.query(`SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal ORDER BY 1`))
        .rows;
      expect(triggers).toEqual([
        { tgname: 'audit_events_append_only', tgenabled: 'O' },
        { tgname: 'audit_events_chain', tgenabled: 'O' },
        { tgname: 'audit_events_no_truncate', tgenabled: 'O' },
      ]);
      expect((await owner.query(`SELECT count(*)::int n FROM audit_events WHERE id = $1`, [id])).rows[0].n).toBe(1);
    });

    it("lets the service append, but not choose an entry's place in the chain", async () => {
      const [row] = (
        await runtime.query(
          `INSERT INTO audit_events (id, actor, actor_kind, action, prev_hash, hash) VALUES (1, 'mallory', 'person', 'forged', NULL, repeat('0', 64)) RETURNING id::text, prev_hash, hash`,
        )
      ).rows;
      const [last] = (await owner.query(`SELECT hash FROM audit_events WHERE id < $1 ORDER BY id DESC LIMIT 1`, [row.id])).rows;
      expect(row.id).not.toBe('1');
      expect(row.prev_hash).toBe(last.hash);
      expect(row.hash).not.toBe('0'.repeat(64));
    });
  });

  it('warns at start when the service runs as the owner, as a one-user install does', async () => {
    const topics = await createTopics(`${suffix}-owner`, 1);
    const asOwner = await startService({
      suffix: `${suffix}-owner`,
      topics,
      workflowsFile: wf.file,
      databaseUrl: db.url,
      asOwner: true,
      env: { CONTROLLER_ENABLED: 'false' },
    });
    try {
      await waitFor('the warning in the log', async () => readFileSync(asOwner.logFile, 'utf8').includes(OWNER_WARNING));
    } finally {
      await asOwner.stop();
    }
  });

  describe('the hash chain', () => {
    beforeAll(async () => {
      // Nothing appends while entries are tampered with below.
      await service?.stop();
    });

    it('stays one chain when appends race from many connections, some rolled back', async () => {
      const writers = await Promise.all(Array.from({ length: 6 }, () => connect(runtimeUrl(db.url))));
      try {
        await Promise.all(
          writers.map(async (c, w) => {
            for (let i = 0; i < 15; i++) {
              await c.query('BEGIN');
              await c.query(`INSERT INTO audit_events (actor, actor_kind, action, details) VALUES ($1, 'system', 'race', $2)`, [
                `writer-${w}`,
                { i, note: 'é ü "quoted" \\ \n' },
              ]);
              await c.query(i % 5 === 4 ? 'ROLLBACK' : 'COMMIT');
            }
          }),
        );
      } finally {
        await Promise.all(writers.map((c) => c.end()));
      }
      expect((await owner.query(`SELECT count(*)::int n FROM audit_events WHERE action = 'race'`)).rows[0].n).toBe(6 * 12);
      const run = await verifyAudit(runtimeUrl(db.url));
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    });

    it('is refused in a transaction that cannot see the last entry (REPEATABLE READ), rather than forked', async () => {
      await runtime.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await expect(runtime.query(`INSERT INTO audit_events (actor, actor_kind, action) VALUES ('x', 'system', 'snapshot')`)).rejects.toThrow(/READ COMMITTED/);
      await runtime.query('ROLLBACK');
    });

    it('verifies a real log: the number of entries and the last hash', async () => {
      const run = await verifyAudit(runtimeUrl(db.url));
      expect(run.code).toBe(0);
      const m = /^audit log OK: (\d+) entries, last entry (\d+) hash ([0-9a-f]{64})$/m.exec(run.stdout);
      expect(m).not.toBeNull();
      const [{ n, id, hash }] = (
        await owner.query(`SELECT count(*)::int n, max(id)::text id, (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1) hash FROM audit_events`)
      ).rows;
      expect([Number(m![1]), m![2], m![3]]).toEqual([n, id, hash]);
      expect(n).toBeGreaterThan(6 * 12);
      expect((await verifyAudit(runtimeUrl(db.url), '--anchor', `${id}:${hash}`)).code).toBe(0);
    });

    it('names an entry the owner changed with the triggers off, and passes again once it is restored', async () => {
      const [target] = (await owner.query(`SELECT id::text, reason FROM audit_events WHERE action = 'kill-switch.changed' ORDER BY audit_events.id LIMIT 1`))
        .rows;
      await asOwnerWithTriggerOff(owner, `UPDATE audit_events SET reason = 'nothing happened' WHERE id = ${target.id}`);
      const run = await verifyAudit(runtimeUrl(db.url));
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^audit log BROKEN at entry ${target.id}: its content does not match its hash`));

      await asOwnerWithTriggerOff(owner, `UPDATE audit_events SET reason = $1 WHERE id = ${target.id}`, [target.reason]);
      expect((await verifyAudit(runtimeUrl(db.url))).code).toBe(0);
    });

    it('names the entry after one the owner removed', async () => {
      const [removed] = (await owner.query(`SELECT id::text FROM audit_events WHERE action = 'race' ORDER BY audit_events.id LIMIT 1`)).rows;
      const [next] = (await owner.query(`SELECT id::text FROM audit_events WHERE id > $1 ORDER BY audit_events.id LIMIT 1`, [removed.id])).rows;
      await asOwnerWithTriggerOff(owner, `DELETE FROM audit_events WHERE id = ${removed.id}`);
      const run = await verifyAudit(runtimeUrl(db.url));
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^audit log BROKEN at entry ${next.id}: its previous hash .* is not the hash of entry \\d+`));
    });

    it('catches a log the owner rewrote and re-hashed as a whole, by the hash recorded before', async () => {
      await owner.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`);
      try {
        // Re-chain after the removal above, so the log is consistent again, and record its last hash.
        await rehashAll(owner);
        const ok = await verifyAudit(runtimeUrl(db.url));
        expect(ok.code).toBe(0);
        const anchor = /--anchor (\S+)/.exec(ok.stdout)![1];
        const anchoredId = anchor.split(':')[0];
        await owner.query(`UPDATE audit_events SET actor = 'someone else' WHERE id = (SELECT min(id) FROM audit_events)`);
        await rehashAll(owner);
        expect((await verifyAudit(runtimeUrl(db.url))).code).toBe(0);
        const caught = await verifyAudit(runtimeUrl(db.url), '--anchor', anchor);
        expect(caught.code).toBe(1);
        expect(caught.stderr).toMatch(new RegExp(`^audit log BROKEN at entry ${anchoredId}: its hash \\S+ is not the recorded`));
      } finally {
        await owner.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`);
      }
    });

    it('reports a check it could not make apart from a broken log', async () => {
      const run = await verifyAudit(runtimeUrl(db.url).replace(/\/[^/]+$/, '/understudy_no_such_database'));
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^audit log not checked: /);
    });
  });
});

/** Tampering as someone with the owner's rights would: the append-only trigger off for one statement. */
async function asOwnerWithTriggerOff(owner: Client, sql: string, params: unknown[] = []): Promise<void> {
  await owner.query('BEGIN');
  try {
    await owner.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`);
    await owner.query(sql, params);
    await owner.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`);
    await owner.query('COMMIT');
  } catch (e) {
    await owner.query('ROLLBACK');
    throw e;
  }
}

/** Recomputes every hash with the database's own function, as a forger with the owner's rights could. */
async function rehashAll(owner: Client): Promise<void> {
  await owner.query(`
    DO $$
    DECLARE r record; last_hash text := NULL; h text;
    BEGIN
      FOR r IN SELECT * FROM audit_events ORDER BY id LOOP
        h := understudy_audit_hash(last_hash, r.id, r.at, r.actor, r.actor_kind, r.action, r.workflow, r.segment, r.reason, r.details);
        UPDATE audit_events SET prev_hash = last_hash, hash = h WHERE id = r.id;
        last_hash := h;
      END LOOP;
    END $$`);
}
