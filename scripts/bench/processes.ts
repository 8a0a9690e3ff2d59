import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { freePort, tail } from '../../test/harness/test-env';

/**
 * The processes a benchmark runs: the MODEL SIMULATOR and the service, each in a process of its
 * own (so neither shares the other's event loop, nor the benchmark's), started from dist/ exactly
 * as in production.
 */
export interface Proc {
  pid: number;
  logFile: string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

function launch(root: string, args: string[], env: Record<string, string>, logFile: string): { child: ChildProcess; proc: Proc } {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', out, out] });
  closeSync(out);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const proc: Proc = {
    pid: child.pid!,
    logFile,
    exited: () => exited,
    stop: async (graceMs = 30_000) => {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(t);
    },
  };
  return { child, proc };
}

async function waitUntil(what: string, proc: Proc, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited()) throw new Error(`${what} exited before it was ready; log ${proc.logFile}:\n${tail(proc.logFile)}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      await proc.stop(2000);
      throw new Error(`${what} was not ready within ${timeoutMs} ms; log ${proc.logFile}:\n${tail(proc.logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The MODEL SIMULATOR's CLI (dist-tools/tools/simulator/main.js) with one default scenario for every model. */
export async function startSimulator(
  ctx: { root: string; tools: string; dir: string },
  name: string,
  scenario: Record<string, unknown>,
): Promise<Proc & { url: string }> {
  const port = await freePort();
  const scenarioFile = path.join(ctx.dir, `${name}.scenario.json`);
  writeFileSync(scenarioFile, JSON.stringify(scenario));
  const { proc } = launch(
    ctx.root,
    [path.join(ctx.tools, 'tools', 'simulator', 'main.js'), '--port', String(port), '--scenario', scenarioFile],
    {},
    path.join(ctx.dir, `${name}.log`),
  );
  const url = `http://127.0.0.1:${port}/v1`;
  await waitUntil(
    'the model simulator',
    proc,
    async () => (await fetch(`http://127.0.0.1:${port}/_simulator/health`, { signal: AbortSignal.timeout(1000) })).ok,
    20_000,
  );
  return { ...proc, url };
}

export interface ServiceProc extends Proc {
  url: string;
  /** The .cpuprofile written at exit, when started with cpuProfileDir. */
  cpuProfileDir: string | null;
}

/** The service (dist/src/main.js) with the given environment; resolves once /health answers 200. */
export async function startServiceProcess(
  ctx: { root: string; dist: string; dir: string },
  name: string,
  env: Record<string, string>,
  opts: { cpuProfileDir?: string } = {},
): Promise<ServiceProc> {
  const main = path.join(ctx.dist, 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm run bench does)`);
  const nodeArgs = opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`, '--cpu-prof-interval=500'] : [];
  if (opts.cpuProfileDir) mkdirSync(opts.cpuProfileDir, { recursive: true });
  const { proc } = launch(ctx.root, [...nodeArgs, main], env, path.join(ctx.dir, `${name}.log`));
  const url = `http://127.0.0.1:${env.HTTP_PORT}`;
  await waitUntil('the service', proc, async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).status === 200, 90_000);
  return { ...proc, url, cpuProfileDir: opts.cpuProfileDir ?? null };
}

export function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
