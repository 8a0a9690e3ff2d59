import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, AddressInfo } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { parse as parseYaml } from 'yaml';
import type { ScenarioInput } from '../../tools/simulator/scenario';
import { findRepoRoot, KafkaControl } from './kafka-cluster';
import { createTestDatabase, runtimeUrl } from './postgres';
import { localServiceEnvironment, ServiceTopics } from './service-env';
import { ServiceExit, ServiceProcess } from './service-process';
import type { StackInfo } from './stack';

export { tail } from './service-process';
export type { ServiceExit } from './service-process';

/** What an integration test needs of the shared stack (set by globalSetup in US_STACK). */
export function stackInfo(): StackInfo {
  const raw = process.env.US_STACK;
  if (!raw) throw new Error("US_STACK is not set: integration tests run through jest's integration project (npm test)");
  return JSON.parse(raw) as StackInfo;
}

export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

export type TestTopics = ServiceTopics;

export async function createTopics(suffix: string, partitions = 4): Promise<TestTopics> {
  const t: TestTopics = {
    workItems: `work.items.${suffix}`,
    workDecisions: `work.decisions.${suffix}`,
    routing: `ai.routing.${suffix}`,
    dlq: `understudy.dlq.${suffix}`,
    alerts: `understudy.alerts.${suffix}`,
  };
  const control = new KafkaControl(stackInfo().kafka.control);
  try {
    await control.createTopics(Object.values(t).map((name) => ({ name, partitions })));
  } finally {
    control.close();
  }
  return t;
}

export function kafkaClient(clientId = 'test'): Kafka {
  return new Kafka({ clientId, brokers: stackInfo().kafka.brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

/** Sets the simulator's scenario for a model name of the test's own. */
export async function setScenario(model: string, scenario: ScenarioInput | Record<string, unknown>, method: 'PUT' | 'PATCH' = 'PUT'): Promise<void> {
  const base = stackInfo().simulator.url.replace(/\/v1$/, '');
  const r = await fetch(`${base}/_simulator/scenarios/${encodeURIComponent(model)}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(scenario),
  });
  if (!r.ok) throw new Error(`simulator refused the scenario: ${r.status} ${await r.text()}`);
}

export async function simulatorRequests(model: string, limit = 100_000): Promise<Array<{ body: unknown }>> {
  const base = stackInfo().simulator.url.replace(/\/v1$/, '');
  const r = await fetch(`${base}/_simulator/requests?model=${encodeURIComponent(model)}&limit=${limit}`);
  const json = (await r.json()) as { requests: Array<{ body: unknown }> };
  return json.requests;
}

export interface TestService {
  /** Base URL of the service's HTTP API. */
  url: string;
  env: Record<string, string>;
  /** The database as its owner (who migrates; tests read and arrange data through it). */
  databaseUrl: string;
  /** The database as the service connects to it (the runtime role, unless started asOwner). */
  serviceDatabaseUrl: string;
  pid: number;
  logFile: string;
  /**
   * Graceful stop (SIGTERM), as an orchestrator would: SIGKILL if the process is still there after
   * `killAfterMs` (default 30 s, Kubernetes' grace period). Resolves with how it ended.
   */
  stop(opts?: { killAfterMs?: number }): Promise<ServiceExit>;
  /** SIGKILL: a crash, nothing flushed. */
  kill(): Promise<void>;
  exited(): boolean;
}

export interface ServiceOptions {
  suffix: string;
  topics: TestTopics;
  workflowsFile: string;
  /** The database as its owner; the service runs as the runtime role on it (migrating, if asked, as the owner). */
  databaseUrl?: string;
  /** Runs the service as the owner itself, the way a one-user install does. */
  asOwner?: boolean;
  env?: Record<string, string>;
  /** How long to wait for /health; default 60 s. */
  readyTimeoutMs?: number;
}

/** A free TCP port on 127.0.0.1 (bind to 0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The environment a service instance of a test runs with (own database, topics, group, flags). It
 * connects as the runtime role, as production should, so every test shows the service needs no
 * DDL right; it migrates, when asked to, as the owner.
 */
export function serviceEnv(o: ServiceOptions & { databaseUrl: string; port: number }): Record<string, string> {
  return {
    ...localServiceEnvironment({
      stack: stackInfo(),
      nodeEnv: 'test',
      logLevel: process.env.TEST_LOG_LEVEL,
      instanceId: `test-${o.suffix}-${randomBytes(2).toString('hex')}`,
      port: o.port,
      databaseUrl: o.asOwner ? o.databaseUrl : runtimeUrl(o.databaseUrl),
      topics: o.topics,
      groupId: `understudy-${o.suffix}`,
      killSwitchFlag: `understudy.kill-switch-${o.suffix}`,
      unleashBackupPath: path.join(tmpdir(), `understudy-unleash-backup-${o.suffix}`),
      workflowsFile: o.workflowsFile,
    }),
    DATABASE_MIGRATION_URL: o.databaseUrl,
    ...o.env,
    MODEL_PRICES_JSON: testPrices(o.workflowsFile, o.env?.MODEL_PRICES_JSON),
  };
}

/**
 * Prices for the simulated models of a test's workflows file (each test names its model `sim-…`
 * after itself, and a cost budget needs a price): gpt-4o-mini's, unless the test gives its own.
 * Other names stay unpriced, as in production.
 */
function testPrices(workflowsFile: string, own?: string): string {
  let models: string[] = [];
  try {
    const file = parseYaml(readFileSync(workflowsFile, 'utf8')) as { workflows?: Array<{ model?: { name?: string } }> } | null;
    models = (file?.workflows ?? []).map((w) => w?.model?.name).filter((m): m is string => typeof m === 'string' && /^(bench-)?sim-/.test(m));
  } catch {
    // A test of a missing or broken workflows file: the service says what is wrong with it.
  }
  const prices: Record<string, unknown> = Object.fromEntries(models.map((m) => [m, { inputPerMillion: 0.15, outputPerMillion: 0.6 }]));
  return JSON.stringify({ ...prices, ...(own ? (JSON.parse(own) as Record<string, unknown>) : {}) });
}

/**
 * Starts the compiled service (dist/src/main.js, built by `npm test` before jest runs) as a child
 * process, exactly as it runs in production, and waits until /health answers.
 */
export async function startService(o: ServiceOptions): Promise<TestService> {
  let databaseUrl = o.databaseUrl;
  if (!databaseUrl) databaseUrl = (await createTestDatabase()).url;
  const port = await freePort();
  const env = serviceEnv({ ...o, databaseUrl, port });
  const root = findRepoRoot(__dirname);
  const logDir = path.join(root, '.stack', 'logs');
  mkdirSync(logDir, { recursive: true });
  const child = ServiceProcess.start({
    root,
    env: { PATH: process.env.PATH ?? '', ...env },
    logFile: path.join(logDir, `${env.INSTANCE_ID}.log`),
    // e.g. TEST_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles every instance a test starts.
    nodeArgs: process.env.TEST_SERVICE_NODE_ARGS?.split(/\s+/).filter(Boolean),
  });
  const url = `http://127.0.0.1:${port}`;
  const service: TestService = {
    url,
    env,
    databaseUrl,
    serviceDatabaseUrl: env.DATABASE_URL,
    pid: child.pid,
    logFile: child.logFile,
    exited: () => child.exited(),
    stop: (opts) => child.stop(opts),
    kill: () => child.kill(),
  };
  try {
    await child.waitHealthy(url, o.readyTimeoutMs ?? 60_000);
  } catch (e) {
    await child.kill();
    throw e;
  }
  return service;
}

/**
 * Starts `count` instances at once. Their Kafka consumers then join the group in the mock
 * coordinator's first 3-s window, where one after another each later join holds a rebalance open
 * for the session timeout (see kafka-cluster.ts). When one fails to start, the others are stopped.
 */
export async function startTogether(count: number, start: () => Promise<TestService>): Promise<TestService[]> {
  const starts = await Promise.allSettled(Array.from({ length: count }, () => start()));
  const started = starts.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = starts.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stopTogether(started);
    throw failed.reason;
  }
  return started;
}

/**
 * Stops (or kills) instances at once: an instance that leaves the group alone sends the others
 * into a rebalance, and they would then wait it out before they can leave themselves.
 */
export async function stopTogether(services: TestService[], how: 'stop' | 'kill' = 'stop'): Promise<void> {
  await Promise.all(services.map((s) => (how === 'kill' ? s.kill() : s.stop())));
}

/** Creates an API token with the CLI a fresh install uses (`npm run token`), against a test database. */
export function createToken(
  databaseUrl: string,
  role: 'admin' | 'program_manager' | 'analyst' | 'ops',
  name = `${role}-${randomBytes(2).toString('hex')}`,
): string {
  const root = findRepoRoot(__dirname);
  const out = execFileSync(process.execPath, [path.join(root, 'dist', 'src', 'cli', 'create-token.js'), '--name', name, '--role', role], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });
  return out.trim();
}

/** A small HTTP client for a test service: JSON in and out, bearer token optional. */
export async function api(
  baseUrl: string,
  method: string,
  route: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, body, text, headers: res.headers };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Polls `probe` until it says done, for as long as its progress keeps moving: fails only when the
 * progress has not changed for `stallMs` (or, if given, after `timeoutMs` in all), and then says
 * where it stood, with the probe's detail. A limit that scales with the work, not with the
 * machine's speed: a slow machine gets there later, a stuck service still fails. Tests and the
 * benchmark wait this way.
 */
export async function waitForProgress(
  what: string,
  probe: () => Promise<{ done: boolean; progress: number; detail?: () => Promise<string> }>,
  { stallMs = 30_000, everyMs = 100, timeoutMs = Number.POSITIVE_INFINITY }: { stallMs?: number; everyMs?: number; timeoutMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = Number.NaN;
  let movedAt = Date.now();
  for (;;) {
    const p = await probe();
    if (p.done) return;
    if (p.progress !== last) {
      last = p.progress;
      movedAt = Date.now();
    }
    if (Date.now() - movedAt > stallMs || Date.now() > deadline) {
      const detail = p.detail ? await p.detail().catch((e: unknown) => `could not tell why: ${(e as Error).message}`) : '';
      throw new Error(`${what}: no progress for ${Math.round((Date.now() - movedAt) / 1000)} s (at ${p.progress}${detail ? `; ${detail}` : ''})`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until a count reaches its target while it keeps moving (waitForProgress); `explain` says why it may be stuck. */
export async function waitForCount(
  what: string,
  count: () => Promise<number>,
  target: number,
  { stallMs = 60_000, everyMs = 500, explain }: { stallMs?: number; everyMs?: number; explain?: () => Promise<string> } = {},
): Promise<void> {
  await waitForProgress(
    `${what} (${target} expected)`,
    async () => {
      const n = await count();
      return { done: n === target, progress: n, detail: explain };
    },
    { stallMs, everyMs },
  );
}

/** Waits until the service has loaded the flag state from Unleash (until then items stay in shadow). */
export async function waitForFlags(service: { url: string }, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${service.url} to load the flags`,
    async () => {
      const r = await fetch(`${service.url}/health`, { signal: AbortSignal.timeout(5000) });
      const body = (await r.json()) as { checks: { unleash: { status: string; detail?: string } } };
      return body.checks.unleash.status === 'up' && !body.checks.unleash.detail;
    },
    timeoutMs,
    100,
  );
}
