import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import type { TestWorkflows } from '../factories/workflows';
import { findRepoRoot } from '../harness/kafka-cluster';
import { ServiceFixture, startServiceFixture } from '../harness/service-fixture';
import { createToken, stackInfo, waitFor } from '../harness/test-env';

/**
 * The dashboard through the browser: served by the service served by the service, driven by Debian's Chromium
 * (never a downloaded one). Each role signs in with its token and sees only the actions it may
 * take; a program manager promotes a segment awaiting approval and ops roll it back, and each
 * change is checked on the page, through the API and in Unleash itself.
 */
jest.setTimeout(300_000);

const SEGMENT = 'email|eu';
const OTHER_SEGMENT = 'chat|us';
const ROLES = ['program_manager', 'ops', 'analyst', 'admin'] as const;
type Role = (typeof ROLES)[number];

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('dashboard', () => {
  const root = findRepoRoot(__dirname);
  let f: ServiceFixture;
  let wf: TestWorkflows;
  let unleash: UnleashAdminGateway;
  const tokens = {} as Record<Role, string>;
  let browser: Browser | null = null;

  const api = async <T = Record<string, unknown>>(role: Role, method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${f.service.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${tokens[role]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, body: (await r.json()) as T };
  };
  const segmentRoute = (s = SEGMENT) => `/api/workflows/${encodeURIComponent(wf.triage)}/segments/${encodeURIComponent(s)}`;
  const segmentNow = async () =>
    (await api<{ stage: string; trafficPct: number; paused: boolean; pendingStep: unknown }>('analyst', 'GET', segmentRoute())).body;
  const splitInUnleash = async () => (await unleash.readWorkflowFlag(wf.triage)).segments.find((s) => s.segment === SEGMENT)?.split ?? null;

  /** A fresh browser context (its own sessionStorage) signed in through the form. */
  const signIn = async (role: Role, via: 'form' | 'url' = 'form'): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser!.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    if (via === 'url') {
      await page.goto(`${f.service.url}/?token=${encodeURIComponent(tokens[role])}`);
    } else {
      await page.goto(`${f.service.url}/`);
      await page.getByLabel('API token').fill(tokens[role]);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }
    await page
      .getByTestId('signed-in-as')
      .filter({ hasText: `${role}-${f.suffix}` })
      .waitFor({ timeout: 30_000 });
    await card(page).waitFor({ timeout: 30_000 });
    return { context, page };
  };
  const card = (page: Page, segment = SEGMENT) => page.locator(`[data-testid="segment-card"][data-segment="${segment}"]`);
  const act = async (page: Page, action: string, reason: string) => {
    await card(page).getByTestId(`action-${action}`).click();
    await page.getByTestId('reason-input').fill(reason);
    await page.getByTestId('confirm-action').click();
  };

  beforeAll(async () => {
    // Entering supervised needs a program manager's approval, so the controller stops at
    // awaiting-approval and the promotion is the person's to make; confidence routing asks for far
    // more evidence than the test produces, so nothing moves on its own afterwards.
    f = await startServiceFixture({
      name: 'dashboard',
      workflows: {
        triage: {
          rollout: {
            steps: [50, 100],
            gates: {
              supervised: { minSample: 40, minDwellMinutes: 0, agreementTarget: 0.7, approval: true },
              'confidence-routed': { minSample: 100000, minDwellMinutes: 0, agreementTarget: 0.8, maxOverrideRate: 0.3, approval: true },
            },
          },
        },
      },
      scenario: { seed: 11, accuracy: 0.9, confidence: { correctMean: 0.88, wrongMean: 0.5, spread: 0.08 }, latencyMs: 0 },
      env: { CONTROLLER_INTERVAL_MS: '500', UNLEASH_REFRESH_MS: '500' },
    });
    wf = f.wf;
    unleash = new UnleashAdminGateway({
      url: stackInfo().unleash.url,
      adminToken: stackInfo().unleash.adminToken,
      killSwitchFlag: `understudy.kill-switch-${f.suffix}`,
    });
    for (const role of ROLES) tokens[role] = createToken(f.db.url, role, `${role}-${f.suffix}`);
    await f.startFloor({
      generator: {
        seed: 21,
        triageShare: 1,
        triageSegments: [
          ['email', 'eu'],
          ['chat', 'us'],
        ],
      },
      agents: { seed: 4, errorRate: 0.02 },
      thinkTimeMs: 600,
      perSecond: 20,
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    // The controller has judged the gate and waits for a program manager.
    await waitFor('the segment awaiting approval', async () => (await segmentNow()).pendingStep, 150_000, 500);
  });

  afterAll(async () => {
    await browser?.close();
    await f?.close();
  });

  it('shows a program manager the board, the gate criterion by criterion, and the actions of the role', async () => {
    const { context, page } = await signIn('program_manager');
    try {
      const c = card(page);
      await expect(c.getAttribute('data-stage')).resolves.toBe('shadow');
      await c
        .getByTestId('gate-verdict')
        .filter({ hasText: /awaiting approval/i })
        .waitFor();
      await expect(c.getByTestId('gate-criterion').count()).resolves.toBeGreaterThanOrEqual(4);
      for (const action of ['promote', 'approve', 'hold', 'rollback']) await c.getByTestId(`action-${action}`).waitFor();
      await expect(c.getByTestId('action-resume').count()).resolves.toBe(0);
      await page.getByTestId('kill-switch-toggle').waitFor();
      // The risk of the rollout as a whole, in words, on the board.
      await page
        .getByTestId('rollout-risk')
        .filter({ hasText: /false reverts a day/ })
        .waitFor();
      await card(page, OTHER_SEGMENT).waitFor();
      mkdirSync(path.join(root, '.stack', 'screenshots'), { recursive: true });
      await page.screenshot({ path: path.join(root, '.stack', 'screenshots', 'dashboard.png'), fullPage: true });

      // The segment's own page: metrics, the two charts and the audit timeline.
      await c.getByRole('link', { name: /details/i }).click();
      await page.getByTestId('segment-detail').waitFor();
      await page.getByTestId('trend-chart').waitFor();
      await page.getByTestId('calibration-chart').waitFor();
      await page.getByTestId('audit-event').first().waitFor();
      await page.screenshot({ path: path.join(root, '.stack', 'screenshots', 'segment.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('shows ops rollback and the kill switch, never promote', async () => {
    const { context, page } = await signIn('ops');
    try {
      const c = card(page);
      await c.getByTestId('action-rollback').waitFor();
      await page.getByTestId('kill-switch-toggle').waitFor();
      for (const action of ['promote', 'approve', 'hold', 'resume']) await expect(c.getByTestId(`action-${action}`).count()).resolves.toBe(0);

      // The kill switch, pulled and released from the page, lands in Unleash each time.
      await page.getByTestId('kill-switch-toggle').click();
      await page.getByTestId('reason-input').fill('incident drill from the dashboard test');
      await page.getByTestId('confirm-action').click();
      await page.getByTestId('kill-switch-state').filter({ hasText: 'Kill switch ON' }).waitFor({ timeout: 30_000 });
      expect(await unleash.readKillSwitch()).toBe(true);
      await page.getByTestId('kill-switch-toggle').click();
      await page.getByTestId('reason-input').fill('drill over');
      await page.getByTestId('confirm-action').click();
      await page.getByTestId('kill-switch-state').filter({ hasText: 'Kill switch off' }).waitFor({ timeout: 30_000 });
      expect(await unleash.readKillSwitch()).toBe(false);
    } finally {
      await context.close();
    }
  });

  it('shows analysts no action at all, takes the token from the address and drops it from there', async () => {
    const { context, page } = await signIn('analyst', 'url');
    try {
      expect(page.url()).not.toContain('token=');
      await card(page).getByTestId('gate-verdict').waitFor();
      await expect(page.locator('[data-testid^="action-"]').count()).resolves.toBe(0);
      await expect(page.getByTestId('kill-switch-toggle').count()).resolves.toBe(0);
      await page.getByRole('link', { name: 'Reports' }).click();
      await page.getByTestId('report-row').first().waitFor();
      await page.screenshot({ path: path.join(root, '.stack', 'screenshots', 'reports.png'), fullPage: true });
      await expect(page.locator('[data-testid^="action-"]').count()).resolves.toBe(0);
    } finally {
      await context.close();
    }
    const refused = await api<{ error: { code: string } }>('analyst', 'POST', `${segmentRoute()}/promote`, { reason: 'an analyst tries' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
  });

  it('shows an admin every action', async () => {
    const { context, page } = await signIn('admin');
    try {
      for (const action of ['promote', 'approve', 'hold', 'rollback']) await card(page).getByTestId(`action-${action}`).waitFor();
      await page.getByTestId('kill-switch-toggle').waitFor();
    } finally {
      await context.close();
    }
  });

  it('lets a program manager promote with a reason: the page, the API and Unleash agree', async () => {
    const { context, page } = await signIn('program_manager');
    try {
      await act(page, 'promote', 'gate holds; approved in the dashboard test');
      await page.locator(`[data-testid="segment-card"][data-segment="${SEGMENT}"][data-stage="supervised"]`).waitFor({ timeout: 30_000 });
      expect((await segmentNow()).stage).toBe('supervised');
      await waitFor('supervised in Unleash', async () => (await splitInUnleash())?.stage === 'supervised', 30_000, 250);
      const audit = await api<{ events: Array<{ action: string; actor: string; reason: string }> }>(
        'analyst',
        'GET',
        `/api/audit?workflow=${encodeURIComponent(wf.triage)}&segment=${encodeURIComponent(SEGMENT)}&action=stage.promoted`,
      );
      expect(audit.body.events[0]).toMatchObject({
        actor: `program_manager-${f.suffix} (program_manager)`,
        reason: 'gate holds; approved in the dashboard test',
      });
    } finally {
      await context.close();
    }
  });

  it('lets ops roll back with a reason: the page, the API and Unleash agree', async () => {
    const { context, page } = await signIn('ops');
    try {
      await page.locator(`[data-testid="segment-card"][data-segment="${SEGMENT}"][data-stage="supervised"]`).waitFor();
      await act(page, 'rollback', 'rolling back from the dashboard test');
      await page.locator(`[data-testid="segment-card"][data-segment="${SEGMENT}"][data-stage="shadow"]`).waitFor({ timeout: 30_000 });
      const s = await segmentNow();
      expect(s.stage).toBe('shadow');
      expect(s.paused).toBe(true);
      await waitFor('shadow in Unleash', async () => (await splitInUnleash())?.stage === 'shadow', 30_000, 250);
    } finally {
      await context.close();
    }
  });

  it("shows the API's reason when an action is refused", async () => {
    const { context, page } = await signIn('program_manager');
    try {
      // Rolled back and held: promoting needs a resume first, and the page says so.
      await card(page).getByTestId('action-resume').waitFor();
      await act(page, 'promote', 'trying while it is held');
      await page
        .getByTestId('error-message')
        .filter({ hasText: /paused|resume it first/i })
        .waitFor();
    } finally {
      await context.close();
    }
  });
});
