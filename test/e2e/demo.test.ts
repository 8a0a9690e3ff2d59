import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import { findRepoRoot } from '../harness/kafka-cluster';
import { dropDatabase } from '../harness/postgres';
import { api, uniqueSuffix, waitFor } from '../harness/test-env';
import { processAlive } from '../harness/process-alive';

/**
 * The demo as people run it: `node dist-tools/scripts/demo.js --fast` brings up the local stack
 * and the service, a segment climbs to confidence-routed (with a program manager's approval through
 * the API), the simulated model drifts, the guard reverts it — and all of it is visible through the
 * REST API and in Unleash itself. Then the demo stops and leaves nothing running.
 *
 * Isolation from the integration suite running beside it: a database, workflow names (hence flags)
 * and a kill switch flag of its own (--suffix), its own Kafka mock cluster and model simulator, any
 * free HTTP port; the shared Unleash on 4242 is reused, never stopped.
 */
jest.setTimeout(300_000);

interface DemoState {
  pid: number;
  serviceUrl: string;
  servicePid: number;
  token: string;
  database: string;
  unleash: { url: string; adminToken: string };
  kafka: { pid: number };
  workflows: { triage: string; invoice: string };
  killSwitchFlag: string;
  showcase: { workflow: string; segment: string };
  timeline: { workStartedAt: number; firstPromotionAt: number; confidenceRoutedAt: number; topAt: number; driftAt: number; alarmAt: number; revertAt: number };
  finished?: boolean;
}

interface AuditEvent {
  id: string;
  actor: string;
  actorKind: string;
  action: string;
  segment: string | null;
  reason: string | null;
  details: { to?: { stage: string; trafficPct: number } };
}

describe('npm run demo -- --fast', () => {
  const root = findRepoRoot(__dirname);
  const suffix = uniqueSuffix();
  const database = `understudy_demo_test_${suffix}`;
  const stateFile = path.join(mkdtempSync(path.join(tmpdir(), 'understudy-demo-')), 'state.json');
  let child: ChildProcess;
  let output = '';
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let exited = false;
  let state: DemoState | null = null;

  beforeAll(() => {
    const demo = path.join(root, 'dist-tools', 'scripts', 'demo.js');
    if (!existsSync(demo)) throw new Error(`${demo} is missing: run \`npm run build:tools\` first`);
    child = spawn(
      process.execPath,
      [demo, '--fast', '--database', database, '--suffix', suffix, '--port', '0', '--state-file', stateFile, '--hold', '--timeout', '240'],
      {
        cwd: root,
        env: { ...process.env, MODEL_BASE_URL: '', MODEL_API_KEY: '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (b: Buffer) => (output += b.toString('utf8')));
    child.stderr!.on('data', (b: Buffer) => (output += b.toString('utf8')));
    exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        exited = true;
        resolve({ code, signal });
      }),
    );
  });

  afterAll(async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(t);
    }
    // Whatever happened, nothing the demo started may outlive it.
    if (state && processAlive(state.servicePid)) process.kill(state.servicePid, 'SIGKILL');
    // Retried: on a machine busy with other test runs, PostgreSQL may briefly refuse connections.
    for (let attempt = 1; ; attempt++) {
      try {
        await dropDatabase(database);
        break;
      } catch (e) {
        if (attempt === 5) {
          console.warn(`could not drop ${database}: ${(e as Error).message}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    if (state) {
      // The demo's flags in the shared Unleash: archived with the test. Not deleted from the archive
      // at once: Unleash 6.10 records an archiving in the background, and a flag deleted meanwhile
      // makes that fail on a foreign key (unleash-flags.test.ts explains; the shared server once
      // vanished right after it).
      for (const flag of [`understudy.${state.workflows.triage}`, `understudy.${state.workflows.invoice}`, state.killSwitchFlag]) {
        const headers = { Authorization: state.unleash.adminToken };
        await fetch(`${state.unleash.url}/api/admin/projects/default/features/${encodeURIComponent(flag)}`, { method: 'DELETE', headers }).catch(
          () => undefined,
        );
      }
    }
    rmSync(path.dirname(stateFile), { recursive: true, force: true });
    rmSync(path.join(root, '.stack', 'demo', database), { recursive: true, force: true });
  });

  it('climbs to confidence-routed with an approval, is reverted on drift, shows it in the API and Unleash, and stops cleanly', async () => {
    await waitFor(
      'DEMO COMPLETE',
      async () => {
        if (exited) throw new Error(`the demo exited early:\n${output.slice(-4000)}`);
        return output.includes('DEMO COMPLETE') && existsSync(stateFile) && (JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState).finished;
      },
      270_000,
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n--- demo output ---\n${output.slice(-6000)}`);
    });
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState;
    const { workflow, segment } = state.showcase;
    const seg = `/api/workflows/${encodeURIComponent(workflow)}/segments/${encodeURIComponent(segment)}`;

    // What people are told: where the dashboard is (with a token) and how to log in to Unleash.
    expect(output).toContain(`${state.serviceUrl}/?token=${state.token}`);
    expect(output).toMatch(/Unleash: +http:\/\/127\.0\.0\.1:\d+ +login admin \/ unleash4all/);
    expect(output).toMatch(/PROMOTED .*email\|eu: shadow → supervised/);
    expect(output).toMatch(/APPROVED .*email\|eu: confidence-routed/);
    expect(output).toMatch(/REVERTED .*email\|eu: confidence-routed 100 % → supervised 100 %/);
    expect(output).toMatch(/·· \d+ items\/s/);

    // The token the demo made with the CLI is a program manager's.
    const me = await api(state.serviceUrl, 'GET', '/api/me', { token: state.token });
    expect(me.status).toBe(200);
    expect(me.body.role).toBe('program_manager');

    // The segment, through the API: back in supervised, locked by the guard.
    const s = await api(state.serviceUrl, 'GET', seg, { token: state.token });
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ workflow, segment, stage: 'supervised', trafficPct: 100, paused: true, pauseKind: 'guard' });

    // The story, through the API's audit log: up the whole ladder, approved by a person, reverted by the guard.
    const audit = await api(state.serviceUrl, 'GET', `/api/audit?workflow=${encodeURIComponent(workflow)}&segment=${encodeURIComponent(segment)}&limit=500`, {
      token: state.token,
    });
    expect(audit.status).toBe(200);
    const events = [...(audit.body.events as AuditEvent[])].sort((a, b) => Number(a.id) - Number(b.id));
    const promotions = events.filter((e) => e.action === 'stage.promoted').map((e) => `${e.details.to!.stage} ${e.details.to!.trafficPct}`);
    expect(promotions).toEqual(['supervised 50', 'supervised 100', 'confidence-routed 50', 'confidence-routed 100']); // fast mode: steps 50, 100
    const order = events.map((e) => e.action);
    const approved = events.find((e) => e.action === 'segment.approved')!;
    expect(approved).toMatchObject({ actorKind: 'person' });
    expect(approved.actor).toContain('demo-program-manager');
    expect(order.indexOf('segment.awaiting-approval')).toBeLessThan(order.indexOf('segment.approved'));
    const enteredRouted = events.findIndex((e) => e.action === 'stage.promoted' && e.details.to!.stage === 'confidence-routed');
    expect(order.indexOf('segment.approved')).toBeLessThan(enteredRouted);
    const reverts = events.filter((e) => e.action === 'stage.reverted');
    expect(reverts).toHaveLength(1);
    expect(reverts[0]).toMatchObject({ actorKind: 'controller', details: { to: { stage: 'supervised', trafficPct: 100 } } });
    expect(reverts[0].reason).toMatch(/regression guard breached/);
    // The revert came after the drift, not before it.
    expect(state.timeline.revertAt).toBeGreaterThanOrEqual(state.timeline.driftAt);
    // (Whether the label-free monitor warns before the guard reverts is a race in fast mode, where half the
    // items are audited: test/integration/early-warning.test.ts proves alarm → raised share → revert.)
    expect(state.timeline.driftAt).toBeGreaterThanOrEqual(state.timeline.topAt);

    // Unleash itself shows the reverted split, where ops look.
    const gateway = new UnleashAdminGateway({ url: state.unleash.url, adminToken: state.unleash.adminToken, killSwitchFlag: state.killSwitchFlag });
    const flag = await gateway.readWorkflowFlag(workflow);
    expect(flag.enabled).toBe(true);
    expect(flag.segments.find((x) => x.segment === segment)?.split).toEqual({ stage: 'supervised', trafficPct: 100 });

    // Stop: end of stdin (--hold). Exit 0, and everything it started is gone.
    child.stdin!.end();
    let timer: NodeJS.Timeout | undefined;
    const { code } = await Promise.race([
      exit,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the demo did not stop:\n${output.slice(-3000)}`)), 60_000))),
    ]);
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(output).toContain('nothing the demo started is left running');
    expect(processAlive(state.servicePid)).toBe(false);
    await waitFor('the Kafka mock cluster to be gone', async () => !processAlive(state!.kafka.pid), 10_000);
    expect((await fetch(`${state.unleash.url}/health`)).status).toBe(200); // the shared Unleash keeps running
  });
});
