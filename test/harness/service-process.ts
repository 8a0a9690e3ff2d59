import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when stop() had to SIGKILL it: it did not exit on its own within the grace. */
  killed: boolean;
  /** From the SIGTERM to the exit (0 when it had exited before stop()). */
  ms: number;
}

export interface ServiceProcessOptions {
  /** The repository's root (dist/src/main.js is started from there). */
  root: string;
  env: Record<string, string>;
  logFile: string;
  /** Append to the log (tests) or start it afresh (the demo). */
  logMode?: 'a' | 'w';
  /** Its own process group, so that a Ctrl-C reaches only whoever started it. */
  detached?: boolean;
  /** Node's own options before the script (a CPU profile, say). */
  nodeArgs?: string[];
}

/** The last lines of a log file, for an error message. */
export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * The compiled service (dist/src/main.js) as a child process, exactly as it runs in production: what
 * the tests and the demo start, wait for and stop.
 */
export class ServiceProcess {
  readonly pid: number;
  private exitStatus: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ReturnType<typeof spawn>,
    readonly logFile: string,
  ) {
    this.pid = child.pid!;
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve();
      }),
    );
  }

  static start(o: ServiceProcessOptions): ServiceProcess {
    const main = path.join(o.root, 'dist', 'src', 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
    const out = openSync(o.logFile, o.logMode ?? 'a');
    const child = spawn(process.execPath, [...(o.nodeArgs ?? []), main], {
      cwd: o.root,
      env: o.env,
      stdio: ['ignore', out, out],
      detached: o.detached ?? false,
    });
    closeSync(out);
    return new ServiceProcess(child, o.logFile);
  }

  exited(): boolean {
    return this.exitStatus !== null;
  }

  /** How it ended ("code 1, signal null"), or null while it runs. */
  get exitInfo(): string | null {
    return this.exitStatus ? `code ${this.exitStatus.code}, signal ${this.exitStatus.signal}` : null;
  }

  /** Resolves when the process has exited, however. */
  whenExited(): Promise<void> {
    return this.exit;
  }

  /**
   * Waits until /health answers 200. Throws, with the end of the log, when the process exits first or
   * it is not healthy within `timeoutMs`; `between` runs before each look (a caller's stop check).
   */
  async waitHealthy(url: string, timeoutMs: number, between: () => void = () => undefined): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      between();
      if (this.exitInfo) throw new Error(`the service exited before it was ready (${this.exitInfo}); its log ${this.logFile}:\n${tail(this.logFile)}`);
      try {
        const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(`the service did not become healthy within ${timeoutMs / 1000} s; its log ${this.logFile}:\n${tail(this.logFile)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Graceful stop (SIGTERM), as an orchestrator would: SIGKILL if the process is still there after
   * `killAfterMs` (default 30 s, Kubernetes' grace period). Resolves with how it ended.
   */
  async stop({ killAfterMs = 30_000, onKill }: { killAfterMs?: number; onKill?: () => void } = {}): Promise<ServiceExit> {
    if (this.exitStatus) return { ...this.exitStatus, killed: false, ms: 0 };
    const t0 = Date.now();
    let killed = false;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => {
      killed = true;
      onKill?.();
      this.child.kill('SIGKILL');
    }, killAfterMs);
    await this.exit;
    clearTimeout(t);
    return { ...this.exitStatus!, killed, ms: Date.now() - t0 };
  }

  /** SIGKILL: a crash, nothing flushed. */
  async kill(): Promise<void> {
    if (this.exitStatus) return;
    this.child.kill('SIGKILL');
    await this.exit;
  }
}
