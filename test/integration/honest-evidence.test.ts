import { Producer } from 'kafkajs';
import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import { stableDraw } from '../../src/routing/domain/decide-route';
import { toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
import type { TestWorkflows } from '../factories/workflows';
import { ServiceFixture, startServiceFixture } from '../harness/service-fixture';
import { setScenario, stackInfo, waitFor, waitForCount } from '../harness/test-env';

/**
 * The evidence model on the real stack (Unleash, the Kafka mock cluster, the model simulator):
 * supervised has a blind share of its own; a stage an operator chose in Unleash is guarded like one
 * the controller chose, and so is the stage a revert lands on; a late label counts for the step in
 * which the AI decided, not the one in which it arrives.
 */
jest.setTimeout(600_000);

const SUPERVISED = 'email|eu'; // an operator puts it at supervised in Unleash
const ROUTED = 'chat|us'; // an operator puts it at confidence-routed in Unleash
const LATE = 'phone|apac'; // decided in shadow, labelled after an operator moved it on
const BLIND_SHARE = 0.3;

describe('honest evidence', () => {
  let f: ServiceFixture;
  let wf: TestWorkflows;
  let producer: Producer;
  let routed: Array<{ itemId: string; segment: string; action: string; decision: unknown }>;
  const admin = new UnleashAdminGateway({ url: stackInfo().unleash.url, adminToken: stackInfo().unleash.adminToken });
  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => f.q<T>(sql, params);
  const segment = async (name: string) =>
    (
      await q<{ stage: string; guard_params: { h: number } | null; baseline: { stage: string; source: string } | null; stage_started_at: Date }>(
        `SELECT stage, guard_params, baseline, stage_started_at FROM segments WHERE segment = $1`,
        [name],
      )
    )[0];

  beforeAll(async () => {
    f = await startServiceFixture({
      name: 'evidence',
      workflows: { triage: { rollout: { auditShare: 0.3, supervisedBlindShare: BLIND_SHARE, doubleLabelShare: 0 } } },
      scenario: { seed: 5, accuracy: 0.95, confidence: { correctMean: 0.9, wrongMean: 0.55, spread: 0.1 }, latencyMs: 0 },
      // Ops set two segments' stages in Unleash before any traffic: the controller adopts them as an operator's.
      stages: { [SUPERVISED]: 'supervised', [ROUTED]: 'confidence-routed' },
      env: { CONTROLLER_INTERVAL_MS: '500', UNLEASH_REFRESH_MS: '500' },
    });
    wf = f.wf;
    producer = await f.producer();
    routed = (await f.collect(f.topics.routing)) as typeof routed;
    await f.startFloor({
      generator: {
        seed: 6,
        triageShare: 1,
        triageSegments: [
          ['email', 'eu'],
          ['chat', 'us'],
        ],
      },
      agents: { seed: 3, errorRate: 0, acceptWrongRate: 0.5 },
      thinkTimeMs: 300,
      perSecond: 30,
    });
  });

  afterAll(() => f?.close());

  describe('the supervised blind share', () => {
    it('routes its share of the supervised arm to audit, with nothing shown, and the rest to suggest', async () => {
      await waitFor('300 routing events of the supervised segment', async () => routed.filter((e) => e.segment === SUPERVISED).length >= 300, 120_000);
      const events = routed.filter((e) => e.segment === SUPERVISED);
      // Every event is the item's own draw: audit below the share, suggest above it.
      for (const e of events)
        expect({ item: e.itemId, action: e.action }).toEqual({
          item: e.itemId,
          action: stableDraw(e.itemId, `audit:${wf.triage}`) < BLIND_SHARE ? 'audit' : 'suggest',
        });
      const audits = events.filter((e) => e.action === 'audit');
      expect(audits.every((e) => e.decision === null)).toBe(true); // blind: the person is not shown the answer
      const sd = Math.sqrt((BLIND_SHARE * (1 - BLIND_SHARE)) / events.length);
      expect(Math.abs(audits.length / events.length - BLIND_SHARE)).toBeLessThan(5 * sd);
      // Their labels are blind evidence of the supervised arm; the reviews of suggestions are anchored.
      await waitFor(
        'blind and anchored labels of the supervised arm',
        async () => {
          const [e] = await q<{ blind: string; anchored: string }>(
            `SELECT coalesce(sum(blind_n), 0) blind, coalesce(sum(anchored_n), 0) anchored FROM evidence_minute WHERE segment = $1 AND arm = 'supervised'`,
            [SUPERVISED],
          );
          return Number(e.blind) > 20 && Number(e.anchored) > 20;
        },
        60_000,
      );
    });
  });

  describe('guards, whoever moved the segment', () => {
    it('arms the guard of each stage an operator chose in Unleash', async () => {
      for (const [name, stage] of [
        [SUPERVISED, 'supervised'],
        [ROUTED, 'confidence-routed'],
      ] as const) {
        await waitFor(`${name} adopted at ${stage}`, async () => (await segment(name))?.stage === stage, 60_000);
        const s = await segment(name);
        expect(s.guard_params?.h).toBeGreaterThan(0);
        expect(s.baseline).toMatchObject({ stage });
      }
      const [adopted] = await q<{ details: { guard?: { baseline: { stage: string } } } }>(
        `SELECT details FROM audit_events WHERE action = 'flag.operator-change' AND segment = $1 ORDER BY id LIMIT 1`,
        [SUPERVISED],
      );
      expect(adopted.details.guard?.baseline.stage).toBe('supervised');
    });

    it('reverts both on a drift, and guards the stage a revert lands on', async () => {
      const at = new Date().toISOString();
      await setScenario(
        wf.model,
        {
          drift: [
            { segment: SUPERVISED, atTime: at, accuracy: 0.3 },
            { segment: ROUTED, atTime: at, accuracy: 0.3 },
          ],
          confidence: { correctMean: 0.9, wrongMean: 0.88, spread: 0.05 },
        },
        'PATCH',
      );
      // The operator's supervised segment: its guard reverts it to shadow.
      await waitFor(
        'the supervised segment reverted',
        async () => (await q(`SELECT id FROM audit_events WHERE action = 'stage.reverted' AND segment = $1`, [SUPERVISED])).length > 0,
        240_000,
        500,
      );
      // The operator's confidence-routed segment: reverted to supervised, where a guard is armed at once …
      const reverts = async () =>
        q<{
          details: {
            from: { stage: string };
            to: { stage: string };
            guard: { statistic: number; threshold: number };
            armedGuard?: { baseline: { stage: string } };
          };
        }>(`SELECT details FROM audit_events WHERE action = 'stage.reverted' AND segment = $1 ORDER BY id`, [ROUTED]);
      await waitFor('the confidence-routed segment reverted', async () => (await reverts()).length > 0, 240_000, 500);
      const [first] = await reverts();
      expect(first.details.from.stage).toBe('confidence-routed');
      expect(first.details.to.stage).toBe('supervised');
      expect(first.details.guard.statistic).toBeGreaterThanOrEqual(first.details.guard.threshold);
      expect(first.details.armedGuard?.baseline.stage).toBe('supervised');
      // … and, while the drift lasts, reverts it again, to shadow: the lower stage was guarded, though locked.
      await waitFor('a second revert, from supervised', async () => (await reverts()).length > 1, 240_000, 500);
      const second = (await reverts())[1];
      expect(second.details.from.stage).toBe('supervised');
      expect(second.details.to.stage).toBe('shadow');
      await setScenario(wf.model, { drift: [], confidence: { correctMean: 0.9, wrongMean: 0.55, spread: 0.1 } }, 'PATCH');
    });
  });

  describe('late labels', () => {
    it('count for the step in which the AI decided, not the one they arrive in', async () => {
      const gen = new WorkloadGenerator({
        seed: 9,
        triageWorkflow: wf.triage,
        triageShare: 1,
        triageSegments: [['phone', 'apac']],
        idPrefix: `${f.suffix}-late-`,
      });
      const items = gen.batch(40);
      await producer.send({ topic: f.topics.workItems, messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })) });
      const ids = items.map((i) => i.itemId);
      const counted = (table: string) => async () => (await q(`SELECT id FROM ${table} WHERE item_id = ANY($1)`, [ids])).length;
      // Where the items are, should they stop on the way (the work floor's traffic goes on beside them).
      const whereTheItemsAre = async () =>
        `stored ${await counted('work_items')()}, jobs ${JSON.stringify(
          await q(
            `SELECT state, coalesce(skip_reason, last_error) AS why, count(*)::int AS n FROM ai_jobs WHERE item_id = ANY($1) GROUP BY 1, 2 ORDER BY 1, 2`,
            [ids],
          ),
        )}`;
      await waitForCount('the AI decided every item (in shadow)', counted('ai_decisions'), 40, { stallMs: 120_000, explain: whereTheItemsAre });
      // Discovered, and its shadow strategy written to Unleash: an operator's move made before that write would be overwritten by it.
      await waitFor(
        'the segment discovered and its strategy in Unleash',
        async () => {
          const [s] = await q<{ stage: string; flag_split: unknown }>(`SELECT stage, flag_split FROM segments WHERE segment = $1`, [LATE]);
          return s?.stage === 'shadow' && s.flag_split !== null && (await admin.readWorkflowFlag(wf.triage)).segments.some((x) => x.segment === LATE);
        },
        30_000,
      );

      // An operator moves the segment on; only then do people label the items the AI decided in shadow.
      await admin.writeSegmentSplit(wf.triage, LATE, { stage: 'supervised', trafficPct: 100 });
      await waitFor('the move adopted', async () => (await segment(LATE))?.stage === 'supervised', 60_000);
      const movedAt = new Date((await segment(LATE)).stage_started_at);
      await producer.send({
        topic: f.topics.workDecisions,
        messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(gen.humanDecision(i, { errorRate: 0 })) })),
      });
      await waitForCount('the late labels compared', counted('comparisons'), 40, {
        stallMs: 120_000,
        explain: async () => `human decisions stored ${await counted('human_decisions')()}`,
      });

      const rows = await q<{ arm: string; evidence: string; ai_decided_at: Date; created_at: Date }>(
        `SELECT arm, evidence, ai_decided_at, created_at FROM comparisons WHERE item_id = ANY($1)`,
        [ids],
      );
      expect(rows.every((r) => r.arm === 'shadow' && r.evidence === 'blind')).toBe(true);
      expect(rows.every((r) => new Date(r.ai_decided_at) < movedAt && new Date(r.created_at) > movedAt)).toBe(true);
      // The evidence sits in the shadow arm at the minutes the AI decided; the new step's arm has none of it.
      const [e] = await q<{ shadow: string; supervised: string }>(
        `SELECT coalesce(sum(blind_n) FILTER (WHERE arm = 'shadow' AND minute < $2), 0) shadow,
                coalesce(sum(blind_n) FILTER (WHERE arm = 'supervised'), 0) supervised
         FROM evidence_minute WHERE segment = $1`,
        [LATE, movedAt],
      );
      expect(Number(e.shadow)).toBe(40);
      expect(Number(e.supervised)).toBe(0);
      // The gate of the new step, evaluated after the labels arrived, has seen none of them.
      const labelledAt = new Date();
      await waitFor(
        'a gate verdict after the labels',
        async () => {
          const [s] = await q<{ last_verdict: { evaluatedAt: string; counts: { n: number; arm: string } } | null }>(
            `SELECT last_verdict FROM segments WHERE segment = $1`,
            [LATE],
          );
          return !!s.last_verdict && new Date(s.last_verdict.evaluatedAt) > labelledAt;
        },
        30_000,
      );
      const [s] = await q<{ last_verdict: { counts: { n: number; arm: string } } }>(`SELECT last_verdict FROM segments WHERE segment = $1`, [LATE]);
      expect(s.last_verdict.counts).toMatchObject({ arm: 'supervised', n: 0 });
    });
  });
});
