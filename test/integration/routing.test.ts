import { decideRoute, stableDraw } from '../../src/routing/domain/decide-route';
import { WorkFloor } from '../../tools/simulator/work-floor';
import type { TestWorkflows } from '../factories/workflows';
import { ServiceFixture, startServiceFixture } from '../harness/service-fixture';
import { setScenario, waitFor } from '../harness/test-env';

/**
 * What leaves Understudy per stage, exactly as the stage table says, through the outbox
 * to ai.routing; review and audit outcomes feed the override rate and the threshold; the
 * human-vs-human baseline from double-labelled shadow items.
 */
jest.setTimeout(600_000);

const STAGE_OF: Record<string, 'shadow' | 'supervised' | 'confidence-routed'> = {
  'email|eu': 'shadow',
  'chat|us': 'supervised',
  'phone|apac': 'confidence-routed',
};
// High enough that confidence-routed, with no threshold yet, gathers blind labels at every confidence to certify one.
const AUDIT_SHARE = 0.4;
const DOUBLE_LABEL_SHARE = 0.2;
const BLIND_SHARE = 0.15;

describe('routing and the human review loop', () => {
  let f: ServiceFixture;
  let wf: TestWorkflows;
  let floor: WorkFloor;
  let published: Array<Record<string, unknown>>;
  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => f.q<T>(sql, params);
  /** Every routing decision so far, each checked against what the stage table gives for its stage, confidence, threshold and draws. */
  const routedAsTheTableSays = async () => {
    const rows = await q<{
      item_id: string;
      segment: string;
      stage: string;
      action: string;
      threshold: number | null;
      confidence: number | null;
      valid: boolean;
    }>(
      `SELECT r.item_id, r.segment, r.stage, r.action, r.threshold, r.confidence, d.valid
       FROM routing_decisions r JOIN ai_decisions d ON d.id = r.ai_decision_id`,
    );
    for (const r of rows) {
      const stage = STAGE_OF[r.segment];
      const expected = decideRoute({
        flag: { stage, reason: 'variant', variant: stage },
        killSwitch: false,
        valid: r.valid,
        confidence: r.confidence,
        threshold: r.threshold,
        auditShare: AUDIT_SHARE,
        supervisedBlindShare: BLIND_SHARE,
        doubleLabelShare: DOUBLE_LABEL_SHARE,
        stale: false,
        auditDraw: stableDraw(r.item_id, `audit:${wf.triage}`),
        doubleLabelDraw: stableDraw(r.item_id, `double-label:${wf.triage}`),
      });
      expect({ item: r.item_id, action: r.action, stage: r.stage }).toEqual({ item: r.item_id, action: expected.action, stage });
    }
    return rows;
  };

  beforeAll(async () => {
    f = await startServiceFixture({
      name: 'routing',
      workflows: {
        triage: {
          rollout: {
            accuracyTarget: 0.85,
            delta: 0.1,
            minLabelsPerThreshold: 20,
            thresholdWindowDays: 1 / 1440, // the last minute of labels: fresh outcomes move the threshold quickly
            auditShare: AUDIT_SHARE,
            supervisedBlindShare: BLIND_SHARE,
            doubleLabelShare: DOUBLE_LABEL_SHARE,
          },
        },
      },
      scenario: { seed: 21, accuracy: 0.92, confidence: { correctMean: 0.9, wrongMean: 0.55, spread: 0.1 }, latencyMs: 0 },
      // Ops (or an earlier installation) set each segment's stage in Unleash before traffic arrives.
      stages: STAGE_OF,
      env: { CONTROLLER_INTERVAL_MS: '500', UNLEASH_REFRESH_MS: '500' },
      // Until the flag state is loaded every item stays in shadow without a routing event.
      awaitFlags: true,
    });
    wf = f.wf;
    published = await f.collect(f.topics.routing);
    floor = await f.startFloor({
      generator: {
        seed: 4,
        triageShare: 1,
        triageSegments: [
          ['email', 'eu'],
          ['chat', 'us'],
          ['phone', 'apac'],
        ],
      },
      agents: { seed: 2, errorRate: 0 },
      thinkTimeMs: 1500,
      // Supervised and confidence-routed items always get a routing event, and so do the shadow items
      // drawn for a second label: people act on those once it has come, so the reviews and the
      // double labels this test counts happen however slowly the service answers.
      awaitRouting: (item) => STAGE_OF[item.segment] !== 'shadow' || stableDraw(item.itemId, `double-label:${wf.triage}`) < DOUBLE_LABEL_SHARE,
    });
  });

  afterAll(() => f?.close());

  it('emits per stage exactly what the stage table says, and the loop feeds overrides, thresholds and the human baseline', async () => {
    // The controller adopts the splits it found in Unleash, as an operator's, and holds them.
    await floor.run(1500, 60);
    await waitFor(
      'every item decided and routed',
      async () => {
        const [r] = await q<{ items: string; routed: string }>(
          `SELECT (SELECT count(*) FROM work_items) items, (SELECT count(*) FROM routing_decisions) routed`,
        );
        return Number(r.items) === 1500 && Number(r.routed) === 1500;
      },
      120_000,
    );
    const adopted = await q<{ segment: string; stage: string }>(`SELECT segment, stage FROM segments ORDER BY segment`);
    expect(Object.fromEntries(adopted.map((r) => [r.segment, r.stage]))).toEqual(STAGE_OF);

    // Every routing decision is what the stage table gives for its stage, confidence, threshold and draws.
    const rows = await routedAsTheTableSays();
    const counts: Record<string, Record<string, number>> = {};
    for (const r of rows) {
      counts[r.segment] = counts[r.segment] ?? {};
      counts[r.segment][r.action] = (counts[r.segment][r.action] ?? 0) + 1;
    }
    expect(Object.keys(counts['email|eu']).sort()).toEqual(['double-label', 'none']);
    expect(Object.keys(counts['chat|us']).sort()).toEqual(['audit', 'suggest']);
    // Before a threshold is certified, confidence routing sends everything to review (`auto` comes
    // once one is, which on a slow machine may be after this first traffic: checked further down).
    expect(
      Object.keys(counts['phone|apac'])
        .filter((a) => a !== 'auto')
        .sort(),
    ).toEqual(['audit', 'review']);
    expect(rows.some((r) => r.segment === 'phone|apac' && r.threshold === null && r.action === 'review')).toBe(true);

    // What reached ai.routing is exactly what the outbox was given: one event per action other than none.
    const outgoing = rows.filter((r) => r.action !== 'none');
    await waitFor('every routing event on Kafka', async () => new Set(published.map((e) => e.eventId)).size === outgoing.length, 30_000);
    const byAction = (list: Array<Record<string, unknown>>) =>
      list.reduce<Record<string, number>>((m, e) => ({ ...m, [String(e.action)]: (m[String(e.action)] ?? 0) + 1 }), {});
    const unique = [...new Map(published.map((e) => [e.eventId, e])).values()];
    expect(byAction(unique)).toEqual(byAction(outgoing));
    for (const e of unique) {
      expect(e).toHaveProperty('threshold');
      expect(e.decision === null).toBe(e.action === 'audit' || e.action === 'double-label'); // blind review
    }

    // Review outcomes move the override rate: every overridden verdict is counted once. People
    // decide after their think time, and their decisions are stored after that: wait for both.
    await waitFor('people to finish', async () => floor.backlog === 0, 60_000);
    const overrides = async () =>
      (
        await q<{ rolled: string; raw: string; reviews: string }>(
          `SELECT (SELECT coalesce(sum(n_overridden),0) FROM rollup_minute WHERE workflow_version = 1) rolled,
                  (SELECT count(*) FROM comparisons WHERE verdict = 'overridden' AND is_champion) raw,
                  (SELECT coalesce(sum(n_review),0) FROM rollup_minute WHERE workflow_version = 1) reviews`,
        )
      )[0];
    await waitFor('overridden reviews counted', async () => Number((await overrides()).raw) > 0, 60_000, 500);
    const ov = await overrides();
    expect(Number(ov.rolled)).toBe(Number(ov.raw));
    expect(Number(ov.raw)).toBeGreaterThan(0);
    expect(Number(ov.reviews)).toBeGreaterThan(Number(ov.raw));

    // Double-labelled shadow items give the human-vs-human baseline.
    const humanPairs = async () =>
      (
        await q<{ rolled: string; twice: string }>(
          `SELECT (SELECT coalesce(sum(hh_n),0) FROM rollup_minute WHERE segment = 'email|eu') rolled,
                  (SELECT count(*) FROM (SELECT item_id FROM human_decisions WHERE kind = 'independent' GROUP BY item_id HAVING count(*) = 2) t) twice`,
        )
      )[0];
    // People wait for each double-label event and decide such an item twice; every item decided twice
    // is paired exactly once, as its decisions are stored: wait for that, not a time.
    const decidedTwice = async () =>
      Number(
        (
          await q<{ n: string }>(
            `SELECT count(*) n FROM routing_decisions r
             WHERE r.action = 'double-label' AND (SELECT count(*) FROM human_decisions h WHERE h.item_id = r.item_id AND h.kind = 'independent') = 2`,
          )
        )[0].n,
      );
    await waitFor(
      'the items decided twice paired once each',
      async () => {
        const p = await humanPairs();
        const twice = Number(p.twice);
        return twice === counts['email|eu']['double-label'] && twice === (await decidedTwice()) && Number(p.rolled) === twice;
      },
      60_000,
      500,
    );
    const hh = await humanPairs();
    expect(Number(hh.twice)).toBe(counts['email|eu']['double-label']);
    expect(Number(hh.rolled)).toBe(Number(hh.twice));

    // Audit outcomes move the threshold: the AI turns confidently wrong; blind audits above the
    // threshold disagree, and the certification is withdrawn at once. The threshold rests on the last
    // minute of labels, so traffic runs again until one is certified on fresh labels (on a slow machine
    // the minute since the first traffic may be over), then the AI drifts.
    let stop = false;
    const more = floor.run(100_000, 60, () => stop);
    let driftFrom = new Date();
    try {
      await waitFor(
        'a threshold certified on fresh labels',
        async () => {
          const [s] = await q<{ threshold: number | null }>(`SELECT threshold FROM segments WHERE segment = 'phone|apac'`);
          return s.threshold !== null;
        },
        240_000,
        500,
      );
      // Above a certified threshold, confidence routing sends the answer out on its own.
      await waitFor(
        'an item routed auto above the certified threshold',
        async () => (await q(`SELECT id FROM routing_decisions WHERE segment = 'phone|apac' AND action = 'auto' AND threshold IS NOT NULL LIMIT 1`)).length > 0,
        60_000,
        250,
      );
      const certified = await routedAsTheTableSays();
      expect(certified.some((r) => r.segment === 'phone|apac' && r.action === 'auto')).toBe(true);
      await setScenario(wf.model, { accuracy: 0.3, confidence: { correctMean: 0.95, wrongMean: 0.95, spread: 0.02 } }, 'PATCH');
      driftFrom = new Date();
      await waitFor(
        'the threshold to lose its certification',
        async () => {
          const [s] = await q<{ threshold: number | null }>(`SELECT threshold FROM segments WHERE segment = 'phone|apac'`);
          return s.threshold === null;
        },
        240_000,
        1000,
      );
    } finally {
      stop = true;
      await more;
    }
    const changes = await q<{ actor: string; at: Date; details: { before: number | null; after: number | null } }>(
      `SELECT actor, at, details FROM audit_events WHERE action = 'threshold.changed' AND segment = 'phone|apac' ORDER BY id`,
    );
    expect(changes[0].details.before).toBeNull();
    expect(changes[changes.length - 1].details).toMatchObject({ before: expect.any(Number), after: null });
    expect(changes[changes.length - 1].at.getTime()).toBeGreaterThan(driftFrom.getTime());
  });
});
