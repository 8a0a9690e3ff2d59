import { Client } from 'pg';
import { readFileSync } from 'node:fs';
import { toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
import { writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from '../harness/postgres';
import { api, createToken, createTopics, kafkaClient, setScenario, stackInfo, startService, TestService, uniqueSuffix, waitFor } from '../harness/test-env';

/**
 * Security: no secret and no redacted field in the logs; the audit log and AI decisions
 * cannot be changed or deleted, even by the schema's owner while their triggers are on (the
 * service's own runtime role cannot turn them off: audit-immutability.test.ts). (Refusal of every
 * mutating route to anonymous and wrong-role callers, and hashed tokens: test/e2e/api.test.ts.)
 */
jest.setTimeout(300_000);

describe('security', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  let service: TestService;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await setScenario(wf.model, { seed: 2, accuracy: 0.9, latencyMs: 0 });
  });

  afterAll(async () => {
    await service?.stop();
    await pg?.end();
    await db?.drop();
  });

  it('keeps secrets and redacted fields out of the logs, even at debug level', async () => {
    const topics = await createTopics(suffix, 2);
    service = await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url, env: { LOG_LEVEL: 'debug', CONTROLLER_INTERVAL_MS: '500' } });
    const token = createToken(db.url, 'analyst');
    const gen = new WorkloadGenerator({ seed: 12, triageWorkflow: wf.triage, invoiceWorkflow: wf.invoice, idPrefix: `${suffix}-` });
    const items = gen.batch(200);
    const producer = kafkaClient(`sec-${suffix}`).producer();
    await producer.connect();
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    // A broken message whose content includes personal data: refused, and the reason must not quote it.
    await producer.send({ topic: topics.workItems, messages: [{ key: 'bad', value: '{"eventId": "x", "customer": secret.person@example.org}' }] });
    await producer.disconnect();
    await waitFor('every item decided', async () => Number((await pg.query(`SELECT count(*) n FROM ai_decisions`)).rows[0].n) === 200, 120_000);
    // Calls with good and bad tokens, and a failing one.
    await api(service.url, 'GET', '/api/me', { token });
    await api(service.url, 'GET', '/api/me', { token: 'us_notarealtokennotarealtokennotarealtoken1' });
    await api(service.url, 'GET', '/api/workflows/nope/segments', { token });
    await new Promise((r) => setTimeout(r, 1000));

    const log = readFileSync(service.logFile, 'utf8');
    expect(log.length).toBeGreaterThan(1000);
    const secrets = [token, token.slice(3), stackInfo().unleash.adminToken, stackInfo().unleash.clientToken, 'us_notarealtokennotarealtokennotarealtoken1'];
    for (const s of secrets) expect(log.includes(s)).toBe(false);
    const redacted: string[] = [];
    for (const i of items) {
      const c = (i.input.customer ?? i.input.submitter) as { email?: string; phone?: string; accountNumber?: string; iban?: string } | undefined;
      for (const v of [c?.email, c?.phone, c?.accountNumber, c?.iban]) if (v && v !== 'ap@example.com') redacted.push(v);
    }
    redacted.push('secret.person@example.org', 'COBADEFFXXX');
    expect(redacted.filter((v) => log.includes(v))).toEqual([]);
  });

  it('refuses to change or delete the audit log and AI decisions, whoever asks', async () => {
    const [{ current_user: user }] = (await pg.query('SELECT current_user')).rows;
    expect(user).toBe(new URL(db.url).username); // the owner, who migrated the schema
    const audit = (await pg.query(`SELECT id FROM audit_events LIMIT 1`)).rows[0];
    const decision = (await pg.query(`SELECT id FROM ai_decisions LIMIT 1`)).rows[0];
    expect(audit).toBeDefined();
    expect(decision).toBeDefined();
    for (const sql of [
      `UPDATE audit_events SET reason = 'rewritten' WHERE id = ${audit.id}`,
      `DELETE FROM audit_events WHERE id = ${audit.id}`,
      `TRUNCATE audit_events`,
      `UPDATE ai_decisions SET decision = '{}' WHERE id = ${decision.id}`,
      `DELETE FROM ai_decisions WHERE id = ${decision.id}`,
    ]) {
      await expect(pg.query(sql)).rejects.toThrow(/append-only/);
    }
    expect((await pg.query(`SELECT count(*)::int n FROM audit_events WHERE id = $1`, [audit.id])).rows[0].n).toBe(1);
  });
});
