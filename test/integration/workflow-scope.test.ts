import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { TestWorkflows } from '../factories/workflows';
import { findRepoRoot } from '../harness/kafka-cluster';
import { ServiceFixture, startServiceFixture } from '../harness/service-fixture';
import { api, createToken, waitFor } from '../harness/test-env';

/**
 * Tokens scoped to workflows, on the real service: a program manager of workflow A acts on and
 * reads A only — B's segments, reports and audit entries answer 403 naming B, lists show A alone —
 * while an unscoped token works as before.
 */
jest.setTimeout(600_000);

const SEGMENT_A = 'email|eu';

/** `npm run token` with a workflow scope, as an operator would run it. */
function createScopedToken(databaseUrl: string, role: string, name: string, workflows: string): string {
  const cli = path.join(findRepoRoot(__dirname), 'dist', 'src', 'cli', 'create-token.js');
  return execFileSync(process.execPath, [cli, '--name', name, '--role', role, '--workflows', workflows], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

describe('workflow-scoped tokens', () => {
  let f: ServiceFixture;
  let wf: TestWorkflows;
  let admin: string;
  let pm: string; // unscoped program manager
  let pmA: string; // program manager of A only (from the CLI)
  let analystA: string; // analyst of A only (from the API)
  let opsB: string; // ops of B only
  let segmentB: string;
  const segA = () => `/api/workflows/${wf.triage}/segments/${encodeURIComponent(SEGMENT_A)}`;
  const segB = () => `/api/workflows/${wf.invoice}/segments/${encodeURIComponent(segmentB)}`;
  const as = (token: string, method: string, route: string, body?: unknown) => api(f.service.url, method, route, { token, body });

  beforeAll(async () => {
    f = await startServiceFixture({
      name: 'scope',
      workflows: {
        triage: {
          rollout: {
            steps: [50, 100],
            gates: {
              supervised: { minSample: 40, minDwellMinutes: 0, agreementTarget: 0.6, approval: true },
              'confidence-routed': { minSample: 40, minDwellMinutes: 0, agreementTarget: 0.6, approval: true },
            },
          },
        },
      },
      scenario: { seed: 9, accuracy: 0.93, latencyMs: 0 },
      env: { CONTROLLER_INTERVAL_MS: '500' },
    });
    wf = f.wf;
    admin = createToken(f.db.url, 'admin', 'scope admin');
    pm = createToken(f.db.url, 'program_manager', 'lee');
    pmA = createScopedToken(f.db.url, 'program_manager', 'maria', wf.triage);
    opsB = createScopedToken(f.db.url, 'ops', 'omar', wf.invoice);
    const created = await as(admin, 'POST', '/api/tokens', { name: 'ana', role: 'analyst', workflows: [wf.triage] });
    expect(created.status).toBe(201);
    analystA = created.body.token;
    await f.startFloor({
      generator: { seed: 4, triageShare: 0.7, triageSegments: [['email', 'eu']], invoiceSegments: [['invoice', 'eu']] },
      agents: { seed: 2 },
      thinkTimeMs: 800,
      perSecond: 40,
    });
    segmentB = await waitFor(
      'a segment of workflow B',
      async () => (await as(pm, 'GET', `/api/workflows/${wf.invoice}/segments`)).body?.[0]?.segment as string | undefined,
      120_000,
      500,
    );
    await waitFor('A to wait for approval', async () => (await as(pm, 'GET', segA())).body?.pendingStep != null, 180_000, 500);
  });

  afterAll(() => f?.close());

  describe('creating one', () => {
    it('shows its scope on GET /api/me and GET /api/tokens, from the CLI and from the API', async () => {
      expect((await as(pmA, 'GET', '/api/me')).body).toEqual({ name: 'maria', role: 'program_manager', workflows: [wf.triage] });
      expect((await as(analystA, 'GET', '/api/me')).body).toEqual({ name: 'ana', role: 'analyst', workflows: [wf.triage] });
      expect((await as(pm, 'GET', '/api/me')).body).toEqual({ name: 'lee', role: 'program_manager', workflows: null });
      const tokens = (await as(admin, 'GET', '/api/tokens')).body as Array<{ name: string; workflows: string[] | null }>;
      expect(Object.fromEntries(tokens.map((t) => [t.name, t.workflows]))).toMatchObject({
        maria: [wf.triage],
        omar: [wf.invoice],
        ana: [wf.triage],
        lee: null,
        'scope admin': null,
      });
    });

    it('records the scope in the audit log', async () => {
      const events = (await as(admin, 'GET', '/api/audit?action=token.created&limit=50')).body.events as Array<{
        reason: string;
        details: { name: string; workflows: string[] | null };
      }>;
      expect(events.find((e) => e.details.name === 'ana')).toMatchObject({
        reason: `token "ana" for role analyst of workflows ${wf.triage}`,
        details: { workflows: [wf.triage] },
      });
      expect(events.find((e) => e.details.name === 'maria')?.details.workflows).toEqual([wf.triage]);
      expect(events.find((e) => e.details.name === 'lee')?.details.workflows).toBeNull();
    });

    it('refuses a scoped admin, an empty scope and a name that is not a workflow', async () => {
      const scopedAdmin = await as(admin, 'POST', '/api/tokens', { name: 'boss', role: 'admin', workflows: [wf.triage] });
      expect(scopedAdmin.status).toBe(400);
      expect(scopedAdmin.body.error.message).toMatch(/an admin token cannot be scoped/);
      expect((await as(admin, 'POST', '/api/tokens', { name: 'x', role: 'ops', workflows: [] })).status).toBe(400);
      const bad = await as(admin, 'POST', '/api/tokens', { name: 'x', role: 'ops', workflows: ['Not A Workflow'] });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/workflows/);
      expect(() => createScopedToken(f.db.url, 'admin', 'boss', wf.triage)).toThrow(/an admin token cannot be scoped/);
    });
  });

  describe('a program manager scoped to A', () => {
    it('promotes, holds and resumes A’s segment, and appears with its scope in the audit log', async () => {
      // The gate awaits approval, so a program manager may take the step by hand.
      const promoted = await as(pmA, 'POST', `${segA()}/promote`, { reason: 'scoped promotion' });
      expect(promoted).toMatchObject({ status: 200, body: { workflow: wf.triage, stage: 'supervised' } });
      expect((await as(pmA, 'POST', `${segA()}/hold`, { reason: 'scoped hold' })).body).toMatchObject({ paused: true, pauseKind: 'hold' });
      expect((await as(pmA, 'POST', `${segA()}/resume`, { reason: 'scoped resume' })).body.paused).toBe(false);
      const events = (await as(pmA, 'GET', `/api/audit?workflow=${wf.triage}&limit=100`)).body.events as Array<{
        action: string;
        actor: string;
        reason: string;
      }>;
      expect(events.find((e) => e.reason === 'scoped promotion')).toMatchObject({
        action: 'stage.promoted',
        actor: `maria (program_manager; workflows ${wf.triage})`,
      });
      expect(events.find((e) => e.reason === 'scoped hold')?.actor).toBe(`maria (program_manager; workflows ${wf.triage})`);
    });

    it('is refused every action and read on B’s segment with a 403 that names B, and B is untouched', async () => {
      const before = (await as(pm, 'GET', segB())).body;
      const refusals = [
        await as(pmA, 'POST', `${segB()}/promote`, { reason: 'x' }),
        await as(pmA, 'POST', `${segB()}/approve`, { reason: 'x' }),
        await as(pmA, 'POST', `${segB()}/hold`, { reason: 'x' }),
        await as(pmA, 'POST', `${segB()}/resume`, { reason: 'x' }),
        await as(pmA, 'POST', `${segB()}/rollback`, { reason: 'x' }),
        await as(pmA, 'PUT', `${segB()}/threshold`, { reason: 'x', threshold: 0.9 }),
        await as(pmA, 'GET', segB()),
        await as(pmA, 'GET', `${segB()}/rereview`),
        await as(pmA, 'GET', `/api/workflows/${wf.invoice}/segments`),
        await as(pmA, 'GET', `/api/workflows/${wf.invoice}/versions`),
        await as(pmA, 'GET', `/api/reports/agreement?workflow=${wf.invoice}`),
        await as(pmA, 'GET', `/api/reports/calibration?workflow=${wf.invoice}`),
        await as(pmA, 'GET', `/api/reports/compare?workflow=${wf.invoice}&versionA=1&versionB=1`),
        await as(pmA, 'GET', `/api/audit?workflow=${wf.invoice}`),
      ];
      for (const r of refusals) {
        expect(r.status).toBe(403);
        expect(r.body.error).toMatchObject({
          code: 'FORBIDDEN',
          message: `token "maria" is scoped to workflow ${wf.triage}: it may not act on or read workflow ${wf.invoice}`,
        });
      }
      // A workflow that does not exist answers the same: the scope reveals nothing about other workflows.
      expect((await as(pmA, 'GET', '/api/workflows/no-such-workflow/segments')).status).toBe(403);
      // A repeated query parameter cannot smuggle B past the check.
      expect((await as(pmA, 'GET', `/api/reports/agreement?workflow=${wf.triage}&workflow=${wf.invoice}`)).status).toBe(403);
      const after = (await as(pm, 'GET', segB())).body;
      expect({ stage: after.stage, paused: after.paused, threshold: after.threshold }).toEqual({
        stage: before.stage,
        paused: before.paused,
        threshold: before.threshold,
      });
      const actedOnB = (await as(pm, 'GET', `/api/audit?workflow=${wf.invoice}&limit=500`)).body.events.filter((e: { actor: string }) =>
        e.actor.startsWith('maria'),
      );
      expect(actedOnB).toEqual([]);
    });

    it('cannot resolve a re-review item of B (not found, since it named no workflow)', async () => {
      const rd = await waitFor(
        'a routing decision of B',
        async () => (await f.q<{ id: string }>(`SELECT id FROM routing_decisions WHERE workflow = $1 LIMIT 1`, [wf.invoice]))[0],
        60_000,
        300,
      );
      const [audit] = await f.q<{ id: string }>(`SELECT id FROM audit_events LIMIT 1`);
      const [item] = await f.q<{ id: string }>(
        `INSERT INTO rereview_items (workflow, segment, item_id, routing_decision_id, revert_audit_id) SELECT workflow, segment, item_id, id, $2 FROM routing_decisions WHERE id = $1 RETURNING id`,
        [rd.id, audit.id],
      );
      expect((await as(pmA, 'POST', `/api/rereview/${item.id}/resolve`, { reason: 'not mine' })).status).toBe(404);
      expect((await f.q<{ resolved_at: Date | null }>(`SELECT resolved_at FROM rereview_items WHERE id = $1`, [item.id]))[0].resolved_at).toBeNull();
      expect((await as(pm, 'POST', `/api/rereview/${item.id}/resolve`, { reason: 'checked' })).status).toBe(200);
    });
  });

  describe('lists and reports', () => {
    it('show a scoped token its workflows only', async () => {
      expect((await as(analystA, 'GET', '/api/workflows')).body.map((w: { workflow: string }) => w.workflow)).toEqual([wf.triage]);
      expect((await as(pm, 'GET', '/api/workflows')).body.map((w: { workflow: string }) => w.workflow)).toEqual(
        expect.arrayContaining([wf.triage, wf.invoice]),
      );

      const risk = (await as(analystA, 'GET', '/api/rollout/risk')).body;
      expect(risk.segments.length).toBeGreaterThan(0);
      expect(new Set(risk.segments.map((s: { workflow: string }) => s.workflow))).toEqual(new Set([wf.triage]));
      expect((await as(pm, 'GET', '/api/rollout/risk')).body.segments.map((s: { workflow: string }) => s.workflow)).toContain(wf.invoice);

      const report = await as(analystA, 'GET', `/api/reports/agreement?workflow=${wf.triage}&groupBy=segment`);
      expect(report.status).toBe(200);
      expect(report.body.rows.map((r: { key: string }) => r.key)).toEqual([SEGMENT_A]);
      expect((await as(analystA, 'GET', `${segA()}`)).status).toBe(200);
    });

    it('give a scoped token the audit entries of its workflows only, JSON and CSV', async () => {
      const mine = (await as(analystA, 'GET', '/api/audit?limit=5000')).body.events as Array<{ workflow: string | null }>;
      expect(mine.length).toBeGreaterThan(0);
      expect(new Set(mine.map((e) => e.workflow))).toEqual(new Set([wf.triage]));
      const csv = await as(analystA, 'GET', '/api/audit?limit=5000&format=csv');
      expect(csv.text).toContain(wf.triage);
      expect(csv.text).not.toContain(wf.invoice);
      expect(csv.text).not.toContain('token.created');
      // Unscoped: everything, as before.
      const all = (await as(pm, 'GET', '/api/audit?limit=5000')).body.events as Array<{ workflow: string | null; action: string }>;
      expect(all.some((e) => e.workflow === wf.invoice)).toBe(true);
      expect(all.some((e) => e.action === 'token.created')).toBe(true);
    });
  });

  describe('the global kill switch', () => {
    it('may be pulled by a scoped ops token, and released only by an unscoped one', async () => {
      const pulled = await as(opsB, 'PUT', '/api/kill-switch', { reason: 'B misbehaves', enabled: true });
      expect(pulled.status).toBe(200);
      expect(pulled.body.enabled).toBe(true);
      const release = await as(opsB, 'PUT', '/api/kill-switch', { reason: 'fixed', enabled: false });
      expect(release.status).toBe(403);
      expect(release.body.error.message).toMatch(/may pull the global kill switch but not release it/);
      expect((await as(opsB, 'GET', '/api/kill-switch')).body.enabled).toBe(true);
      expect((await as(pm, 'PUT', '/api/kill-switch', { reason: 'B fixed', enabled: false })).body.enabled).toBe(false);
      const events = (await as(pm, 'GET', '/api/audit?action=kill-switch.changed&limit=10')).body.events as Array<{ actor: string; reason: string }>;
      expect(events.find((e) => e.reason === 'B misbehaves')?.actor).toBe(`omar (ops; workflows ${wf.invoice})`);
    });
  });

  describe('an unscoped token', () => {
    it('acts on and reads every workflow as before', async () => {
      expect((await as(pm, 'POST', `${segB()}/hold`, { reason: 'unscoped hold' })).body).toMatchObject({ paused: true, workflow: wf.invoice });
      expect((await as(pm, 'POST', `${segB()}/resume`, { reason: 'unscoped resume' })).body.paused).toBe(false);
      expect((await as(pm, 'GET', `/api/reports/agreement?workflow=${wf.invoice}`)).status).toBe(200);
      expect((await as(pm, 'GET', `/api/audit?workflow=${wf.invoice}&action=segment.*`)).body.events.map((e: { actor: string }) => e.actor)).toContain(
        'lee (program_manager)',
      );
    });
  });
});
