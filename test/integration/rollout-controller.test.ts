import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import type { SegmentSplit } from '../../src/flags/domain/segment-split';
import type { TestWorkflows } from '../factories/workflows';
import { ServiceFixture, startServiceFixture } from '../harness/service-fixture';
import { setScenario, stackInfo, waitFor } from '../harness/test-env';

/**
 * End to end against the real Unleash server, the Kafka mock cluster and the model
 * simulator: a segment climbs shadow → supervised → confidence-routed by itself, step by step
 * (seen in Unleash's own Admin API), holds steady while the AI is stable, is reverted when the
 * simulator drifts, and the controller adopts what an operator does in Unleash.
 */
jest.setTimeout(600_000);

const SEGMENT = 'email|eu';

describe('rollout controller', () => {
  let f: ServiceFixture;
  let wf: TestWorkflows;
  let admin: UnleashAdminGateway;
  let alerts: Array<Record<string, unknown>>;
  const seen: SegmentSplit[] = [];
  let watching = true;
  let watcher: Promise<void>;

  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => f.q<T>(sql, params);
  const splitNow = async (): Promise<SegmentSplit | null> =>
    (await admin.readWorkflowFlag(wf.triage)).segments.find((s) => s.segment === SEGMENT)?.split ?? null;
  const key = (s: SegmentSplit) => (s.stage === 'shadow' ? 'shadow' : `${s.stage} ${s.trafficPct}`);

  beforeAll(async () => {
    f = await startServiceFixture({
      name: 'rollout',
      workflows: {
        triage: {
          rollout: {
            steps: [50, 100],
            accuracyTarget: 0.85,
            delta: 0.1,
            minLabelsPerThreshold: 20,
            // Blind samples large enough that each step's gate has its own evidence within seconds.
            auditShare: 0.2,
            supervisedBlindShare: 0.3,
            doubleLabelShare: 0,
            gates: {
              // A few seconds per step, so the watcher below sees each one in Unleash.
              supervised: { minSample: 80, minDwellMinutes: 0.05, agreementTarget: 0.8, approval: false },
              'confidence-routed': { minSample: 80, minDwellMinutes: 0.05, agreementTarget: 0.8, maxOverrideRate: 0.3, approval: false },
            },
          },
        },
      },
      scenario: { seed: 3, accuracy: 0.95, confidence: { correctMean: 0.9, wrongMean: 0.5, spread: 0.08 }, latencyMs: 0 },
      env: { CONTROLLER_INTERVAL_MS: '400', UNLEASH_REFRESH_MS: '500' },
      instances: 2,
    });
    wf = f.wf;
    admin = new UnleashAdminGateway({
      url: stackInfo().unleash.url,
      adminToken: stackInfo().unleash.adminToken,
      killSwitchFlag: `understudy.kill-switch-${f.suffix}`,
    });
    alerts = await f.collect(f.topics.alerts);
    // Watch Unleash itself, as ops would, and note every split the segment goes through.
    watcher = (async () => {
      while (watching) {
        const s = await splitNow().catch(() => null);
        if (s && (seen.length === 0 || key(seen[seen.length - 1]) !== key(s))) seen.push(s);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    // Items at 60 a second, each labelled by a person after their think time, for the whole file.
    await f.startFloor({
      generator: { seed: 5, triageShare: 1, triageSegments: [['email', 'eu']] },
      agents: { seed: 9, errorRate: 0 },
      thinkTimeMs: 800,
      perSecond: 60,
    });
  });

  afterAll(async () => {
    watching = false;
    await watcher;
    await f?.close();
  });

  it('climbs shadow → supervised → confidence-routed by itself, one step at a time, as Unleash shows', async () => {
    await waitFor(
      'confidence-routed 100 % in Unleash',
      async () => {
        const s = await splitNow();
        return s?.stage === 'confidence-routed' && s.trafficPct === 100;
      },
      300_000,
      500,
    );
    // The watcher looks on its own clock: let it see the last split too.
    await waitFor('the watcher to note the top step', async () => seen.length > 0 && key(seen[seen.length - 1]) === 'confidence-routed 100', 10_000, 100);
    expect(seen.map(key)).toEqual(['shadow', 'supervised 50', 'supervised 100', 'confidence-routed 50', 'confidence-routed 100']);
    const promotions = await q<{ details: { to: SegmentSplit } }>(
      `SELECT details FROM audit_events WHERE action = 'stage.promoted' AND segment = $1 ORDER BY id`,
      [SEGMENT],
    );
    expect(promotions.map((p) => key(p.details.to))).toEqual(['supervised 50', 'supervised 100', 'confidence-routed 50', 'confidence-routed 100']);
    const [seg] = await q<{ threshold: number | null; baseline: { lower: number } }>(`SELECT threshold, baseline FROM segments WHERE segment = $1`, [SEGMENT]);
    expect(seg.threshold).not.toBeNull();
    expect(seg.baseline.lower).toBeGreaterThan(0.8);
  });

  it('is led by exactly one of the two instances (one advisory lock holder)', async () => {
    const holders = await q<{ n: string }>(
      // In this test's database only: test files running beside this one have leaders of their own.
      `SELECT count(*) AS n FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND objid = (hashtextextended('understudy:controller', 0) & x'ffffffff'::bigint)::oid
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(Number(holders[0].n)).toBe(1);
  });

  it('holds steady at the top while the AI is stable', async () => {
    // A long run at the top produces no revert (the benchmark measures the rate over 1,000 segment-days).
    const before = Number((await q<{ n: string }>(`SELECT count(*) n FROM comparisons`))[0].n);
    await waitFor(
      '400 more comparisons at confidence-routed',
      async () => Number((await q<{ n: string }>(`SELECT count(*) n FROM comparisons`))[0].n) >= before + 400,
      240_000,
      250,
    );
    expect(await q(`SELECT id FROM audit_events WHERE action = 'stage.reverted'`)).toEqual([]);
    const actions = await q<{ action: string; n: string }>(`SELECT action, count(*) n FROM routing_decisions GROUP BY action`);
    // (No `review`: at 0.95 agreement the certified threshold sits below every wrong answer's confidence.)
    expect(actions.map((r) => r.action)).toEqual(expect.arrayContaining(['auto', 'audit', 'suggest', 'none']));
  });

  it('reverts one stage, locks the segment and alerts on Kafka when the AI drifts', async () => {
    // The simulated model gets much worse and confidently so; blind audits above the
    // threshold see it, and the guard reverts one stage.
    await setScenario(wf.model, { accuracy: 0.45, confidence: { correctMean: 0.9, wrongMean: 0.88, spread: 0.05 } }, 'PATCH');
    await waitFor('a revert', async () => (await q(`SELECT id FROM audit_events WHERE action = 'stage.reverted'`)).length > 0, 180_000, 500);
    const [revert] = await q<{
      details: { to: SegmentSplit; guard: { statistic: number; threshold: number; baseline: number; window: { n: number; rate: number } } };
      reason: string;
    }>(`SELECT details, reason FROM audit_events WHERE action = 'stage.reverted'`);
    expect(key(revert.details.to)).toBe('supervised 100');
    expect(revert.details.guard.statistic).toBeGreaterThanOrEqual(revert.details.guard.threshold);
    expect(revert.details.guard.window.rate).toBeLessThan(revert.details.guard.baseline);
    expect(revert.reason).toMatch(/regression guard breached/);
    await waitFor('Unleash shows the reverted split', async () => key((await splitNow())!) === 'supervised 100', 10_000);
    const [locked] = await q<{ paused: boolean; pause_kind: string }>(`SELECT paused, pause_kind FROM segments WHERE segment = $1`, [SEGMENT]);
    expect(locked).toEqual({ paused: true, pause_kind: 'guard' });
    await waitFor('the revert alert on Kafka', async () => alerts.some((x) => x.kind === 'stage.reverted'), 20_000);
    await setScenario(wf.model, { accuracy: 0.95, confidence: { correctMean: 0.9, wrongMean: 0.5, spread: 0.08 } }, 'PATCH');
  });

  it('lets nothing leave Understudy from any instance while the kill switch is on, and records it as an operator’s change', async () => {
    // Each instance sees it at its own next refresh: wait until the latest jobs, whichever instance
    // ran them, are all skipped, then check what follows.
    await admin.ensureSetup();
    await admin.setKillSwitch(true);
    const KILLED = `state = 'skipped' AND skip_reason LIKE 'kill switch%'`;
    await waitFor(
      'every instance skipping the AI',
      async () => {
        const last = await q<{ killed: boolean }>(
          `SELECT ${KILLED} AS killed FROM ai_jobs WHERE state IN ('completed', 'skipped', 'failed') ORDER BY updated_at DESC LIMIT 30`,
        );
        return last.length === 30 && last.every((j) => j.killed);
      },
      120_000,
      250,
    );
    const killedFrom = new Date();
    await waitFor(
      '30 more jobs skipped',
      async () => Number((await q<{ n: string }>(`SELECT count(*) n FROM ai_jobs WHERE ${KILLED} AND updated_at > $1`, [killedFrom]))[0].n) >= 30,
      120_000,
      250,
    );
    const leaked = await q(
      `SELECT r.action FROM routing_decisions r JOIN ai_decisions d ON d.id = r.ai_decision_id WHERE d.created_at > $1 AND r.action <> 'none'`,
      [killedFrom],
    );
    expect(leaked).toEqual([]);
    await waitFor(
      'the kill switch in the audit log as an operator change',
      async () => (await q(`SELECT id FROM audit_events WHERE action = 'kill-switch.changed' AND actor_kind = 'operator'`)).length > 0,
      30_000,
    );
    await admin.setKillSwitch(false);
  });

  it('sends everything to humans when ops disable the workflow flag in Unleash, and adopts that without undoing it', async () => {
    // Each instance at its own refresh: wait until the latest routing decisions all say so, then
    // every later one must.
    await admin.setWorkflowEnabled(wf.triage, false);
    const DISABLED = `action = 'none' AND reason = 'workflow flag disabled: humans only'`;
    await waitFor(
      'every instance routing to humans only',
      async () => {
        const last = await q<{ disabled: boolean }>(`SELECT ${DISABLED} AS disabled FROM routing_decisions ORDER BY id DESC LIMIT 30`);
        return last.every((r) => r.disabled) && last.length === 30;
      },
      120_000,
      250,
    );
    const [{ mark }] = await q<{ mark: string }>(`SELECT max(id) AS mark FROM routing_decisions`);
    await waitFor(
      '50 more routing decisions',
      async () => Number((await q<{ n: string }>(`SELECT count(*) n FROM routing_decisions WHERE id > $1`, [mark]))[0].n) >= 50,
      120_000,
      250,
    );
    const routedAfter = await q<{ action: string; reason: string }>(`SELECT action, reason FROM routing_decisions WHERE id > $1`, [mark]);
    expect(routedAfter.filter((r) => r.action !== 'none' || r.reason !== 'workflow flag disabled: humans only')).toEqual([]);
    await waitFor(
      'the operator change in the audit log',
      async () => (await q(`SELECT id FROM audit_events WHERE action = 'flag.operator-change' AND actor_kind = 'operator'`)).length > 0,
      30_000,
    );
    expect((await admin.readWorkflowFlag(wf.triage)).enabled).toBe(false); // adopted, never re-enabled
  });

  it('took each step once, by one leader, although two instances ran', async () => {
    const stepsTaken = await q<{ n: string }>(`SELECT count(*) n FROM audit_events WHERE action = 'stage.promoted'`);
    expect(Number(stepsTaken[0].n)).toBe(4);
  });
});
