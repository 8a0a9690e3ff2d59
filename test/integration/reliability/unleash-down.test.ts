import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { Producer } from 'kafkajs';
import { UnleashAdminGateway } from '../../../src/flags/unleash-admin.gateway';
import { toWorkItemEvent, WorkloadGenerator } from '../../../tools/simulator/workload';
import { writeTestWorkflows } from '../../factories/workflows';
import { findRepoRoot } from '../../harness/kafka-cluster';
import { PG_BASE_URL } from '../../harness/postgres';
import {
  createTopics,
  freePort,
  kafkaClient,
  setScenario,
  startService,
  TestService,
  TestTopics,
  uniqueSuffix,
  waitFor,
  waitForFlags,
} from '../../harness/test-env';
import { startUnleash, tokenStateFile, UnleashHandle } from '../../harness/unleash-server';
import { FaultDb, health, HealthWatcher, openDb, sleep, TopicWatcher } from './fault-kit';
import { writeStages } from '../../harness/service-fixture';

/**
 * Unleash unreachable. On an Unleash of this test's own (the shared one is never
 * touched), a segment is supervised and another confidence-routed; then Unleash stops. The
 * running service keeps its last known flag state (suggestions and autos keep flowing); a
 * restart with the backup file knows it too; a restart WITHOUT any state puts everything in
 * shadow and nothing at all leaves Understudy; when Unleash comes back, routing resumes by itself.
 */
jest.setTimeout(300_000);

const SUPERVISED = 'email|eu';
const ROUTED = 'chat|us';
const SHADOW = 'phone|apac';
const BATCH = 90;

describe('Unleash down', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  const database = `understudy_unleash_faults_${suffix}`;
  const killSwitchFlag = `understudy.kill-switch-${suffix}`;
  const backupWithState = mkdtempSync(path.join(tmpdir(), 'understudy-unleash-backup-'));
  let unleashPort: number;
  let unleash: UnleashHandle | null = null;
  let db: FaultDb;
  let topics: TestTopics;
  let service: TestService | null = null;
  let producer: Producer;
  let routing: TopicWatcher;
  let watcher: HealthWatcher;
  const generator = new WorkloadGenerator({
    seed: 41,
    triageWorkflow: wf.triage,
    triageShare: 1,
    triageSegments: [
      ['email', 'eu'],
      ['chat', 'us'],
      ['phone', 'apac'],
    ],
    idPrefix: `${suffix}-`,
  });

  const unleashOptions = () => ({
    port: unleashPort,
    database,
    logFile: path.join(findRepoRoot(__dirname), '.stack', 'logs', `unleash-faults-${suffix}.log`),
    onProgress: (m: string) => console.log(`[unleash-faults] ${m}`),
  });
  const start = (backupPath: string) =>
    startService({
      suffix,
      topics,
      workflowsFile: wf.file,
      databaseUrl: db.url,
      env: {
        UNLEASH_URL: unleash!.url,
        UNLEASH_CLIENT_TOKEN: unleash!.clientToken,
        UNLEASH_ADMIN_TOKEN: unleash!.adminToken,
        UNLEASH_BACKUP_PATH: backupPath,
        UNLEASH_REFRESH_MS: '500',
        UNLEASH_KILL_SWITCH_FLAG: killSwitchFlag,
      },
    });

  /** Sends a batch of items and waits until each has its routing decision; returns their ids. */
  const sendBatch = async (): Promise<string[]> => {
    const items = generator.batch(BATCH);
    await producer.send({ topic: topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
    const ids = items.map((i) => i.itemId);
    await waitFor(
      'every item of the batch routed',
      async () => (await db.count(`SELECT count(*) n FROM routing_decisions WHERE item_id = ANY($1)`, [ids])) === ids.length,
      90_000,
      250,
    );
    await waitFor('the outbox drained', async () => (await db.count('SELECT count(*) n FROM outbox WHERE sent_at IS NULL')) === 0, 30_000, 250);
    return ids;
  };
  const actions = async (ids: string[]) =>
    Object.fromEntries(
      (
        await db.rows<{ segment: string; actions: string[] }>(
          `SELECT segment, array_agg(DISTINCT action ORDER BY action) AS actions FROM routing_decisions WHERE item_id = ANY($1) GROUP BY segment`,
          [ids],
        )
      ).map((r) => [r.segment, r.actions]),
    );
  /** The stages Unleash was given, applied: suggestions, autos (and reviews), shadow. */
  const expectKnownState = async (ids: string[]) => {
    const a = await actions(ids);
    expect(a[SUPERVISED]).toEqual(expect.arrayContaining(['suggest']));
    expect(a[SUPERVISED].every((x) => ['suggest', 'audit'].includes(x))).toBe(true); // audit: the blind share
    expect(a[ROUTED]).toEqual(expect.arrayContaining(['auto']));
    expect(a[ROUTED].every((x) => ['auto', 'review', 'audit'].includes(x))).toBe(true);
    expect(a[SHADOW].every((x) => ['none', 'double-label'].includes(x))).toBe(true);
  };
  const publishedFor = (ids: string[]) => {
    const set = new Set(ids);
    return routing.messages.map((m) => JSON.parse(m.value!.toString('utf8')) as { itemId: string; action: string }).filter((e) => set.has(e.itemId));
  };

  beforeAll(async () => {
    unleashPort = await freePort();
    unleash = await startUnleash(unleashOptions());
    db = await openDb();
    topics = await createTopics(suffix, 4);
    await setScenario(wf.model, { seed: 12, accuracy: 0.9, confidence: { correctMean: 0.9, wrongMean: 0.5, spread: 0.08 }, latencyMs: 10 });
    await writeStages(
      wf.triage,
      { [SUPERVISED]: 'supervised', [ROUTED]: 'confidence-routed' },
      new UnleashAdminGateway({ url: unleash.url, adminToken: unleash.adminToken, killSwitchFlag }),
    );
    // A fixed threshold, so that the confidence-routed segment does send items `auto`.
    await db.pg.query(`INSERT INTO segments (workflow, segment, stage, threshold, threshold_source) VALUES ($1, $2, 'confidence-routed', 0.6, 'fixed')`, [
      wf.triage,
      ROUTED,
    ]);
    const kafka = kafkaClient(`unleash-down-${suffix}`);
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    routing = await new TopicWatcher(kafka, topics.routing, `routing-reader-${suffix}`).start();
    watcher = new HealthWatcher(() => service?.url ?? null).start();
  });

  afterAll(async () => {
    watcher?.stop();
    await routing?.stop();
    await producer?.disconnect();
    await service?.stop();
    await unleash?.stop();
    await db?.close();
    // This test's Unleash leaves nothing behind: its database, its token state, the backup folders.
    const admin = new Client({ connectionString: `${PG_BASE_URL}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
    rmSync(tokenStateFile(findRepoRoot(__dirname), database), { force: true });
    rmSync(backupWithState, { recursive: true, force: true });
  });

  it('routes on the last known flag state while Unleash is down, and on no state at all sends nothing', async () => {
    service = await start(backupWithState);
    await waitForFlags(service); // the flag reader's first refresh
    const before = await sendBatch();
    await expectKnownState(before);
    // The backup file is written: the last known state survives a restart.
    expect(readdirSync(backupWithState).some((f) => f.startsWith('unleash-backup'))).toBe(true);

    // Unleash goes away. The running instance keeps routing on what it last knew.
    await unleash!.stop();
    await waitFor('/health to see Unleash down', async () => (await health(service!.url)).body.checks?.unleash.status === 'degraded', 30_000, 250);
    const h = await health(service.url);
    expect(h.status).toBe(200);
    expect(h.body.checks!.unleash.detail).toMatch(/routing on the last known flag state/);
    const duringOutage = await sendBatch();
    await expectKnownState(duringOutage);

    // A restart while Unleash is still down, with the backup file: the state is known from it.
    await service.stop();
    service = await start(backupWithState);
    const fromBackup = await sendBatch();
    await expectKnownState(fromBackup);

    // A restart with no backup at all while Unleash is down: the state is unknown, so everything is shadow.
    await service.stop();
    let afterOutage: string[] = [];
    const empty = mkdtempSync(path.join(tmpdir(), 'understudy-unleash-nobackup-'));
    try {
      service = await start(empty);
      const down = await health(service.url);
      expect(down.status).toBe(200);
      expect(down.body.checks!.unleash.status).toBe('down');
      const unknown = await sendBatch();
      const rows = await db.rows<{ action: string; stage: string; reason: string }>(
        `SELECT DISTINCT action, stage, reason FROM routing_decisions WHERE item_id = ANY($1)`,
        [unknown],
      );
      expect(rows).toEqual([{ action: 'none', stage: 'shadow', reason: 'flag state unknown: shadow' }]);
      expect(await db.count(`SELECT count(*) n FROM outbox WHERE payload->>'itemId' = ANY($1)`, [unknown])).toBe(0);
      await sleep(3000); // anything on its way to ai.routing would have arrived by now
      expect(publishedFor(unknown)).toEqual([]);

      // Unleash comes back: the same instance picks the flags up and routes again, without a restart.
      unleash = await startUnleash(unleashOptions());
      // Up, and without the "flag state not loaded yet" note: the flags have arrived.
      await waitFor(
        '/health to see Unleash up with flags loaded',
        async () => {
          const u = (await health(service!.url)).body.checks?.unleash;
          return u?.status === 'up' && !u.detail;
        },
        60_000,
        250,
      );
      afterOutage = await sendBatch();
      await expectKnownState(afterOutage);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }

    // What was routed while the state was known reached ai.routing, batch by batch.
    for (const ids of [before, duringOutage, fromBackup, afterOutage]) {
      const sentOut = await db.count(`SELECT count(*) n FROM routing_decisions WHERE item_id = ANY($1) AND action <> 'none'`, [ids]);
      await waitFor('the batch on ai.routing', async () => new Set(publishedFor(ids).map((e) => e.itemId)).size === sentOut, 30_000, 250);
    }
    watcher.stop();
    expect(watcher.samples.filter((s) => s.status !== 200 && s.status !== 0)).toEqual([]);
  });
});
