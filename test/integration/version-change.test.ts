import { Client } from 'pg';
import { Producer } from 'kafkajs';
import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import { toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
import { writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from '../harness/postgres';
import {
  api,
  createTopics,
  createToken,
  kafkaClient,
  setScenario,
  stackInfo,
  startService,
  TestService,
  TestTopics,
  uniqueSuffix,
  waitFor,
} from '../harness/test-env';

/**
 * A new champion earns its stage. A segment at confidence-routed sends items `auto`; an admin makes
 * a new version champion (a new prompt): from then on nothing of the new version goes `auto`, the
 * controller moves the segment back to shadow, and the new version climbs on its own evidence.
 */
jest.setTimeout(300_000);

const ROUTED = 'chat|us';

describe('a new champion version', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  const admin = new UnleashAdminGateway({ url: stackInfo().unleash.url, adminToken: stackInfo().unleash.adminToken });
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  let service: TestService | null = null;
  let topics: TestTopics;
  let producer: Producer;
  const generator = new WorkloadGenerator({ seed: 61, triageWorkflow: wf.triage, triageShare: 1, triageSegments: [['chat', 'us']], idPrefix: `${suffix}-` });

  const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await pg.query(sql, params)).rows as T[];
  /** Sends items and waits for their routing decisions; returns them with the version that decided. */
  const probe = async (n = 40) => {
    const items = generator.batch(n);
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    const ids = items.map((i) => i.itemId);
    await waitFor('every item routed', async () => (await q(`SELECT id FROM routing_decisions WHERE item_id = ANY($1)`, [ids])).length === n, 90_000, 250);
    return q<{ action: string; version: number }>(
      `SELECT r.action, a.workflow_version AS version FROM routing_decisions r JOIN ai_decisions a ON a.id = r.ai_decision_id WHERE r.item_id = ANY($1)`,
      [ids],
    );
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    topics = await createTopics(suffix, 2);
    await setScenario(wf.model, { seed: 3, accuracy: 0.95, confidence: { correctMean: 0.92, wrongMean: 0.5, spread: 0.05 }, latencyMs: 0 });
    await admin.ensureSetup();
    await admin.ensureWorkflowFlag(wf.triage);
    await admin.writeSegmentSplit(wf.triage, ROUTED, { stage: 'confidence-routed', trafficPct: 100 });
    await pg.query(`INSERT INTO segments (workflow, segment, stage, threshold, threshold_source) VALUES ($1, $2, 'shadow', 0.6, 'fixed')`, [wf.triage, ROUTED]);
    service = await startService({
      suffix,
      topics,
      workflowsFile: wf.file,
      databaseUrl: db.url,
      env: { CONTROLLER_INTERVAL_MS: '500', UNLEASH_REFRESH_MS: '500' },
    });
    producer = kafkaClient(`version-${suffix}`).producer();
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await service?.stop();
    await pg?.end();
    await db?.drop();
  });

  it('sends nothing auto of the new version, and takes the segment back to shadow to earn its stage', async () => {
    await waitFor(
      'the segment adopted at confidence-routed, by v1',
      async () => {
        const [s] = await q<{ stage: string; workflow_version: number | null }>(`SELECT stage, workflow_version FROM segments WHERE segment = $1`, [ROUTED]);
        return s?.stage === 'confidence-routed' && s.workflow_version === 1;
      },
      60_000,
    );
    expect((await probe()).some((r) => r.action === 'auto' && r.version === 1)).toBe(true);

    const adminToken = createToken(db.url, 'admin', 'version admin');
    const [v1] = (await api(service!.url, 'GET', `/api/workflows/${wf.triage}/versions`, { token: adminToken })).body as Array<{
      definition: Record<string, unknown> & { prompt: Record<string, unknown> };
    }>;
    const definition = { ...v1.definition, version: 2, prompt: { ...v1.definition.prompt, version: `${String(v1.definition.prompt.version)}-b` } };
    const created = await api(service!.url, 'POST', `/api/workflows/${wf.triage}/versions`, {
      token: adminToken,
      body: { definition, role: 'champion', reason: 'a new prompt' },
    });
    expect(created.status).toBe(201);

    // From the first item of v2 on: nothing auto, whatever the flag still says.
    const afterSwitch = await probe();
    expect(afterSwitch.filter((r) => r.version === 2 && r.action === 'auto')).toEqual([]);
    expect(afterSwitch.some((r) => r.version === 2)).toBe(true);

    await waitFor(
      'the segment back in shadow for v2',
      async () => {
        const [s] = await q<{ stage: string; workflow_version: number }>(`SELECT stage, workflow_version FROM segments WHERE segment = $1`, [ROUTED]);
        return s.stage === 'shadow' && s.workflow_version === 2;
      },
      60_000,
    );
    const [reset] = await q<{ reason: string }>(`SELECT reason FROM audit_events WHERE action = 'stage.reset-for-version' AND segment = $1`, [ROUTED]);
    expect(reset.reason).toMatch(/v2 became the champion \(the stage was earned by v1\)/);
    await waitFor(
      'Unleash caught up',
      async () => (await admin.readWorkflowFlag(wf.triage)).segments.find((s) => s.segment === ROUTED)?.split.stage === 'shadow',
      30_000,
    );
    const later = await probe();
    expect(later.every((r) => r.version === 2 && (r.action === 'none' || r.action === 'double-label'))).toBe(true);
  });
});
