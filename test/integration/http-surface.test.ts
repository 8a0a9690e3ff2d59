import { execFileSync } from 'node:child_process';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { verifyWebhook } from '../../src/rollout/domain/alert-webhook';
import { writeTestWorkflows } from '../factories/workflows';
import { findRepoRoot } from '../harness/kafka-cluster';
import { createTestDatabase } from '../harness/postgres';
import { api, createToken, createTopics, freePort, startService, TestService, TestTopics, uniqueSuffix, waitFor } from '../harness/test-env';

/**
 * The HTTP surface against the real service: security headers and the content security policy,
 * the dashboard link's token handoff, the API rate limit, liveness and readiness probes, tokens
 * that expire, and alert webhooks that are signed and retried until delivered, across a restart.
 * (The dashboard and Swagger UI working in a browser under that policy: test/e2e/dashboard-csp.)
 */
jest.setTimeout(300_000);

const root = findRepoRoot(__dirname);

describe('HTTP surface', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  let db: { url: string; drop: () => Promise<void> };
  let topics: TestTopics;
  let service: TestService;
  let admin: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    topics = await createTopics(suffix, 2);
    service = await startService({
      suffix,
      topics,
      workflowsFile: wf.file,
      databaseUrl: db.url,
      env: { API_RATE_LIMIT_PER_MINUTE: '40', API_RATE_LIMIT_ANONYMOUS_PER_MINUTE: '15' },
    });
    admin = createToken(db.url, 'admin');
  });

  afterAll(async () => {
    await service?.stop();
    await db?.drop();
  });

  describe('security headers', () => {
    it('serves the dashboard and the API under a policy without inline script or style, and never sends a Referer', async () => {
      for (const route of ['/', '/app.js', '/api/me', '/health']) {
        const r = await fetch(`${service.url}${route}`);
        const csp = r.headers.get('content-security-policy') ?? '';
        expect(csp).toContain("script-src 'self'");
        expect(csp).toContain("style-src 'self'");
        expect(csp).toContain("frame-ancestors 'none'");
        expect(csp).not.toContain('unsafe-inline');
        expect(r.headers.get('referrer-policy')).toBe('no-referrer');
        expect(r.headers.get('x-content-type-options')).toBe('nosniff');
        expect(r.headers.get('x-powered-by')).toBeNull();
      }
    });

    it('relaxes only the style rule for Swagger UI at /docs', async () => {
      const r = await fetch(`${service.url}/docs`);
      expect(r.status).toBe(200);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp).toMatch(/script-src 'self'(;|$)/);
    });
  });

  describe('the dashboard link with ?token=', () => {
    it('is answered with a redirect to the address without the token, the token in a short-lived same-site cookie', async () => {
      const r = await fetch(`${service.url}/?token=us_example_token&view=board`, { redirect: 'manual' });
      expect(r.status).toBe(303);
      expect(r.headers.get('location')).toBe('/?view=board');
      expect(r.headers.get('set-cookie')).toBe('understudy_token_handoff=us_example_token; Path=/; Max-Age=60; SameSite=Strict');
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(await r.text()).not.toContain('us_example_token');
    });
  });

  // Before the rate limit's tests: they use up this address's allowance for requests without a
  // valid token for a minute, and a token refused once it has expired is one of those.
  describe('token expiry', () => {
    it('gives a token a lifetime through the API, lists it, and refuses it with 401 once it has passed', async () => {
      const before = Date.now();
      const long = await api(service.url, 'POST', '/api/tokens', { token: admin, body: { name: 'quarterly report', role: 'analyst', expiresIn: '90d' } });
      expect(long.status).toBe(201);
      const expected = before + 90 * 86_400_000;
      expect(Math.abs(new Date(long.body.expiresAt).getTime() - expected)).toBeLessThan(3_600_000);
      expect((await api(service.url, 'GET', '/api/me', { token: long.body.token })).status).toBe(200);

      const short = await api(service.url, 'POST', '/api/tokens', { token: admin, body: { name: 'short lived', role: 'analyst', expiresIn: '2s' } });
      expect(short.status).toBe(201);
      const refused = await waitFor('the short-lived token refused', async () => {
        const r = await api(service.url, 'GET', '/api/me', { token: short.body.token });
        return r.status === 401 ? r : null;
      });
      expect(refused.body.error.code).toBe('UNAUTHENTICATED');
      expect(refused.body.error.message).toBe(`the token expired at ${new Date(short.body.expiresAt).toISOString()}: ask an admin for a new one`);

      const list = await api(service.url, 'GET', '/api/tokens', { token: admin });
      const byName = (n: string) => list.body.find((t: { name: string }) => t.name === n);
      expect(byName('quarterly report').expiresAt).toBe(long.body.expiresAt);
      expect(byName('short lived').expiresAt).toBe(short.body.expiresAt);
      expect(list.body.find((t: { role: string }) => t.role === 'admin').expiresAt).toBeNull();
    });

    it('refuses a lifetime it cannot read, naming the field', async () => {
      const r = await api(service.url, 'POST', '/api/tokens', { token: admin, body: { name: 'bad', role: 'analyst', expiresIn: '90 days' } });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toContain('expiresIn');
    });

    it('gives a token a lifetime from the command line (npm run token -- --expires-in 30d)', async () => {
      const cli = path.join(root, 'dist', 'src', 'cli', 'create-token.js');
      const env = { PATH: process.env.PATH ?? '', DATABASE_URL: db.url };
      const token = execFileSync(process.execPath, [cli, '--name', 'cli expiring', '--role', 'ops', '--expires-in', '30d'], { env, encoding: 'utf8' }).trim();
      expect((await api(service.url, 'GET', '/api/me', { token })).status).toBe(200);
      const listed = (await api(service.url, 'GET', '/api/tokens', { token: admin })).body.find((t: { name: string }) => t.name === 'cli expiring');
      expect(Math.abs(new Date(listed.expiresAt).getTime() - (Date.now() + 30 * 86_400_000))).toBeLessThan(3_600_000);
      expect(() =>
        execFileSync(process.execPath, [cli, '--name', 'x', '--role', 'ops', '--expires-in', 'soon'], { env, encoding: 'utf8', stdio: 'pipe' }),
      ).toThrow(/expires-in must be/);
    });
  });

  describe('API rate limit', () => {
    /** Calls until refused (at most `max` times); returns how many were let through and the refusal. */
    const callUntilRefused = async (call: (i: number) => Promise<{ status: number; body: any; headers: Headers }>, max: number) => {
      let through = 0;
      for (let i = 0; i < max; i += 1) {
        const r = await call(i);
        if (r.status === 429) return { through, refusal: r };
        through += 1;
      }
      return { through, refusal: null };
    };

    it('refuses a token over its allowance with 429 and Retry-After, and leaves other tokens alone', async () => {
      const busy = createToken(db.url, 'analyst');
      const other = createToken(db.url, 'analyst');
      const { through, refusal } = await callUntilRefused(async () => {
        const r = await api(service.url, 'GET', '/api/me', { token: busy });
        expect(r.status === 200 || r.status === 429).toBe(true);
        return r;
      }, 200);
      expect(refusal).not.toBeNull();
      expect(through).toBeGreaterThan(0);
      expect(through).toBeLessThanOrEqual(40);
      const retryAfter = Number(refusal!.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refusal!.body.error).toMatchObject({ code: 'RATE_LIMITED' });
      expect(refusal!.body.error.message).toMatch(/40 a minute are allowed for this token; retry after \d+ s/);
      expect((await api(service.url, 'GET', '/api/me', { token: other })).status).toBe(200);
      // Only the API is limited: probes and the dashboard are not.
      for (let i = 0; i < 50; i += 1) expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
    });

    it('counts requests without a valid token against the address, however many bogus tokens they rotate', async () => {
      const { through, refusal } = await callUntilRefused(async (i) => {
        const r = await api(service.url, 'GET', '/api/me', { token: `us_bogus${String(i).padStart(40, '0')}` });
        expect(r.status === 401 || r.status === 429).toBe(true);
        return r;
      }, 200);
      expect(refusal).not.toBeNull();
      expect(through).toBeLessThanOrEqual(15);
      expect(Number(refusal!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(refusal!.body.error.message).toContain('without a valid token');
      // A valid token is judged on its own allowance, from the same address.
      expect((await api(service.url, 'GET', '/api/me', { token: admin })).status).toBe(200);
    });
  });

  describe('liveness and readiness', () => {
    it('says live without checking anything, and ready once PostgreSQL answers and the flags are loaded; /health stays', async () => {
      const live = await api(service.url, 'GET', '/health/live');
      expect(live.status).toBe(200);
      expect(live.body).toMatchObject({ status: 'up', instance: service.env.INSTANCE_ID });
      const ready = await waitFor('readiness', async () => {
        const r = await api(service.url, 'GET', '/health/ready');
        return r.status === 200 ? r : null;
      });
      expect(ready.body).toEqual({ status: 'ready', reasons: [], instance: service.env.INSTANCE_ID });
      const health = await api(service.url, 'GET', '/health');
      expect(health.status).toBe(200);
      expect(Object.keys(health.body.checks).sort()).toEqual(['kafka', 'model', 'postgres', 'unleash']);
    });

    it('is not ready (503, with the reason) while the flag state is unknown, yet live', async () => {
      const deadPort = await freePort();
      const blind = await startService({
        suffix: `${suffix}b`,
        topics,
        workflowsFile: wf.file,
        databaseUrl: db.url,
        env: {
          UNLEASH_URL: `http://127.0.0.1:${deadPort}`,
          UNLEASH_BACKUP_PATH: mkdtempSync(path.join(tmpdir(), 'understudy-unleash-nobackup-')),
          CONTROLLER_ENABLED: 'false',
          RUN_INGEST: 'false',
          RUN_RUNNER: 'false',
          RUN_RELAY: 'false',
        },
      });
      try {
        const ready = await api(blind.url, 'GET', '/health/ready');
        expect(ready.status).toBe(503);
        expect(ready.body).toMatchObject({ status: 'not-ready', reasons: ['the flag state is not loaded yet (from Unleash or its backup file)'] });
        expect((await api(blind.url, 'GET', '/health/live')).status).toBe(200);
        expect((await api(blind.url, 'GET', '/health')).status).toBe(200); // degraded, for people
      } finally {
        await blind.stop();
      }
    });
  });
});

describe('alert webhooks', () => {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix });
  const secret = `whsec-${suffix}-0123456789`;
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  let receiver: Server;
  let accepting = false;
  const received: Array<{ body: string; signature: string | undefined; alertId: string | undefined; accepted: boolean }> = [];
  let service: TestService | null = null;

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    receiver = createServer(async (req, res) => {
      const body = await readBody(req);
      received.push({
        body,
        signature: req.headers['x-understudy-signature'] as string | undefined,
        alertId: req.headers['x-understudy-alert-id'] as string | undefined,
        accepted: accepting,
      });
      res.writeHead(accepting ? 204 : 503).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await service?.stop();
    await new Promise((r) => receiver?.close(r));
    await pg?.end();
    await db?.drop();
  });

  it('signs every delivery, keeps retrying past any number of failures and across a restart, until the receiver takes it', async () => {
    const topics = await createTopics(suffix, 2);
    const env = {
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/understudy`,
      ALERT_WEBHOOK_SECRET: secret,
      ALERT_WEBHOOK_BACKOFF_BASE_MS: '20',
      ALERT_WEBHOOK_BACKOFF_MAX_MS: '200',
    };
    service = await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url, env });
    const ops = createToken(db.url, 'ops');
    expect((await api(service.url, 'PUT', '/api/kill-switch', { token: ops, body: { enabled: true, reason: 'webhook test' } })).status).toBe(200);
    const [{ id: first }] = (await pg.query(`SELECT id::text FROM alerts WHERE kind = 'kill-switch.changed'`)).rows;

    // The receiver is down: more failures than the eight attempts alerts used to get.
    await waitFor('a dozen failed deliveries', async () => received.filter((r) => r.alertId === first).length >= 12, 120_000);
    await service.stop();
    service = null;
    const stored = (await pg.query(`SELECT webhook_state, webhook_attempts, webhook_last_error FROM alerts WHERE id = $1`, [first])).rows[0];
    expect(stored.webhook_state).toBe('pending');
    expect(stored.webhook_attempts).toBeGreaterThanOrEqual(12);
    expect(stored.webhook_last_error).toBe('webhook answered 503');

    // A new instance, the receiver back: the pending alert goes out, and so does a new one.
    accepting = true;
    service = await startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url, env });
    expect((await api(service.url, 'PUT', '/api/kill-switch', { token: ops, body: { enabled: false, reason: 'webhook test done' } })).status).toBe(200);
    await waitFor('every alert delivered', async () => {
      const r = await pg.query(`SELECT count(*) FILTER (WHERE webhook_state <> 'delivered')::int AS left, count(*)::int AS n FROM alerts`);
      return r.rows[0].n >= 2 && r.rows[0].left === 0;
    });

    const alerts = (await pg.query(`SELECT id::text, kind, payload FROM alerts ORDER BY id`)).rows;
    for (const a of alerts) {
      const delivered = received.filter((r) => r.alertId === a.id && r.accepted);
      expect(delivered.length).toBeGreaterThanOrEqual(1);
      const body = JSON.parse(delivered[0].body);
      expect(body).toMatchObject({ alertId: a.id, kind: 'kill-switch.changed', summary: a.payload.summary });
    }
    // Every attempt, failed or not, was signed over its exact body with the shared secret.
    const now = Math.floor(Date.now() / 1000);
    expect(received.every((r) => verifyWebhook(secret, r.body, r.signature, now, 600))).toBe(true);
    expect(received.some((r) => verifyWebhook('another-secret-entirely', r.body, r.signature, now, 600))).toBe(false);
  });
});
