import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import type { SegmentSplit } from '../../src/flags/domain/segment-split';
import { ServiceFixture, startServiceFixture } from '../harness/service-fixture';
import { setScenario, stackInfo, waitFor } from '../harness/test-env';

/**
 * The regression policies other than `revert` (rollout-controller.test.ts proves that one) and the
 * critical classes' guards, end to end. The triage workflow says `alert` and names `urgent` priority
 * a critical class; the invoice workflow says `pause`. Both climb to supervised by themselves; then
 * the simulated model gets worse, every wrong triage answer marking the ticket `low`. The invoice
 * guard breaches and pauses; in triage the overall guard may alert first (nothing moves under
 * `alert`, so every guard keeps watching) and the urgent class's own guard breaches on its recall.
 * Each policy does what it says and nothing else: no stage moves, in PostgreSQL or in Unleash.
 * Last, the model starts answering invalid output: triage's error-rate guardrail breaches and, by
 * its own policy, pauses the segment although the workflow's policy only alerts.
 * (That a class's guard catches a collapse while overall agreement holds is specified in
 * src/rollout/domain/segment-machine.spec.ts; its delay is measured by `npm run bench`.)
 */
jest.setTimeout(600_000);

const TRIAGE_SEGMENT = 'email|eu';
const INVOICE_SEGMENT = 'invoice|eu';
const GOOD = { accuracy: 0.95, confidence: { correctMean: 0.9, wrongMean: 0.5, spread: 0.08 } };
const DRIFTED = {
  accuracy: 0.3,
  confidence: { correctMean: 0.9, wrongMean: 0.88, spread: 0.05 },
  answerBias: { field: 'priority', value: 'low', share: 1 },
};

/** Supervised only: the step into confidence-routed waits for more blind labels than the file makes. */
const rollout = (regressionPolicy: 'pause' | 'alert') => ({
  rollout: {
    regressionPolicy,
    // The error-rate guardrail pauses whatever the workflow's policy says.
    guardrails: { errorRate: { max: 0.1, policy: 'pause' } },
    steps: [100],
    supervisedBlindShare: 0.4,
    doubleLabelShare: 0,
    gates: {
      supervised: { minSample: 60, minDwellMinutes: 0, agreementTarget: 0.8, approval: false },
      'confidence-routed': { minSample: 1_000_000, minDwellMinutes: 0, agreementTarget: 0.8, approval: false },
    },
  },
});

describe('regression policies', () => {
  let f: ServiceFixture;
  let admin: UnleashAdminGateway;
  let alerts: Array<Record<string, unknown>>;
  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => f.q<T>(sql, params);
  const splitIn = async (workflow: string, segment: string): Promise<SegmentSplit | null> =>
    (await admin.readWorkflowFlag(workflow)).segments.find((s) => s.segment === segment)?.split ?? null;
  const segmentRow = async (workflow: string, segment: string) =>
    (
      await q<{ stage: string; traffic_pct: number; paused: boolean; pause_kind: string | null }>(
        `SELECT stage, traffic_pct, paused, pause_kind FROM segments WHERE workflow = $1 AND segment = $2`,
        [workflow, segment],
      )
    )[0];
  const breaches = (workflow: string) =>
    q<{ reason: string; details: { policy: string; split: SegmentSplit; guard: { statistic: number; threshold: number; class?: string; stream?: string } } }>(
      `SELECT reason, details FROM audit_events WHERE action = 'guard.breached' AND workflow = $1 ORDER BY id`,
      [workflow],
    );

  beforeAll(async () => {
    f = await startServiceFixture({
      name: 'policies',
      workflows: {
        triage: {
          ...rollout('alert'),
          decision: { criticalClasses: [{ field: 'priority', value: 'urgent' }] },
        },
        invoice: rollout('pause'),
      },
      scenario: { seed: 4, ...GOOD, latencyMs: 0 },
      env: { CONTROLLER_INTERVAL_MS: '400', UNLEASH_REFRESH_MS: '500' },
    });
    admin = new UnleashAdminGateway({ url: stackInfo().unleash.url, adminToken: stackInfo().unleash.adminToken });
    alerts = await f.collect(f.topics.alerts);
    await f.startFloor({
      generator: { seed: 6, triageShare: 0.5, triageSegments: [['email', 'eu']], invoiceSegments: [['invoice', 'eu']] },
      agents: { seed: 8, errorRate: 0 },
      thinkTimeMs: 500,
      perSecond: 60,
    });
  });

  afterAll(async () => {
    await f?.close();
  });

  it('guards both workflows at supervised once they climb there', async () => {
    for (const [workflow, segment] of [
      [f.wf.triage, TRIAGE_SEGMENT],
      [f.wf.invoice, INVOICE_SEGMENT],
    ]) {
      await waitFor(
        `${workflow} at supervised 100 % in Unleash`,
        async () => {
          const s = await splitIn(workflow, segment);
          return s?.stage === 'supervised' && s.trafficPct === 100;
        },
        300_000,
        500,
      );
    }
  });

  it('arms the urgent class’s own guard at supervised', async () => {
    type Guards = Record<string, { stage: string }> | null;
    const guards = async () =>
      (await q<{ class_guards: Guards }>(`SELECT class_guards FROM segments WHERE workflow = $1 AND segment = $2`, [f.wf.triage, TRIAGE_SEGMENT]))[0]
        .class_guards;
    await waitFor('the class guards to be armed', async () => (await guards()) !== null, 30_000, 250);
    const armed = await guards();
    expect(Object.keys(armed!)).toEqual(['priority=urgent']);
    expect(armed!['priority=urgent'].stage).toBe('supervised');
    await setScenario(f.wf.model, DRIFTED, 'PATCH');
  });

  it('pause: keeps the stage, holds promotions until a person resumes, and alerts', async () => {
    await waitFor('the invoice guard to breach', async () => (await breaches(f.wf.invoice)).length > 0, 240_000, 500);
    const [breach] = await breaches(f.wf.invoice);
    expect(breach.details.policy).toBe('pause');
    expect(breach.details.split).toEqual({ stage: 'supervised', trafficPct: 100 });
    expect(breach.details.guard.statistic).toBeGreaterThanOrEqual(breach.details.guard.threshold);
    expect(breach.reason).toMatch(/regression guard breached.*promotions held until a person resumes \(regression policy: pause\)/);
    expect(await segmentRow(f.wf.invoice, INVOICE_SEGMENT)).toEqual({ stage: 'supervised', traffic_pct: 100, paused: true, pause_kind: 'guard' });
    expect(await splitIn(f.wf.invoice, INVOICE_SEGMENT)).toEqual({ stage: 'supervised', trafficPct: 100 });
    await waitFor('the pause alert on Kafka', async () => alerts.some((a) => a.kind === 'guard.breached' && a.workflow === f.wf.invoice), 30_000);
  });

  it('a critical-class collapse trips its guard; alert: an alert and an audit entry, the segment neither moved nor paused', async () => {
    const urgentBreach = async () => (await breaches(f.wf.triage)).find((b) => b.details.guard.class === 'priority=urgent');
    await waitFor('the urgent class’s guard to breach', async () => (await urgentBreach()) !== undefined, 240_000, 500);
    const breach = (await urgentBreach())!;
    expect(breach.details.policy).toBe('alert');
    // Both streams collapse here (urgent tickets marked low; low tickets' wrong answers land anywhere, urgent too): either may breach first.
    expect(['recall', 'precision']).toContain(breach.details.guard.stream);
    expect(breach.details.guard.statistic).toBeGreaterThanOrEqual(breach.details.guard.threshold);
    expect(breach.reason).toMatch(
      new RegExp(`^critical-class guard breached: ${breach.details.guard.stream} of priority=urgent .*\\(regression policy: alert only\\)$`),
    );
    await waitFor(
      'the class’s alert on Kafka',
      async () => alerts.some((a) => a.kind === 'guard.breached' && a.workflow === f.wf.triage && /priority=urgent/.test(String(a.summary))),
      30_000,
    );
    expect(await segmentRow(f.wf.triage, TRIAGE_SEGMENT)).toEqual({ stage: 'supervised', traffic_pct: 100, paused: false, pause_kind: null });
    expect(await splitIn(f.wf.triage, TRIAGE_SEGMENT)).toEqual({ stage: 'supervised', trafficPct: 100 });
  });

  it('reverted nothing and listed nothing for re-review under either policy', async () => {
    expect(await q(`SELECT id FROM audit_events WHERE action = 'stage.reverted'`)).toEqual([]);
    expect(await q(`SELECT count(*)::int AS n FROM rereview_items`)).toEqual([{ n: 0 }]);
    await setScenario(f.wf.model, GOOD, 'PATCH');
  });

  it('an error-rate guardrail breach goes by the guardrail’s own policy (pause), not the workflow’s (alert)', async () => {
    await setScenario(f.wf.model, { malformedRate: 0.6 }, 'PATCH');
    const railBreach = async () => (await breaches(f.wf.triage)).find((b) => (b.details.guard as { guardrail?: string }).guardrail === 'errorRate');
    await waitFor('the error-rate guardrail to breach', async () => (await railBreach()) !== undefined, 240_000, 500);
    const breach = (await railBreach())!;
    expect(breach.details.policy).toBe('pause');
    expect(breach.reason).toMatch(/^guardrail breached: .*promotions held until a person resumes \(regression policy: pause\)$/);
    expect(await segmentRow(f.wf.triage, TRIAGE_SEGMENT)).toEqual({ stage: 'supervised', traffic_pct: 100, paused: true, pause_kind: 'guard' });
    expect(await splitIn(f.wf.triage, TRIAGE_SEGMENT)).toEqual({ stage: 'supervised', trafficPct: 100 });
    await setScenario(f.wf.model, { malformedRate: 0 }, 'PATCH');
  });
});
