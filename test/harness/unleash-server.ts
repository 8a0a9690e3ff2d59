import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { processAlive } from './process-alive';

/**
 * Starts (or reuses) the real unleash-server for tests and the demo: see unleash-main.js for what
 * runs. Reuse: when an Unleash already answers on the port AND accepts the expected tokens it is
 * used as is and never stopped by us; anything else answering there is an error, not a guess.
 */
export interface StartUnleashOptions {
  port?: number;
  database?: string;
  /** Default: the state file's tokens (<repo>/.stack/unleash/<database>.tokens.json), created on first start. */
  adminToken?: string;
  clientToken?: string;
  /** Default <repo>/.stack/unleash/unleash-<port>.log (appended). */
  logFile?: string;
  /** Keep running after this process exits (the demo, a shared jest globalSetup). */
  detached?: boolean;
  /** Default 180 s: the first start creates and migrates the database. */
  readyTimeoutMs?: number;
  /** Progress lines while waiting; default console.log. */
  onProgress?: (msg: string) => void;
  /**
   * Start it again, on the same port and database, whenever the server we started exits without
   * being asked to (jest's shared Unleash: one that vanishes mid-run would fail every later file).
   */
  restartOnExit?: boolean;
}

export interface UnleashHandle {
  url: string;
  adminToken: string;
  clientToken: string;
  startedByUs: boolean;
  pid?: number;
  /** Milliseconds until ready (0 when reused). */
  startMs: number;
  logFile?: string;
  /** Stops the server if we started it; a reused one is left alone. */
  stop(): Promise<void>;
}

interface TokenState {
  adminToken?: string;
  clientToken?: string;
}

export function findRepoRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
}

export function tokenStateFile(repoRoot: string, database: string): string {
  return path.join(repoRoot, '.stack', 'unleash', `${database}.tokens.json`);
}

function readTokenState(file: string): TokenState {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TokenState;
  } catch (e) {
    throw new Error(`unreadable Unleash token state file ${file}: ${(e as Error).message}`);
  }
}

async function status(url: string, token?: string): Promise<number> {
  try {
    const res = await fetch(url, {
      headers: token ? { Authorization: token } : {},
      signal: AbortSignal.timeout(3000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

interface Probe {
  health: number;
  admin: number;
  client: number;
}

async function probe(base: string, adminToken?: string, clientToken?: string): Promise<Probe> {
  const health = await status(`${base}/health`);
  if (health !== 200) return { health, admin: 0, client: 0 };
  const admin = adminToken ? await status(`${base}/api/admin/projects`, adminToken) : 0;
  const client = clientToken ? await status(`${base}/api/client/features`, clientToken) : 0;
  return { health, admin, client };
}

const accepted = (p: Probe) => p.health === 200 && p.admin === 200 && p.client === 200;

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server that keeps exiting is broken, not unlucky: stop starting it again. */
const MAX_RESTARTS = 5;

export async function startUnleash(opts: StartUnleashOptions = {}): Promise<UnleashHandle> {
  const port = opts.port ?? 4242;
  const database = opts.database ?? 'understudy_unleash';
  const progress = opts.onProgress ?? ((m: string) => console.log(`[unleash] ${m}`));
  const readyTimeoutMs = opts.readyTimeoutMs ?? 180_000;
  const repoRoot = findRepoRoot(__dirname);
  const stateFile = tokenStateFile(repoRoot, database);
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();

  const state = readTokenState(stateFile);
  let adminToken = opts.adminToken ?? state.adminToken;
  let clientToken = opts.clientToken ?? state.clientToken;

  const existing = await probe(url, adminToken, clientToken);
  if (existing.health === 200) {
    if (adminToken && clientToken && accepted(existing)) {
      progress(`reusing the Unleash already running at ${url}`);
      return {
        url,
        adminToken,
        clientToken,
        startedByUs: false,
        startMs: 0,
        stop: async () => undefined,
      };
    }
    throw new Error(
      `something answers ${url}/health but does not accept the expected tokens ` +
        `(admin ${existing.admin || 'not tried'}, client ${existing.client || 'not tried'}; state file ${stateFile}). ` +
        'Stop it, pass its tokens, or use another port.',
    );
  }

  const logFile = opts.logFile ?? path.join(repoRoot, '.stack', 'unleash', `unleash-${port}.log`);
  mkdirSync(path.dirname(logFile), { recursive: true });
  const mainJs = path.join(repoRoot, 'test', 'harness', 'unleash-main.js');
  const args = [mainJs, '--port', String(port), '--database', database, '--state-file', stateFile];
  // Tokens given by the caller are passed on; otherwise unleash-main.js takes them from the state
  // file or creates it, and we read it back once the server is up.
  if (opts.adminToken) args.push('--admin-token', opts.adminToken);
  if (opts.clientToken) args.push('--client-token', opts.clientToken);

  let stopping = false;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let restarts = 0;
  const launch = (): ChildProcess => {
    const out = openSync(logFile, 'a');
    let started: ChildProcess;
    try {
      started = spawn(process.execPath, args, {
        cwd: repoRoot,
        stdio: ['ignore', out, out],
        detached: opts.detached === true,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
    } finally {
      closeSync(out);
    }
    if (started.pid === undefined) throw new Error(`could not spawn ${mainJs}`);
    exited = null;
    started.on('exit', (code, signal) => {
      if (child !== started) return;
      exited = { code, signal };
      if (stopping || !ready || !opts.restartOnExit) return;
      const again = restarts < MAX_RESTARTS;
      // Said in the log too, so whoever reads it after a failed run sees how the server ended.
      const line =
        `Unleash pid ${started.pid} exited unexpectedly (code ${code}, signal ${signal}); ` +
        (again ? `starting it again on ${url}` : `not started again after ${restarts} restarts`);
      appendFileSync(logFile, `[unleash-harness-parent] ${new Date().toISOString()} ${line}\n`);
      progress(line);
      if (!again) return;
      restarts++;
      setTimeout(() => {
        if (!stopping) child = launch();
      }, 1000);
    });
    if (opts.detached) started.unref();
    return started;
  };
  let ready = false;
  let child: ChildProcess = launch();
  progress(`starting Unleash on ${url} (database ${database}, pid ${child.pid}, log ${logFile})`);

  const stop = async (): Promise<void> => {
    stopping = true;
    const running = child.pid as number;
    if (!processAlive(running) || exited) return;
    try {
      process.kill(running, 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + 15_000;
    while (processAlive(running) && !exited && Date.now() < deadline) await sleep(100);
    if (processAlive(running) && !exited) {
      progress(`Unleash pid ${running} ignored SIGTERM for 15 s; killing it`);
      process.kill(running, 'SIGKILL');
    }
    if (restarts > 0) progress(`Unleash was started again ${restarts} time(s) after exiting on its own; see ${logFile}`);
  };

  let nextReport = Date.now() + 15_000;
  for (;;) {
    if (exited) {
      const e = exited as { code: number | null; signal: NodeJS.Signals | null };
      throw new Error(`Unleash exited before it was ready (code ${e.code}, signal ${e.signal}). Log ${logFile}:\n${tail(logFile)}`);
    }
    if (!adminToken || !clientToken) {
      const s = readTokenState(stateFile);
      adminToken = opts.adminToken ?? s.adminToken;
      clientToken = opts.clientToken ?? s.clientToken;
    }
    const p = await probe(url, adminToken, clientToken);
    if (accepted(p)) break;
    if (Date.now() - t0 > readyTimeoutMs) {
      await stop();
      throw new Error(
        `Unleash not ready after ${readyTimeoutMs} ms (/health ${p.health}, admin ${p.admin}, client ${p.client}). Log ${logFile}:\n${tail(logFile)}`,
      );
    }
    if (Date.now() >= nextReport) {
      nextReport = Date.now() + 15_000;
      progress(`still waiting for Unleash after ${Math.round((Date.now() - t0) / 1000)} s (first start migrates the database)`);
    }
    await sleep(250);
  }
  ready = true;
  const startMs = Date.now() - t0;
  progress(`Unleash ready at ${url} in ${startMs} ms (UI login admin / unleash4all)`);
  return {
    url,
    adminToken: adminToken as string,
    clientToken: clientToken as string,
    startedByUs: true,
    // The server running now: another one once it has been started again.
    get pid() {
      return child.pid;
    },
    startMs,
    logFile,
    stop,
  };
}
