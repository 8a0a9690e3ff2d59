import { Browser, chromium, Request } from 'playwright-core';
import { writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from '../harness/postgres';
import { createToken, createTopics, startService, TestService, uniqueSuffix } from '../harness/test-env';

/**
 * Through the browser (Debian's Chromium): the dashboard and Swagger UI work under the service's
 * content security policy, and the dashboard's `?token=` link gives its token to the page without
 * the secret reaching any other request, a Referer header or the history.
 * (The dashboard's pages and actions under the same policy: dashboard.test.ts.)
 */
jest.setTimeout(300_000);

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

describe('dashboard under the content security policy', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  let db: { url: string; drop: () => Promise<void> };
  let service: TestService;
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const topics = await createTopics(suffix, 2);
    service = await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url });
    token = createToken(db.url, 'program_manager', `pm-${suffix}`);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await db?.drop();
  });

  /** A fresh page that records every request and every policy violation the browser reports. */
  const recordingPage = async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests: Request[] = [];
    const violations: string[] = [];
    page.on('request', (r) => requests.push(r));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to (load|execute|apply)/i.test(m.text())) violations.push(m.text());
    });
    page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
    return { context, page, requests, violations };
  };

  it('exchanges the ?token= link before the page loads anything: no other request carries the token, in its address or its Referer', async () => {
    const { context, page, requests, violations } = await recordingPage();
    try {
      await page.goto(`${service.url}/?token=${encodeURIComponent(token)}`);
      await page
        .getByTestId('signed-in-as')
        .filter({ hasText: `pm-${suffix}` })
        .waitFor({ timeout: 30_000 });
      await page.locator('#main').filter({ hasText: 'No segments yet' }).first().waitFor({ timeout: 30_000 });

      expect(new URL(page.url()).search).toBe('');
      const [first, ...rest] = requests;
      expect(first.url()).toContain('token=');
      expect(rest.length).toBeGreaterThan(3); // the page, its style, chart.js, app.js and the API calls
      const leaks: string[] = [];
      for (const r of rest) {
        const headers = await r.allHeaders();
        if (r.url().includes(token)) leaks.push(`address of ${r.url()}`);
        if ((headers.referer ?? '').includes(token)) leaks.push(`Referer of ${r.url()}`);
      }
      expect(leaks).toEqual([]);
      expect(rest.filter((r) => r.resourceType() !== 'fetch' && r.resourceType() !== 'xhr').every((r) => !r.headers().referer)).toBe(true);
      // The handoff cookie is gone; the token lives in this tab's session storage only.
      expect(await page.evaluate(() => document.cookie)).toBe('');
      expect(await page.evaluate(() => sessionStorage.getItem('understudy.token'))).toBe(token);
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('runs Swagger UI at /docs under its own policy', async () => {
    const { context, page, violations } = await recordingPage();
    try {
      await page.goto(`${service.url}/docs`);
      await page.locator('.swagger-ui .info .title').filter({ hasText: 'Understudy API' }).waitFor({ timeout: 30_000 });
      await page.locator('.opblock-tag').first().waitFor({ timeout: 30_000 });
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
