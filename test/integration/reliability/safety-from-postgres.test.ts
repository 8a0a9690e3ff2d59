import * as path from 'node:path';
import { rmSync } from 'node:fs';
import { Client } from 'pg';
import { Producer } from 'kafkajs';
import { UnleashAdminGateway } from '../../../src/flags/unleash-admin.gateway';
import { HumanAgents } from '../../../tools/simulator/human-agents';
import { WorkFloor } from '../../../tools/simulator/work-floor';
import { toWorkItemEvent, WorkloadGenerator } from '../../../tools/simulator/workload';
import { writeTestWorkflows } from '../../factories/workflows';
import { findRepoRoot } from '../../harness/kafka-cluster';
import { PG_BASE_URL } from '../../harness/postgres';
import {
  api,
  createTopics,
  createToken,
  freePort,
  kafkaClient,
  setScenario,
  startService,
  startTogether,
  stopTogether,
  TestService,
  TestTopics,
  uniqueSuffix,
  waitFor,
} from '../../harness/test-env';
import { startUnleash, tokenStateFile, UnleashHandle } from '../../harness/unleash-server';
import { FaultDb, openDb, sleep, TopicWatcher } from './fault-kit';
import { writeStages } from '../../harness/service-fixture';

/**
 * The safety controls hold from PostgreSQL alone. On an Unleash of this test's own, with two
 * instances of the service on one database: Unleash stops; an API rollback and the kill switch
 * still stop `auto` on both instances within a second, the regression guard still reverts a
 * drifting segment, and routing events that waited in the outbox are not published once the kill
 * switch is on or their segment was rolled back. When Unleash is back the flags catch up.
 */
jest.setTimeout(600_000);

const ROUTED = 'chat|us'; // confidence-routed: rolled back through the API while Unleash is down
const DRIFT = 'email|eu'; // supervised: its guard reverts it while Unleash is down

describe('safety controls from PostgreSQL alone', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix, triage: { rollout: { supervisedBlindShare: 0.5, auditShare: 0.2, doubleLabelShare: 0 } } });
  const database = `understudy_unleash_safety_${suffix}`;
  const killSwitchFlag = `understudy.kill-switch-${suffix}`;
  let unleashPort: number;
  let unleash: UnleashHandle | null = null;
  let db: FaultDb;
  let topics: TestTopics;
  const services: TestService[] = [];
  let producer: Producer;
  let routing: TopicWatcher;
  let floor: WorkFloor;
  let stopFloor = false;
  let traffic: Promise<void>;
  let ops: string;
  const generator = new WorkloadGenerator({
    seed: 52,
    triageWorkflow: wf.triage,
    triageShare: 1,
    triageSegments: [['chat', 'us']],
    idPrefix: `${suffix}-probe-`,
  });

  const unleashOptions = () => ({
    port: unleashPort,
    database,
    logFile: path.join(findRepoRoot(__dirname), '.stack', 'logs', `unleash-safety-${suffix}.log`),
    onProgress: (m: string) => console.log(`[unleash-safety] ${m}`),
  });
  const start = () =>
    startService({
      suffix,
      topics,
      workflowsFile: wf.file,
      databaseUrl: db.url,
      env: {
        UNLEASH_URL: unleash!.url,
        UNLEASH_CLIENT_TOKEN: unleash!.clientToken,
        UNLEASH_ADMIN_TOKEN: unleash!.adminToken,
        UNLEASH_REFRESH_MS: '500',
        UNLEASH_KILL_SWITCH_FLAG: killSwitchFlag,
        CONTROLLER_INTERVAL_MS: '500',
      },
    });
  const segment = async (name: string) =>
    (
      await db.rows<{ stage: string; pause_kind: string | null; flag_split: { stage: string; pending?: boolean } | null }>(
        `SELECT stage, pause_kind, flag_split FROM segments WHERE workflow = $1 AND segment = $2`,
        [wf.triage, name],
      )
    )[0];
  /** Sends probe items of the routed segment and waits for every one's routing decision; returns the actions taken. */
  const probe = async (n = 60): Promise<string[]> => {
    const items = generator.batch(n);
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    const ids = items.map((i) => i.itemId);
    await waitFor(
      'every probe routed',
      async () => (await db.count(`SELECT count(*) n FROM routing_decisions WHERE item_id = ANY($1)`, [ids])) === ids.length,
      90_000,
      250,
    );
    return (await db.rows<{ action: string }>(`SELECT action FROM routing_decisions WHERE item_id = ANY($1)`, [ids])).map((r) => r.action);
  };
  /** Routing events as they wait in the outbox after a Kafka outage: `auto`, routed a moment ago. */
  const backlog = async (n: number): Promise<string[]> => {
    const rows = await db.rows<{ id: string }>(
      `INSERT INTO outbox (topic, message_key, payload)
       SELECT $1, 'backlog-' || g, jsonb_build_object('eventId', 'backlog-' || $4 || '-' || g, 'itemId', 'backlog-' || $4 || '-' || g, 'workflow', $2::text,
              'segment', $3::text, 'stage', 'confidence-routed', 'action', 'auto', 'routedAt', now())
       FROM generate_series(1, $5) g RETURNING id::text`,
      [topics.routing, wf.triage, ROUTED, `${suffix}-${Date.now()}`, n],
    );
    return rows.map((r) => r.id);
  };
  const withheld = async (ids: string[]) =>
    db.rows<{ reason: string | null; sent: boolean }>(`SELECT withheld_reason reason, sent_at IS NOT NULL sent FROM outbox WHERE id = ANY($1::bigint[])`, [
      ids,
    ]);
  const publishedItems = () => new Set(routing.messages.map((m) => (JSON.parse(m.value!.toString('utf8')) as { itemId: string }).itemId));

  beforeAll(async () => {
    unleashPort = await freePort();
    unleash = await startUnleash(unleashOptions());
    db = await openDb();
    topics = await createTopics(suffix, 4);
    await setScenario(wf.model, { seed: 13, accuracy: 0.95, confidence: { correctMean: 0.9, wrongMean: 0.5, spread: 0.08 }, latencyMs: 5 });
    await writeStages(
      wf.triage,
      { [ROUTED]: 'confidence-routed', [DRIFT]: 'supervised' },
      new UnleashAdminGateway({ url: unleash.url, adminToken: unleash.adminToken, killSwitchFlag }),
    );
    // A fixed threshold, so that the confidence-routed segment sends items `auto` from the start.
    await db.pg.query(`INSERT INTO segments (workflow, segment, stage, threshold, threshold_source) VALUES ($1, $2, 'shadow', 0.6, 'fixed')`, [
      wf.triage,
      ROUTED,
    ]);
    services.push(...(await startTogether(2, start)));
    ops = createToken(db.url, 'ops', 'safety ops');
    const kafka = kafkaClient(`safety-${suffix}`);
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    routing = await new TopicWatcher(kafka, topics.routing, `routing-reader-${suffix}`).start();
    // People at work on the drifting segment: their blind decisions feed its guard.
    floor = new WorkFloor({
      kafka,
      topics,
      generator: new WorkloadGenerator({
        seed: 53,
        triageWorkflow: wf.triage,
        triageShare: 1,
        triageSegments: [['email', 'eu']],
        idPrefix: `${suffix}-floor-`,
      }),
      agents: new HumanAgents({ seed: 6, errorRate: 0 }),
      thinkTimeMs: 200,
      groupId: `floor-${suffix}`,
    });
    await floor.start();
    traffic = floor.run(1_000_000, 30, () => stopFloor);
  });

  afterAll(async () => {
    stopFloor = true;
    await traffic;
    await floor?.stop();
    await routing?.stop();
    await producer?.disconnect();
    await stopTogether(services);
    await unleash?.stop();
    await db?.close();
    const admin = new Client({ connectionString: `${PG_BASE_URL}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
    rmSync(tokenStateFile(findRepoRoot(__dirname), database), { force: true });
  });

  it('rolls back, pulls the kill switch and reverts a drift with Unleash stopped, on two instances, and the flags catch up after', async () => {
    await waitFor(
      'both segments adopted from Unleash',
      async () => (await segment(ROUTED))?.stage === 'confidence-routed' && (await segment(DRIFT))?.stage === 'supervised',
      60_000,
      250,
    );
    await waitFor('auto routing on the confidence-routed segment', async () => (await probe(30)).includes('auto'), 60_000, 0);

    await unleash!.stop();
    unleash = { ...unleash!, stop: async () => undefined };

    // An API rollback with Unleash down: stored first, in force on both instances within a second.
    const rb = await api(services[0].url, 'POST', `/api/workflows/${wf.triage}/segments/${encodeURIComponent(ROUTED)}/rollback`, {
      token: ops,
      body: { reason: 'complaints' },
    });
    expect(rb.status).toBe(200);
    expect(rb.body).toMatchObject({ stage: 'supervised', flag: { stage: 'supervised', pending: true } });
    // The bound under test, not a wait for an event: every instance re-reads the stored state at
    // least once a second, so items routed from a second after the commit on see the rollback.
    await sleep(1_100);
    const afterRollback = await probe();
    expect(afterRollback.filter((a) => a === 'auto')).toEqual([]);
    expect(afterRollback).toContain('suggest');

    // A backlog of `auto` from before the rollback (Kafka was down): withheld, never published.
    const stale = await backlog(10);
    await waitFor('the stale backlog withheld', async () => (await withheld(stale)).every((r) => r.sent), 30_000, 250);
    expect(new Set((await withheld(stale)).map((r) => r.reason))).toEqual(
      new Set(['the segment is at supervised now, below the confidence-routed it was routed at']),
    );

    // The drifting segment's guard reverts it from PostgreSQL alone.
    const at = new Date().toISOString();
    await setScenario(wf.model, { drift: [{ segment: DRIFT, atTime: at, accuracy: 0.3 }] }, 'PATCH');
    await waitFor('the drifting segment reverted while Unleash is down', async () => (await segment(DRIFT))?.stage === 'shadow', 240_000, 500);
    expect(await segment(DRIFT)).toMatchObject({ pause_kind: 'guard', flag_split: { stage: 'shadow', pending: true } });
    await setScenario(wf.model, { drift: [] }, 'PATCH');

    // The kill switch with Unleash down, through the other instance: nothing leaves, from either.
    const ks = await api(services[1].url, 'PUT', '/api/kill-switch', { token: ops, body: { reason: 'incident 7', enabled: true } });
    expect(ks.body).toEqual({ enabled: true, unleash: 'pending' });
    expect((await api(services[0].url, 'GET', '/api/kill-switch', { token: ops })).body).toEqual({ enabled: true, stored: true, unleash: null, pending: true });
    await sleep(1_100); // the same one-second bound

    // The AI is not even called (jobs skipped), and nothing is routed out.
    const items = generator.batch(60);
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    const ids = items.map((i) => i.itemId);
    await waitFor(
      'every killed probe settled',
      async () =>
        (await db.count(`SELECT count(*) n FROM ai_jobs WHERE item_id = ANY($1) AND state IN ('skipped', 'completed', 'failed')`, [ids])) === ids.length,
      90_000,
      250,
    );
    expect(await db.count(`SELECT count(*) n FROM routing_decisions WHERE item_id = ANY($1) AND action <> 'none'`, [ids])).toBe(0);
    expect(await db.count(`SELECT count(*) n FROM ai_jobs WHERE item_id = ANY($1) AND state = 'skipped'`, [ids])).toBe(ids.length);
    const queued = await backlog(10);
    await waitFor('the backlog withheld', async () => (await withheld(queued)).every((r) => r.sent), 30_000, 250);
    expect(new Set((await withheld(queued)).map((r) => r.reason))).toEqual(new Set(['the kill switch is on']));
    // Withheld rows never reach the producer; none of them is on ai.routing either.
    const published = publishedItems();
    expect(
      (await db.rows<{ item: string }>(`SELECT payload->>'itemId' item FROM outbox WHERE id = ANY($1::bigint[])`, [[...stale, ...queued]])).filter((r) =>
        published.has(r.item),
      ),
    ).toEqual([]);

    // Unleash comes back: every owed write catches up, and the flags say what PostgreSQL says.
    unleash = await startUnleash(unleashOptions());
    const admin = new UnleashAdminGateway({ url: unleash.url, adminToken: unleash.adminToken, killSwitchFlag });
    await waitFor(
      'the flags caught up',
      async () => {
        const flag = await admin.readWorkflowFlag(wf.triage).catch(() => null);
        const split = (s: string) => flag?.segments.find((x) => x.segment === s)?.split;
        return split(ROUTED)?.stage === 'supervised' && split(DRIFT)?.stage === 'shadow' && (await admin.readKillSwitch().catch(() => false)) === true;
      },
      120_000,
      500,
    );
    await waitFor(
      'no write owed any more',
      async () => !(await segment(ROUTED))?.flag_split?.pending && !(await segment(DRIFT))?.flag_split?.pending,
      30_000,
      250,
    );
    // The controller did not mistake its own catch-up for an operator's change.
    expect(
      await db.count(
        `SELECT count(*) n FROM audit_events WHERE action IN ('flag.operator-change', 'kill-switch.changed') AND actor_kind = 'operator' AND at > $1`,
        [at],
      ),
    ).toBe(0);
  });
});
