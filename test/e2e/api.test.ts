import type { Client } from 'pg';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import type { TestWorkflows } from '../factories/workflows';
import { OpenApiContract } from '../harness/openapi-contract';
import { ServiceFixture, startServiceFixture } from '../harness/service-fixture';
import { api, createToken, stackInfo, TestService, waitFor } from '../harness/test-env';

/**
 * The API through HTTP: every route refuses anonymous callers (401) and every role it does not
 * allow (403), refuses bad input with a 400 naming the field and the rule, and succeeds for the
 * roles it allows; report figures match a hand-computed fixture. Every answer is checked against
 * the OpenAPI document the service serves, and every route's successful answer must have been.
 */
jest.setTimeout(600_000);

type Role = 'admin' | 'program_manager' | 'analyst' | 'ops';
const ROLES: Role[] = ['program_manager', 'analyst', 'ops', 'admin'];
const SEGMENT = 'email|eu';

interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT';
  /** Path with :workflow, :segment, :version, :id placeholders. */
  path: string;
  allowed: Role[];
  /** An input the route must refuse with 400, and the field the error must name. */
  invalid?: { path?: string; body?: unknown; field: string };
}

const r = (method: RouteSpec['method'], path: string, allowed: Role[], invalid?: RouteSpec['invalid']): RouteSpec => ({
  method,
  path,
  allowed: [...allowed, 'admin'],
  invalid,
});
const PM: Role[] = ['program_manager'];
const ALL: Role[] = ['program_manager', 'analyst', 'ops'];
const SEG = '/api/workflows/:workflow/segments/:segment';

/** Every route of the API. The test also checks this table against the OpenAPI document. */
const ROUTES: RouteSpec[] = [
  r('GET', '/api/me', ALL),
  r('GET', '/api/tokens', []),
  r('POST', '/api/tokens', [], { body: { name: '', role: 'king' }, field: 'role' }),
  r('POST', '/api/tokens/:id/revoke', [], { path: '/api/tokens/not-a-uuid/revoke', body: { reason: 'test' }, field: 'id' }),
  r('GET', '/api/workflows', ALL),
  r('GET', '/api/workflows/:workflow/versions', ALL),
  r('POST', '/api/workflows/:workflow/versions', [], { body: { reason: 'a new prompt' }, field: 'definition' }),
  r('POST', '/api/workflows/:workflow/versions/:version/challenger', [], {
    path: '/api/workflows/:workflow/versions/two/challenger',
    body: { reason: 'test' },
    field: 'version',
  }),
  r('POST', '/api/workflows/:workflow/versions/:version/retire', [], { body: { reason: '' }, field: 'reason' }),
  r('GET', '/api/workflows/:workflow/segments', ALL),
  r('GET', SEG, ALL),
  r('POST', `${SEG}/promote`, PM, { body: {}, field: 'reason' }),
  r('POST', `${SEG}/approve`, PM, { body: { reason: 'x' }, field: 'reason' }),
  r('POST', `${SEG}/hold`, PM, { body: { reason: 42 }, field: 'reason' }),
  r('POST', `${SEG}/resume`, PM, { body: { reason: 'ok', extra: 1 }, field: 'extra' }),
  r('POST', `${SEG}/rollback`, ['ops', 'program_manager'], { body: { reason: 'bad drift', toShadow: 'yes' }, field: 'toShadow' }),
  r('PUT', `${SEG}/threshold`, PM, { body: { reason: 'fixed by PM', threshold: 1.5 }, field: 'threshold' }),
  r('GET', `${SEG}/rereview`, ALL, { path: `${SEG}/rereview?resolved=maybe`, field: 'resolved' }),
  r('POST', '/api/rereview/:id/resolve', ['ops', 'program_manager'], { path: '/api/rereview/abc/resolve', body: { reason: 'looked again' }, field: 'id' }),
  r('GET', '/api/rollout/risk', ALL),
  r('GET', '/api/kill-switch', ALL),
  r('PUT', '/api/kill-switch', ['ops', 'program_manager'], { body: { reason: 'incident', enabled: 'yes' }, field: 'enabled' }),
  r('GET', '/api/reports/agreement', ['analyst', 'program_manager'], { path: '/api/reports/agreement?workflow=:workflow&groupBy=week', field: 'groupBy' }),
  r('GET', '/api/reports/calibration', ['analyst', 'program_manager'], { path: '/api/reports/calibration', field: 'workflow' }),
  r('GET', '/api/reports/compare', ['analyst', 'program_manager'], { path: '/api/reports/compare?workflow=:workflow&versionA=1', field: 'versionB' }),
  r('GET', '/api/audit', ['analyst', 'program_manager', 'ops'], { path: '/api/audit?limit=0', field: 'limit' }),
  r('POST', '/api/items/:itemId/erasure', [], { body: { reason: 'x' }, field: 'reason' }),
];

describe('the API', () => {
  let f: ServiceFixture;
  let wf: TestWorkflows;
  let suffix: string;
  let pg: Client;
  let service: TestService;
  let contract: OpenApiContract;
  const tokens = {} as Record<Role, string>;
  const fill = (p: string) =>
    p
      .replace(':itemId', 'no-such-item')
      .replace(':workflow', wf.triage)
      .replace(':segment', encodeURIComponent(SEGMENT))
      .replace(':version', '1')
      .replace(':id', '00000000-0000-4000-8000-000000000000');
  /** A request whose answer must be as the OpenAPI document describes it (status, content type, schema). */
  const call = async (method: string, path: string, role: Role | null, body?: unknown) => {
    const res = await api(service.url, method, path, { token: role ? tokens[role] : undefined, body });
    const problems = contract.problems(method, path, res);
    if (problems.length > 0) throw new Error(`the answer is not the one the OpenAPI document describes:\n${problems.join('\n')}`);
    return res;
  };

  beforeAll(async () => {
    f = await startServiceFixture({
      name: 'api',
      workflows: {
        triage: {
          rollout: {
            steps: [50, 100],
            gates: {
              // A target well under the agreement the floor produces (about 0.8): with 40 comparisons the
              // lower bound would otherwise cross a 0.7 target back and forth between two looks.
              supervised: { minSample: 40, minDwellMinutes: 0, agreementTarget: 0.6, approval: true },
              'confidence-routed': { minSample: 40, minDwellMinutes: 0, agreementTarget: 0.6, approval: true },
            },
          },
        },
      },
      scenario: { seed: 5, accuracy: 0.93, latencyMs: 0 },
      env: { CONTROLLER_INTERVAL_MS: '500' },
    });
    ({ wf, suffix, pg, service } = f);
    for (const role of ROLES) tokens[role] = createToken(f.db.url, role, `test ${role}`);
    const doc = await api(service.url, 'GET', '/docs-json');
    expect(doc.status).toBe(200);
    contract = new OpenApiContract(doc.body);
    await f.startFloor({
      generator: { seed: 3, triageShare: 1, triageSegments: [['email', 'eu']] },
      agents: { seed: 1 },
      thinkTimeMs: 800,
      perSecond: 40,
    });
    await waitFor(
      'the segment to wait for approval',
      async () => {
        const s = await call('GET', fill(SEG), 'analyst');
        return s.status === 200 && s.body.pendingStep !== null;
      },
      120_000,
      500,
    );
  });

  afterAll(() => f?.close());

  it('lists every route of the OpenAPI document in its table', async () => {
    const doc = await api(service.url, 'GET', '/docs-json');
    expect(doc.status).toBe(200);
    const documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`))
      .filter((k) => k.includes(' /api/'))
      .sort();
    expect(documented).toEqual(ROUTES.map((x) => `${x.method} ${x.path}`).sort());
  });

  it('describes the successful answer of every route with a schema for each content type', () => {
    expect(contract.undescribed()).toEqual([]);
  });

  it('serves health, the probes, metrics and the dashboard as the document says', async () => {
    expect((await call('GET', '/health', null)).status).toBe(200);
    expect((await call('GET', '/health/live', null)).body.status).toBe('up');
    // Ready once the flag state is loaded, which the segment's pending step above already needed.
    await waitFor('the instance to be ready', async () => (await call('GET', '/health/ready', null)).status === 200, 30_000, 250);
    const metrics = await call('GET', '/metrics', null);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(metrics.text).toContain('# TYPE');
    const dashboard = await call('GET', '/', null);
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('content-type')).toMatch(/^text\/html/);
  });

  describe.each(ROUTES)('$method $path', (route) => {
    it('refuses anonymous callers and bad tokens with 401', async () => {
      const anonymous = await call(route.method, fill(route.path), null, route.method === 'GET' ? undefined : { reason: 'test' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toMatchObject({ code: 'UNAUTHENTICATED', id: expect.any(String) });
      const forged = await api(service.url, route.method, fill(route.path), { token: 'us_forgedforgedforgedforgedforgedforgedforg' });
      expect(forged.status).toBe(401);
    });

    const refused = ROLES.filter((role) => !route.allowed.includes(role));
    if (refused.length > 0) {
      it.each(refused)('refuses %s with 403', async (role) => {
        const res = await call(route.method, fill(route.path), role, route.method === 'GET' ? undefined : { reason: 'test' });
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('FORBIDDEN');
      });
    }

    if (route.invalid) {
      it('refuses invalid input with a 400 naming the field and the rule', async () => {
        const role = route.allowed[0];
        const res = await call(route.method, fill(route.invalid!.path ?? route.path), role, route.invalid!.body);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION');
        expect(res.body.error.message).toContain(route.invalid!.field);
        expect(res.body.error.message).toMatch(/\(\w+\)/); // the rule, e.g. (isIn)
      });
    }
  });

  it('succeeds for the roles each route allows', async () => {
    // Who am I, for every role.
    for (const role of ROLES) expect((await call('GET', '/api/me', role)).body).toEqual({ name: `test ${role}`, role, workflows: null });

    // Tokens: an admin creates one, it works, it is revoked, it stops working; only its hash is stored.
    const created = await call('POST', '/api/tokens', 'admin', { name: 'temp analyst', role: 'analyst' });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^us_/);
    expect((await api(service.url, 'GET', '/api/me', { token: created.body.token })).body.role).toBe('analyst');
    expect((await call('GET', '/api/tokens', 'admin')).body.map((t: { name: string }) => t.name)).toContain('temp analyst');
    const stored = await pg.query(`SELECT token_hash FROM api_tokens WHERE id = $1`, [created.body.id]);
    expect(stored.rows[0].token_hash).not.toContain(created.body.token.slice(3));
    expect((await pg.query(`SELECT count(*)::int n FROM api_tokens WHERE token_hash LIKE '%' || $1 || '%'`, [created.body.token.slice(3, 20)])).rows[0].n).toBe(
      0,
    );
    expect((await call('POST', `/api/tokens/${created.body.id}/revoke`, 'admin', { reason: 'no longer needed' })).status).toBe(200);
    // Revocations reach every instance within 5 s (the token cache).
    await waitFor(
      'the revoked token to be refused',
      async () => (await api(service.url, 'GET', '/api/me', { token: created.body.token })).status === 401,
      10_000,
      250,
    );

    // Workflows and versions; a challenger version in shadow, then retired.
    expect((await call('GET', '/api/workflows', 'ops')).body.map((w: { workflow: string }) => w.workflow)).toEqual(
      expect.arrayContaining([wf.triage, wf.invoice]),
    );
    expect((await call('GET', fill('/api/workflows/:workflow/versions'), 'analyst')).body).toHaveLength(1);
    const def = (parse(readFileSync(wf.file, 'utf8')).workflows as Array<Record<string, unknown>>).find((w) => w.name === wf.triage)!;
    const { role: _role, ...definition } = def;
    const v2 = await call('POST', fill('/api/workflows/:workflow/versions'), 'admin', {
      reason: 'shorter prompt',
      definition: { ...definition, version: 2, prompt: { ...(definition.prompt as object), version: 'triage-short' } },
    });
    expect(v2.status).toBe(201);
    expect(v2.body).toMatchObject({ version: 2, role: 'challenger', promptVersion: 'triage-short' });
    expect((await call('POST', fill('/api/workflows/:workflow/versions/2/retire'), 'admin', { reason: 'enough data' })).body.role).toBe('retired');
    expect((await call('POST', fill('/api/workflows/:workflow/versions/2/challenger'), 'admin', { reason: 'again' })).body.role).toBe('challenger');

    // Segments: state, live metrics, gate status criterion by criterion.
    const list = await call('GET', fill('/api/workflows/:workflow/segments'), 'analyst');
    expect(list.body.map((s: { segment: string }) => s.segment)).toEqual([SEGMENT]);
    const seg = (await call('GET', fill(SEG), 'ops')).body;
    expect(seg.gate.verdict).toBe('awaiting-approval');
    expect(seg.gate.criteria.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['minimum-sample', 'minimum-dwell', 'agreement', 'error-rate', 'budget', 'approval']),
    );
    expect(seg.lastHour.n).toBeGreaterThan(0);
    // Blind and anchored agreement side by side, per arm (in shadow: all blind).
    const shadowArm = seg.evidence.arms.find((a: { arm: string }) => a.arm === 'shadow');
    expect(shadowArm.blind.n).toBeGreaterThan(0);
    expect(shadowArm.blind.agreement.rate).toBeCloseTo(shadowArm.blind.agree / shadowArm.blind.n, 12);
    expect(shadowArm.anchored.n).toBe(0);

    // The rollout's risk: the segment waits on a step into supervised, whose gate passes a segment only at its target with ≤ 5 %.
    const risk = (await call('GET', '/api/rollout/risk', 'analyst')).body;
    const mine = risk.segments.find((x: { segment: string; workflow: string }) => x.workflow === wf.triage && x.segment === SEGMENT);
    expect(mine).toMatchObject({ stage: 'shadow', falseRevertsPerDay: 0 });
    expect(mine.falsePromotionPending).toBeCloseTo(0.05, 12);
    expect(risk.falsePromotionsPending).toBeGreaterThanOrEqual(mine.falsePromotionPending);
    expect(risk.summary).toMatch(/false reverts a day/);

    // A program manager approves; the controller takes the step.
    expect((await call('POST', fill(`${SEG}/approve`), 'program_manager', { reason: 'looks good in the weekly review' })).status).toBe(200);
    await waitFor('the approved promotion', async () => (await call('GET', fill(SEG), 'ops')).body.stage === 'supervised', 30_000, 300);
    // Hold and resume.
    expect((await call('POST', fill(`${SEG}/hold`), 'program_manager', { reason: 'waiting for the new team' })).body).toMatchObject({
      paused: true,
      pauseKind: 'hold',
    });
    expect((await call('POST', fill(`${SEG}/hold`), 'program_manager', { reason: 'twice' })).status).toBe(409);
    expect((await call('POST', fill(`${SEG}/resume`), 'program_manager', { reason: 'team is ready' })).body.paused).toBe(false);
    // Ops roll back; Unleash shows it.
    const back = await call('POST', fill(`${SEG}/rollback`), 'ops', { reason: 'complaints from agents' });
    expect(back.body).toMatchObject({ stage: 'shadow', paused: true });
    const admin = new UnleashAdminGateway({ url: stackInfo().unleash.url, adminToken: stackInfo().unleash.adminToken });
    expect((await admin.readWorkflowFlag(wf.triage)).segments.find((s) => s.segment === SEGMENT)?.split).toEqual({ stage: 'shadow', trafficPct: 100 });
    expect((await call('POST', fill(`${SEG}/resume`), 'program_manager', { reason: 'fixed' })).status).toBe(200);
    const gateHolds = () =>
      waitFor(
        'the gate to hold again',
        async () => ['awaiting-approval', 'pass'].includes((await call('GET', fill(SEG), 'ops')).body.gate?.verdict),
        120_000,
        500,
      );
    // A resume restarts the step, so the gate judges fresh evidence: a verdict from before it does
    // not count, not even the moment after the resume.
    await gateHolds();
    expect((await call('POST', fill(`${SEG}/hold`), 'program_manager', { reason: 'one more look' })).status).toBe(200);
    expect((await call('POST', fill(`${SEG}/resume`), 'program_manager', { reason: 'looked' })).status).toBe(200);
    const early = await call('POST', fill(`${SEG}/promote`), 'program_manager', { reason: 'too soon' });
    expect(early).toMatchObject({ status: 409, body: { error: { message: expect.stringContaining('does not hold') } } });
    // A program manager promotes by hand once the gate holds again.
    await gateHolds();
    const promoted = await call('POST', fill(`${SEG}/promote`), 'program_manager', { reason: 'approved in the steering meeting' });
    expect(promoted).toMatchObject({ status: 200, body: { stage: 'supervised' } });
    // Thresholds: fixed, then back to computed.
    expect((await call('PUT', fill(`${SEG}/threshold`), 'program_manager', { reason: 'policy', threshold: 0.9 })).body).toMatchObject({
      threshold: 0.9,
      thresholdSource: 'fixed',
    });
    expect((await call('PUT', fill(`${SEG}/threshold`), 'program_manager', { reason: 'back to computed', threshold: null })).body.thresholdSource).toBe('none');

    // Re-review items: listed and resolved.
    const [rd] = (await pg.query(`SELECT id FROM routing_decisions LIMIT 1`)).rows;
    const [audit] = (await pg.query(`SELECT id FROM audit_events LIMIT 1`)).rows;
    const [item] = (
      await pg.query(
        `INSERT INTO rereview_items (workflow, segment, item_id, routing_decision_id, revert_audit_id) SELECT workflow, segment, item_id, id, $2 FROM routing_decisions WHERE id = $1 RETURNING id`,
        [rd.id, audit.id],
      )
    ).rows;
    expect((await call('GET', fill(`${SEG}/rereview?resolved=false`), 'ops')).body.map((x: { id: string }) => x.id)).toEqual([String(item.id)]);
    expect((await call('POST', `/api/rereview/${item.id}/resolve`, 'ops', { reason: 'checked, fine' })).status).toBe(200);
    expect((await call('POST', `/api/rereview/${item.id}/resolve`, 'ops', { reason: 'again' })).status).toBe(404);

    // The kill switch.
    const ks = `understudy.kill-switch-${suffix}`;
    expect((await call('PUT', '/api/kill-switch', 'ops', { reason: 'incident 42', enabled: true })).body).toEqual({ enabled: true, unleash: 'written' });
    expect((await call('GET', '/api/kill-switch', 'analyst')).body).toEqual({ enabled: true, stored: true, unleash: true, pending: false });
    expect((await call('PUT', '/api/kill-switch', 'program_manager', { reason: 'incident over', enabled: false })).body).toEqual({
      enabled: false,
      unleash: 'written',
    });
    expect(ks).toBeTruthy();

    // Reports, JSON and CSV; calibration; paired comparison.
    const rep = await call('GET', `/api/reports/agreement?workflow=${wf.triage}&groupBy=segment`, 'analyst');
    expect(rep.status).toBe(200);
    expect(rep.body.rows[0]).toMatchObject({ key: SEGMENT, agreement: { rate: expect.any(Number) } });
    const csv = await call('GET', `/api/reports/agreement?workflow=${wf.triage}&groupBy=day&format=csv`, 'program_manager');
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(csv.text.split('\r\n')[0]).toMatch(/^key,n,agree,agreement_rate,agreement_lower_95/);
    expect(
      (await call('GET', `/api/reports/calibration?workflow=${wf.triage}&segment=${encodeURIComponent(SEGMENT)}`, 'analyst')).body.calibration.bins,
    ).toHaveLength(20);
    expect((await call('GET', `/api/reports/compare?workflow=${wf.triage}&versionA=1&versionB=2`, 'analyst')).body.mcnemar).toHaveProperty('verdict');

    // The audit log holds every action with its actor and reason, filterable, and as CSV.
    const log = await call('GET', `/api/audit?workflow=${wf.triage}&segment=${encodeURIComponent(SEGMENT)}&limit=500`, 'ops');
    const actions = log.body.events.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'segment.approved',
        'stage.promoted',
        'segment.held',
        'segment.resumed',
        'stage.rolled-back',
        'threshold.changed',
        'rereview.resolved',
      ]),
    );
    const rolledBack = log.body.events.find((e: { action: string }) => e.action === 'stage.rolled-back');
    expect(rolledBack).toMatchObject({ actor: 'test ops (ops)', actorKind: 'person', reason: 'complaints from agents' });
    expect((await call('GET', '/api/audit?action=kill-switch.*&format=csv', 'analyst')).text).toContain('incident 42');
  });

  it("erases one item's personal data for an admin, again without effect, and answers 404 for an unknown item", async () => {
    const [{ item_id: itemId }] = (await pg.query(`SELECT item_id FROM ai_decisions WHERE workflow = $1 ORDER BY id LIMIT 1`, [wf.triage])).rows;
    // 409 while an AI call for the item is in flight (a challenger's, say): asked again, it goes through.
    const erased = await waitFor(
      'the erasure',
      async () => {
        const res = await call('POST', `/api/items/${encodeURIComponent(itemId)}/erasure`, 'admin', { reason: 'request 17 of the data subject' });
        return res.status === 200 && res;
      },
      60_000,
      500,
    );
    expect(erased.body).toMatchObject({ itemId, workflows: [wf.triage] });
    expect(erased.body.removed.inputs + erased.body.alreadyRemoved.inputs).toBe(1); // the retention may have been first
    const again = await call('POST', `/api/items/${encodeURIComponent(itemId)}/erasure`, 'admin', { reason: 'asked twice' });
    expect(again.body.removed).toEqual({ inputs: 0, aiOutputs: 0, humanDecisions: 0, routingEvents: 0 });
    expect((await call('POST', '/api/items/no-such-item/erasure', 'admin', { reason: 'a typo' })).status).toBe(404);
  });

  it('computes report figures that match a hand-computed fixture', async () => {
    // A fixture on the invoice workflow (which gets no traffic here): two segments, known counts.
    const minute = new Date(Date.now() - 3_600_000);
    minute.setUTCSeconds(0, 0);
    const day = minute.toISOString().slice(0, 10);
    const hist = new Array(11).fill(0);
    hist[3] = 50; // every call took 100–250 ms
    await pg.query(
      `INSERT INTO rollup_minute (workflow, segment, workflow_version, minute, n, agree, n_independent, agree_independent, n_review, agree_review,
         n_overridden, hh_n, hh_agree, ai_calls, ai_ok, prompt_tokens, completion_tokens, cost_usd, latency_sum_ms, latency_hist, field_agree, conf_n, conf_agree)
       VALUES ($1, 'invoice|eu', 1, $2, 50, 35, 10, 8, 40, 27, 6, 20, 18, 50, 50, 10000, 2000, 0.5, 8750, $3, '{"currency": 35, "totalAmount": 45}', '{}', '{}'),
              ($1, 'claim|us', 1, $2, 100, 85, 100, 85, 0, 0, 0, 0, 0, 100, 100, 0, 0, 0, 0, '{}', '{}', '{}', '{}')`,
      [wf.invoice, minute, hist],
    );
    await pg.query(
      `INSERT INTO rollup_confusion (workflow, segment, workflow_version, day, ai_label, human_label, n) VALUES
         ($1, 'invoice|eu', 1, $2, 'EUR', 'EUR', 20), ($1, 'invoice|eu', 1, $2, 'EUR', 'USD', 5),
         ($1, 'invoice|eu', 1, $2, 'USD', 'EUR', 10), ($1, 'invoice|eu', 1, $2, 'USD', 'USD', 15)`,
      [wf.invoice, day],
    );
    // The evidence model of invoice|eu: the shadow arm's 10 blind labels, the supervised arm's blind share and its reviews.
    await pg.query(
      `INSERT INTO evidence_minute (workflow, segment, workflow_version, arm, minute, blind_n, blind_agree, anchored_n, anchored_agree, anchored_overridden)
       VALUES ($1, 'invoice|eu', 1, 'shadow', $2, 10, 8, 0, 0, 0), ($1, 'invoice|eu', 1, 'supervised', $2, 20, 14, 40, 34, 6)`,
      [wf.invoice, minute],
    );
    const rep = await call('GET', `/api/reports/agreement?workflow=${wf.invoice}&groupBy=segment`, 'analyst');
    const eu = rep.body.rows.find((x: { key: string }) => x.key === 'invoice|eu');
    const us = rep.body.rows.find((x: { key: string }) => x.key === 'claim|us');
    // 35/50 = 0.7; Wilson 95 %: (0.562496, 0.808964), by hand from (p + z²/2n ± z√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
    expect(eu.agreement.rate).toBeCloseTo(0.7, 10);
    expect(eu.agreement.lower).toBeCloseTo(0.562496, 5);
    expect(eu.agreement.upper).toBeCloseTo(0.808964, 5);
    // Cohen's kappa of [[20, 5], [10, 15]]: pₒ = 0.7, pₑ = 0.5·0.6 + 0.5·0.4 = 0.5, κ = 0.2/0.5 = 0.4.
    expect(eu.kappa.kappa).toBeCloseTo(0.4, 10);
    expect(eu.kappa.labels).toEqual(['EUR', 'USD']);
    expect(eu.kappa.matrix).toEqual([
      [20, 5],
      [10, 15],
    ]);
    // Override rate 6/40 = 0.15, Wilson (0.070612, 0.290723).
    expect(eu.overrideRate).toMatchObject({ reviews: 40, overridden: 6 });
    expect(eu.overrideRate.rate).toBeCloseTo(0.15, 10);
    expect(eu.overrideRate.lower).toBeCloseTo(0.070612, 5);
    // Human baseline 18/20 = 0.9, Wilson (0.698966, 0.972134).
    expect(eu.humanBaseline.humans.rate).toBeCloseTo(0.9, 10);
    expect(eu.humanBaseline.humans.lower).toBeCloseTo(0.698966, 5);
    // Blind beside anchored, per arm: blind 22/30 (shadow 8/10, supervised 14/20) against anchored 34/40, which overstates it.
    expect(eu.evidence.blind).toMatchObject({ n: 30, agree: 22, agreement: { rate: expect.closeTo(22 / 30, 10) } });
    expect(eu.evidence.anchored).toMatchObject({ n: 40, agree: 34, overridden: 6, agreement: { rate: expect.closeTo(0.85, 10) } });
    expect(eu.evidence.arms.map((a: { arm: string; blind: { n: number } }) => [a.arm, a.blind.n])).toEqual([
      ['shadow', 10],
      ['supervised', 20],
    ]);
    // Fields: currency 35/50, totalAmount 45/50 (worst first).
    expect(eu.fields.map((f: { field: string; rate: number }) => [f.field, f.rate])).toEqual([
      ['currency', 0.7],
      ['totalAmount', 0.9],
    ]);
    // Cost 0.5 USD over 50 calls; latency all in (100, 250]: p50 = 100 + 150·0.5 = 175, p95 = 242.5 → 243 (rounded), mean 8750/50 = 175.
    expect(eu.cost).toMatchObject({ totalUsd: 0.5, perItemUsd: 0.01, promptTokens: 10000, completionTokens: 2000 });
    expect(eu.latencyMs).toEqual({ mean: 175, p50: 175, p95: 243, p99: 249 });
    // 85/100: Wilson (0.767164, 0.906940); no confusion cells, no reviews, no human pairs.
    expect(us.agreement.lower).toBeCloseTo(0.767164, 5);
    expect(us.agreement.upper).toBeCloseTo(0.90694, 5);
    expect(us).toMatchObject({ kappa: null, overrideRate: null, humanBaseline: null });
    // Grouped by model: both segments together, 120/150.
    const byModel = await call('GET', `/api/reports/agreement?workflow=${wf.invoice}&groupBy=model`, 'analyst');
    expect(byModel.body.rows).toEqual([expect.objectContaining({ key: wf.model, n: 150, agree: 120 })]);
    // The same in CSV.
    const csv = await call('GET', `/api/reports/agreement?workflow=${wf.invoice}&groupBy=segment&format=csv`, 'analyst');
    const [header, first] = csv.text.trim().split('\r\n');
    const cells = Object.fromEntries(header.split(',').map((h, i) => [h, first.split(',')[i]]));
    expect(cells).toMatchObject({ key: 'claim|us', n: '100', agree: '85', agreement_rate: '0.85', blind_n: '0', anchored_n: '0' });
    const second = Object.fromEntries(header.split(',').map((h, i) => [h, csv.text.trim().split('\r\n')[2].split(',')[i]]));
    expect(second).toMatchObject({ key: 'invoice|eu', blind_n: '30', anchored_n: '40', anchored_agreement_rate: '0.85' });
  });

  // Last: the tests above called every route; a route added without a schema, or never exercised here, fails.
  it('checked a real successful answer of every route, and content type, against its schema', () => {
    expect(contract.unchecked()).toEqual([]);
  });
});
