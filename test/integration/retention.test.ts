import { Client } from 'pg';
import { Producer } from 'kafkajs';
import { contentHash, REMOVED } from '../../src/retention/domain/retention';
import { GeneratedItem, HumanDecisionEvent, toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
import { writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from '../harness/postgres';
import { api, createToken, createTopics, kafkaClient, setScenario, startService, TestService, uniqueSuffix, waitFor } from '../harness/test-env';

/**
 * Retention and erasure on the real stack: the schedule removes the personal content of items past
 * their retention (rows backdated here) and leaves the rest; reports give the same numbers before
 * and after; an erasure removes one item's content in every workflow, keeps its hashes and counts,
 * and is in the audit log with who asked and why.
 */
jest.setTimeout(300_000);

const ITEMS = 60;
const OLD = 40;

describe('retention and erasure of personal data', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  let producer: Producer;
  let service: TestService;
  let analyst: string;
  let admin: string;
  let items: GeneratedItem[];
  let decisions: HumanDecisionEvent[];
  /** A triage item whose itemId is also an invoice item's: held by two workflows. */
  let shared: string;
  /** An old item whose AI job is made unfinished again: the purge must leave its input. */
  let held: GeneratedItem;
  const originalInput = new Map<string, unknown>();
  const from = new Date(Date.now() - 86_400_000).toISOString();
  const to = new Date(Date.now() + 6 * 3_600_000).toISOString();

  const count = async (sql: string, params: unknown[] = []) => Number((await pg.query(sql, params)).rows[0].n);
  const key = (workflow: string, itemId: string) => `${workflow}\u0001${itemId}`;
  const reports = async () => {
    const out: Record<string, unknown> = {};
    for (const workflow of [wf.triage, wf.invoice]) {
      const r = await api(service.url, 'GET', `/api/reports/agreement?workflow=${workflow}&from=${from}&to=${to}`, { token: analyst });
      expect(r.status).toBe(200);
      const csv = await api(service.url, 'GET', `/api/reports/agreement?workflow=${workflow}&from=${from}&to=${to}&format=csv`, { token: analyst });
      expect(csv.status).toBe(200);
      out[workflow] = { json: r.body, csv: csv.text };
    }
    return out;
  };
  let reportsBefore: Record<string, unknown>;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await setScenario(wf.model, { seed: 5, accuracy: 0.85, latencyMs: 0 });
    const topics = await createTopics(suffix, 2);
    service = await startService({
      suffix,
      topics,
      workflowsFile: wf.file,
      databaseUrl: db.url,
      // Small batches and few per run: the backlog takes several runs, each audited.
      env: {
        RETENTION_INPUT_DAYS: '30',
        RETENTION_MODEL_OUTPUT_DAYS: '30',
        RETENTION_INTERVAL_MS: '300',
        RETENTION_BATCH_SIZE: '7',
        RETENTION_MAX_BATCHES_PER_RUN: '2',
      },
    });
    analyst = createToken(db.url, 'analyst');
    admin = createToken(db.url, 'admin', `dpo-${suffix}`);

    const gen = new WorkloadGenerator({ seed: 21, triageWorkflow: wf.triage, invoiceWorkflow: wf.invoice, idPrefix: `${suffix}-` });
    items = gen.batch(ITEMS);
    const recentTriage = items.slice(OLD).find((i) => i.workflow === wf.triage)!;
    const invoice = items.find((i) => i.workflow === wf.invoice)!;
    shared = recentTriage.itemId;
    const twin: GeneratedItem = { ...invoice, eventId: `${invoice.eventId}-twin`, itemId: shared };
    items.push(twin);
    // Event ids are made of the itemId: the twin's decision needs one of its own.
    decisions = items.map((i) => gen.humanDecision(i, { errorRate: 0.15, ...(i === twin ? { eventSuffix: 'twin' } : {}) }));
    held = items.slice(0, OLD).find((i) => i.workflow === wf.triage)!;
    for (const i of items) originalInput.set(key(i.workflow, i.itemId), i.input);

    producer = kafkaClient(`retention-${suffix}`).producer();
    await producer.connect();
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    await waitFor('every item decided by the AI', async () => (await count(`SELECT count(*) n FROM ai_decisions`)) === items.length, 120_000);
    await producer.send({ topic: topics.workDecisions, messages: decisions.map((d) => ({ key: d.itemId, value: JSON.stringify(d) })) });
    await waitFor('every human decision compared', async () => (await count(`SELECT count(*) n FROM comparisons`)) === items.length, 120_000);
    reportsBefore = await reports();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await service?.stop();
    await pg?.end();
    if (!process.env.KEEP_TEST_DB) await db?.drop();
    else console.log(`kept ${db?.url}`);
  });

  it('removes the personal content of items past their retention, and nothing else', async () => {
    const old = items.slice(0, OLD).map((i) => i.itemId);
    // Backdate the old items' rows by 100 days; the database's own triggers are off for this session
    // only (ai_decisions refuses any other change, whoever asks).
    await pg.query('BEGIN');
    await pg.query(`SET LOCAL session_replication_role = replica`);
    await pg.query(`UPDATE work_items SET received_at = received_at - interval '100 days' WHERE item_id = ANY($1)`, [old]);
    await pg.query(`UPDATE human_decisions SET received_at = received_at - interval '100 days' WHERE item_id = ANY($1)`, [old]);
    await pg.query(`UPDATE ai_decisions SET created_at = created_at - interval '100 days' WHERE item_id = ANY($1)`, [old]);
    // An AI job of the held item is due again (a retry, tomorrow): its input is still needed.
    await pg.query(`UPDATE ai_jobs SET state = 'retrying', next_attempt_at = now() + interval '1 day' WHERE workflow = $1 AND item_id = $2`, [
      held.workflow,
      held.itemId,
    ]);
    await pg.query('COMMIT');

    await waitFor(
      'the old items purged',
      async () =>
        (await count(`SELECT count(*) n FROM work_items WHERE input_removed_at IS NOT NULL`)) === OLD - 1 &&
        (await count(`SELECT count(*) n FROM human_decisions WHERE free_text_removed_at IS NOT NULL`)) === OLD &&
        (await count(`SELECT count(*) n FROM ai_decisions WHERE output_removed_at IS NOT NULL`)) === OLD,
      120_000,
    );

    const rows = (await pg.query(`SELECT workflow, item_id, input, input_sha256, input_removed_why FROM work_items`)).rows;
    for (const r of rows) {
      const original = originalInput.get(key(r.workflow, r.item_id));
      const isOld = old.includes(r.item_id) && !(r.workflow === held.workflow && r.item_id === held.itemId);
      if (isOld) {
        expect(r).toMatchObject({ input: {}, input_sha256: contentHash(original), input_removed_why: 'retention' });
      } else {
        expect(r).toMatchObject({ input: original, input_sha256: null, input_removed_why: null });
      }
    }

    const ai = (
      await pg.query(`SELECT item_id, workflow, decision, raw_output, output_sha256, output_removed_why FROM ai_decisions WHERE item_id = ANY($1)`, [old])
    ).rows;
    expect(ai).toHaveLength(OLD);
    for (const d of ai) {
      expect(d.output_removed_why).toBe('retention');
      expect(d.output_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(d.raw_output).toBeNull();
      if (d.decision && d.workflow === wf.triage) {
        expect(d.decision.reply).toBe(REMOVED);
        expect(d.decision.category).not.toBe(REMOVED);
        expect(d.decision.priority).not.toBe(REMOVED);
      }
    }
    const humans = (await pg.query(`SELECT workflow, decision, free_text_removed_why FROM human_decisions WHERE item_id = ANY($1)`, [old])).rows;
    for (const h of humans) {
      expect(h.free_text_removed_why).toBe('retention');
      if (h.workflow === wf.triage) expect(h.decision).toMatchObject({ reply: REMOVED, category: expect.not.stringMatching(/removed/) });
      else expect(Object.values(h.decision)).not.toContain(REMOVED); // every invoice field is compared
    }
    // Recent rows keep their content.
    const recentHuman = (await pg.query(`SELECT decision FROM human_decisions WHERE workflow = $1 AND NOT (item_id = ANY($2)) LIMIT 1`, [wf.triage, old]))
      .rows[0];
    expect(recentHuman.decision.reply).toBe('Thanks for reaching out — we are on it.');
    expect(await count(`SELECT count(*) n FROM ai_decisions WHERE output_removed_at IS NULL AND NOT (item_id = ANY($1))`, [old])).toBe(items.length - OLD);

    // Each run that removed something is audited, and the runs add up to what was removed.
    await waitFor('the purge runs audited', async () => {
      const r = await api(service.url, 'GET', '/api/audit?action=retention.purged&limit=500', { token: analyst });
      const sum = (k: string) => r.body.events.reduce((s: number, e: { details: { removed: Record<string, number> } }) => s + e.details.removed[k], 0);
      return r.body.events.length > 1 && sum('inputs') === OLD - 1 && sum('humanDecisions') === OLD && sum('aiOutputs') === OLD ? r : null;
    });
    const audit = await api(service.url, 'GET', '/api/audit?action=retention.purged&limit=1', { token: analyst });
    expect(audit.body.events[0]).toMatchObject({ actor: 'retention', actorKind: 'system', reason: expect.stringMatching(/older than 30 days/) });

    expect(await count(`SELECT count(*) n FROM comparisons`)).toBe(items.length);
    expect(await reports()).toEqual(reportsBefore);
  });

  it('erases one item in every workflow on request, keeps its hashes and counts, and audits who and why', async () => {
    const unknown = await api(service.url, 'POST', `/api/items/${suffix}-no-such-item/erasure`, { token: admin, body: { reason: 'DSR-1 from the customer' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/not found/);
    expect((await api(service.url, 'POST', `/api/items/${shared}/erasure`, { token: analyst, body: { reason: 'DSR-2 from the customer' } })).status).toBe(403);
    expect((await api(service.url, 'POST', `/api/items/${shared}/erasure`, { token: admin, body: {} })).status).toBe(400);
    expect(await count(`SELECT count(*) n FROM work_items WHERE item_id = $1 AND input_removed_at IS NOT NULL`, [shared])).toBe(0);

    const reason = 'DSR-2: the customer asked for erasure';
    const first = await api(service.url, 'POST', `/api/items/${shared}/erasure`, { token: admin, body: { reason } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      itemId: shared,
      workflows: [wf.invoice, wf.triage].sort(),
      removed: { inputs: 2, aiOutputs: 2, humanDecisions: 2 },
      alreadyRemoved: { inputs: 0, aiOutputs: 0, humanDecisions: 0 },
    });

    const inputs = (await pg.query(`SELECT workflow, input, input_sha256, input_removed_why FROM work_items WHERE item_id = $1`, [shared])).rows;
    expect(inputs).toHaveLength(2);
    for (const r of inputs)
      expect(r).toMatchObject({ input: {}, input_sha256: contentHash(originalInput.get(key(r.workflow, shared))), input_removed_why: 'erasure' });
    const ai = (await pg.query(`SELECT workflow, decision, output_removed_why FROM ai_decisions WHERE item_id = $1`, [shared])).rows;
    expect(ai.map((r) => r.output_removed_why)).toEqual(['erasure', 'erasure']);
    const triageAi = ai.find((r) => r.workflow === wf.triage)!;
    if (triageAi.decision) expect(triageAi.decision.reply).toBe(REMOVED);
    const humans = (await pg.query(`SELECT workflow, decision, decision_sha256, free_text_removed_why FROM human_decisions WHERE item_id = $1`, [shared])).rows;
    expect(humans.map((r) => r.free_text_removed_why)).toEqual(['erasure', 'erasure']);
    const triageHuman = humans.find((r) => r.workflow === wf.triage)!;
    const sent = decisions.find((d) => d.workflow === wf.triage && d.itemId === shared)!;
    expect(triageHuman.decision).toEqual({ ...sent.decision, reply: REMOVED });
    expect(triageHuman.decision_sha256).toBe(contentHash(sent.decision));

    // Asking again removes nothing more, and is answered and audited all the same.
    const again = await api(service.url, 'POST', `/api/items/${shared}/erasure`, { token: admin, body: { reason: 'DSR-2, asked twice' } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      removed: { inputs: 0, aiOutputs: 0, humanDecisions: 0, routingEvents: 0 },
      alreadyRemoved: { inputs: 2, aiOutputs: 2, humanDecisions: 2 },
    });
    // An item the retention already purged.
    const purgedItem = items.slice(0, OLD).find((i) => i !== held)!;
    const purged = await api(service.url, 'POST', `/api/items/${purgedItem.itemId}/erasure`, { token: admin, body: { reason: 'DSR-3' } });
    expect(purged.status).toBe(200);
    expect(purged.body).toMatchObject({
      removed: { inputs: 0, aiOutputs: 0, humanDecisions: 0 },
      alreadyRemoved: { inputs: 1, aiOutputs: 1, humanDecisions: 1 },
    });

    const audit = await api(service.url, 'GET', '/api/audit?action=personal-data.erased', { token: analyst });
    expect(audit.body.events).toHaveLength(3);
    const entry = audit.body.events.find((e: { id: string }) => String(e.id) === String(first.body.auditId));
    expect(entry).toMatchObject({
      actor: `dpo-${suffix} (admin)`,
      actorKind: 'person',
      reason,
      details: { itemId: shared, workflows: [wf.invoice, wf.triage].sort(), removed: { inputs: 2 } },
    });

    // Counts stay: comparisons, and every report.
    expect(await count(`SELECT count(*) n FROM comparisons WHERE item_id = $1`, [shared])).toBe(2);
    expect(await reports()).toEqual(reportsBefore);
  });
});
