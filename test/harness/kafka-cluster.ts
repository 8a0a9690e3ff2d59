/**
 * Kafka test cluster for integration tests and the demo: starts
 * tools/kafka-mock/kafka-mock (librdkafka's mock cluster behind a small C
 * launcher, see tools/kafka-mock/launcher.c for its protocol and limits) and
 * drives it through its TCP control socket.
 *
 * kafkajs against this cluster, learnt the hard way:
 *  - Create topics with KafkaControl.createTopic (or `topics` at start), never
 *    with kafkajs `admin.createTopics` (the mock has no CreateTopics; kafkajs
 *    fails with "Broker 0 not found in the cached metadata").
 *  - The mock speaks Metadata v2 at most, which has no AllowAutoTopicCreation
 *    flag, so ANY metadata lookup of an unknown topic auto-creates it with 4
 *    partitions, whatever kafkajs `allowAutoTopicCreation` says. Create a
 *    topic before any client (producer, consumer, admin) names it.
 *  - Group joins: the mock's coordinator waits 3 s after the first member
 *    joins an empty group, and holds every later rebalance open for the
 *    session timeout minus 1 s: `sessionTimeout: 3000, heartbeatInterval: 300`
 *    keeps rebalances near 2 s. Start the members of a group together.
 *  - A mock race (leader's SyncGroup before a follower's) answers the follower
 *    with INVALID_REQUEST; kafkajs then crashes that consumer for good (CRASH
 *    event with restart: false). Whoever owns a consumer must replace it.
 *  - Retries: keep a client's total retry time longer than any outage a test
 *    stages (the cluster's own test uses initialRetryTime 100, maxRetryTime
 *    1000, retries 12 for a 1.5 s broker down).
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { Socket, connect } from 'node:net';
import { dirname, join } from 'node:path';
import { processAlive } from './process-alive';

const LAUNCHER_DIR = join('tools', 'kafka-mock');
const LAUNCHER_SOURCE = join(LAUNCHER_DIR, 'launcher.c');
const LAUNCHER_BINARY = join(LAUNCHER_DIR, 'kafka-mock');
const STDERR_TAIL_BYTES = 8 * 1024;

/** Repository root: the nearest ancestor holding package.json and the launcher
 * source (dist/ may hold a stray package.json, so both are required). */
export function findRepoRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, LAUNCHER_SOURCE))) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`kafka-cluster: no repository root (package.json + ${LAUNCHER_SOURCE}) above ${start}`);
    }
    dir = parent;
  }
}

let buildOnce: Promise<string> | undefined;

/** Builds the launcher when the binary is missing or older than launcher.c;
 * resolves to the binary's absolute path. build.sh is itself idempotent and
 * safe to run concurrently (separate jest workers may all call this). */
export function ensureKafkaLauncherBuilt(): Promise<string> {
  buildOnce ??= buildLauncher().catch((error: unknown) => {
    buildOnce = undefined; // let a later call retry, e.g. after apt-get install
    throw error;
  });
  return buildOnce;
}

async function buildLauncher(): Promise<string> {
  const root = findRepoRoot();
  const binary = join(root, LAUNCHER_BINARY);
  const source = join(root, LAUNCHER_SOURCE);
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) {
    return binary;
  }
  await new Promise<void>((resolve, reject) => {
    execFile('bash', [join(root, LAUNCHER_DIR, 'build.sh')], { cwd: root }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`kafka-cluster: building the Kafka mock launcher failed:\n${stderr || stdout || error.message}`));
      } else {
        resolve();
      }
    });
  });
  return binary;
}

/** One parsed stdout line of the launcher's start-up handshake. */
export type LauncherLine = { kind: 'bootstrap'; brokers: string[] } | { kind: 'control'; address: string } | { kind: 'ready' };

const HOST_PORT = /^[^\s:,]+:\d{1,5}$/;

/** Parses a start-up line (`BOOTSTRAP a:1,b:2`, `CONTROL h:p`, `READY`);
 * anything else is null. Throws on a recognised but malformed line. */
export function parseLauncherLine(raw: string): LauncherLine | null {
  const line = raw.trim();
  const [keyword, value, ...rest] = line.split(/\s+/);
  switch (keyword) {
    case 'READY':
      return value === undefined ? { kind: 'ready' } : null;
    case 'BOOTSTRAP': {
      const brokers = (value ?? '').split(',').filter((b) => b !== '');
      if (rest.length > 0 || brokers.length === 0 || !brokers.every((b) => HOST_PORT.test(b))) {
        throw new Error(`kafka-cluster: malformed launcher line '${line}'`);
      }
      return { kind: 'bootstrap', brokers };
    }
    case 'CONTROL':
      if (rest.length > 0 || value === undefined || !HOST_PORT.test(value)) {
        throw new Error(`kafka-cluster: malformed launcher line '${line}'`);
      }
      return { kind: 'control', address: value };
    default:
      return null;
  }
}

export interface KafkaClusterOptions {
  /** Number of brokers (ids 1..n); default 1. */
  brokers?: number;
  /** Topics created before READY. */
  topics?: { name: string; partitions: number }[];
  /** TCP control port on 127.0.0.1; 0 (default) picks a free one. */
  controlPort?: number;
  /** Outlive this process (own process group, no stdin); it must then be
   * stopped explicitly (stop() or stopKafkaClusterByPid). Otherwise the
   * launcher exits by itself when this process dies (EOF on its stdin). */
  detached?: boolean;
  /** Append the launcher's stderr (librdkafka logs) to this file. */
  logFile?: string;
  /** How long to wait for READY; default 15 s. */
  startTimeoutMs?: number;
}

export interface KafkaClusterHandle {
  /** Bootstrap servers, host:port each. */
  brokers: string[];
  /** Control socket address, host:port. */
  control: string;
  pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

/** Starts a mock Kafka cluster and waits for its READY line. */
export async function startKafkaCluster(opts: KafkaClusterOptions = {}): Promise<KafkaClusterHandle> {
  const binary = await ensureKafkaLauncherBuilt();
  const args = ['--brokers', String(opts.brokers ?? 1), '--control-port', String(opts.controlPort ?? 0)];
  for (const topic of opts.topics ?? []) {
    args.push('--topic', `${topic.name}:${topic.partitions}`);
  }
  if (opts.detached) {
    args.push('--no-stdin');
  }

  // The log's folder may not exist yet (a fresh clone before any service has written a log).
  if (opts.logFile !== undefined) mkdirSync(dirname(opts.logFile), { recursive: true });
  const logFd = opts.logFile === undefined ? undefined : openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binary, args, {
      detached: opts.detached ?? false,
      // Non-detached: stdin stays an open pipe we never write to, so the
      // launcher sees EOF (and exits) when this process goes away.
      stdio: [opts.detached ? 'ignore' : 'pipe', 'pipe', logFd ?? 'pipe'],
    });
  } finally {
    if (logFd !== undefined) closeSync(logFd); // the child holds its own copy
  }

  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
  });
  const describeStderr = (): string => {
    const text = opts.logFile === undefined ? stderrTail : readTail(opts.logFile);
    return text.trim() === '' ? '(launcher stderr was empty)' : `launcher stderr:\n${text.trim()}`;
  };

  const startup = await waitForReady(child, opts.startTimeoutMs ?? 15_000).catch(async (error: Error) => {
    await killAndWait(child);
    throw new Error(`kafka-cluster: ${error.message} (${binary} ${args.join(' ')})\n${describeStderr()}`);
  });

  // Let this process exit without an explicit stop(): a non-detached launcher
  // then follows on stdin EOF. stop() re-refs the child while it waits.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as Socket | null)?.unref?.();
  }
  if (opts.detached) {
    // Nobody reads these any more; the launcher ignores SIGPIPE.
    child.stdout?.destroy();
    child.stderr?.destroy();
  }

  return {
    brokers: startup.brokers,
    control: startup.control,
    pid: child.pid as number,
    stop: () => killAndWait(child),
  };
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<{ brokers: string[]; control: string }> {
  return new Promise((resolve, reject) => {
    let brokers: string[] | undefined;
    let control: string | undefined;
    let pending = '';

    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      if (error) {
        reject(error);
      } else if (!brokers || !control) {
        reject(new Error('launcher said READY before BOOTSTRAP and CONTROL'));
      } else {
        resolve({ brokers, control });
      }
    };
    const onData = (chunk: string): void => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const raw = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        let line: LauncherLine | null;
        try {
          line = parseLauncherLine(raw);
        } catch (error) {
          finish(error as Error);
          return;
        }
        if (line?.kind === 'bootstrap') brokers = line.brokers;
        if (line?.kind === 'control') control = line.address;
        if (line?.kind === 'ready') {
          finish();
          return;
        }
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      finish(new Error(`launcher exited before READY (${signal ?? `exit code ${code}`})`));
    const onError = (error: Error): void => finish(new Error(`cannot run the launcher: ${error.message}`));
    const timer = setTimeout(() => finish(new Error(`launcher not READY within ${timeoutMs} ms`)), timeoutMs);

    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-STDERR_TAIL_BYTES);
  } catch {
    return '';
  }
}

async function killAndWait(child: ChildProcess, graceMs = 5_000): Promise<void> {
  // No pid: it never started (spawn error), so there is no 'exit' to wait for.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.ref(); // keep the event loop alive until the exit is observed
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Stops a detached launcher started by another process (e.g. from a pid
 * file): SIGTERM, SIGKILL after graceMs, resolves once the pid is gone. */
export async function stopKafkaClusterByPid(pid: number, graceMs = 5_000): Promise<void> {
  if (!processAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A parsed control reply: `OK [text]` / `PONG` succeed, `ERR text` fails. */
export type ControlReply = { ok: true; value: string } | { ok: false; error: string };

export function parseControlReply(raw: string): ControlReply {
  const line = raw.replace(/\r$/, '');
  if (line === 'PONG' || line === 'OK') return { ok: true, value: '' };
  if (line.startsWith('OK ')) return { ok: true, value: line.slice(3) };
  if (line.startsWith('ERR')) return { ok: false, error: line.slice(3).trim() || 'unspecified error' };
  return { ok: false, error: `unexpected reply '${line}'` };
}

interface PendingCommand {
  command: string;
  resolve: (value: string) => void;
  reject: (error: Error) => void;
}

/**
 * Client for the launcher's control socket. Commands may be issued
 * concurrently: they are pipelined on one connection and matched to replies
 * in order (the launcher answers each line, in order, with exactly one line).
 */
export class KafkaControl {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly pending: PendingCommand[] = [];
  private buffered = '';

  constructor(
    private readonly controlAddress: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async ping(): Promise<void> {
    await this.send('ping');
  }

  /** The cluster's bootstrap servers. */
  async bootstrap(): Promise<string[]> {
    return (await this.send('bootstrap')).split(',');
  }

  /** Creates a topic; succeeds if it already exists with that partition count
   * (or was auto-created by a client, whose count the launcher cannot see). */
  async createTopic(name: string, partitions: number): Promise<void> {
    await this.send(`topic ${name} ${partitions}`);
  }

  async createTopics(topics: { name: string; partitions: number }[]): Promise<void> {
    await Promise.all(topics.map((t) => this.createTopic(t.name, t.partitions)));
  }

  /** Closes the broker's connections and refuses new ones; leadership does
   * not move. `'all'` for every broker. */
  async brokerDown(brokerId: number | 'all'): Promise<void> {
    await this.send(`down ${brokerId}`);
  }

  async brokerUp(brokerId: number | 'all'): Promise<void> {
    await this.send(`up ${brokerId}`);
  }

  /** Delays every response of the broker by ms (0 restores). */
  async setRtt(brokerId: number | 'all', ms: number): Promise<void> {
    await this.send(`rtt ${brokerId} ${ms}`);
  }

  /** The next `count` requests with this ApiKey (0 = Produce, 1 = Fetch, ...),
   * to any broker, fail with errorCode (a Kafka error code, e.g. 6 =
   * NOT_LEADER_FOR_PARTITION, or a librdkafka name). */
  async injectErrors(apiKey: number, count: number, errorCode: number | string): Promise<void> {
    await this.send(`error ${apiKey} ${count} ${errorCode}`);
  }

  /** Drops injected errors not yet consumed, for one ApiKey or all. */
  async clearErrors(apiKey?: number): Promise<void> {
    await this.send(apiKey === undefined ? 'clear-errors' : `clear-errors ${apiKey}`);
  }

  /** Closes the connection; commands still waiting are rejected. */
  async close(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    const socket = this.socket;
    this.socket = undefined; // its 'close' event is then ignored by failAll
    this.buffered = '';
    for (const command of this.pending.splice(0)) command.reject(new Error('kafka-control: connection closed'));
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
      });
    }
  }

  /** Sends one command line; resolves with the text after `OK ` (or '' for
   * `OK`/`PONG`), rejects with the launcher's ERR text. */
  async send(command: string): Promise<string> {
    if (/[\r\n]/.test(command)) {
      throw new Error('kafka-control: a command must be a single line');
    }
    const socket = await this.connect();
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Replies are matched by position, so after a lost reply the
        // connection cannot be trusted: drop it, the next call reconnects.
        this.failAll(new Error(`kafka-control: no reply to '${command}' within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.push({
        command,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      socket.write(`${command}\n`);
    });
  }

  private connect(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const { host, port } = splitHostPort(this.controlAddress);
      const socket = connect({ host, port });
      socket.setEncoding('utf8');
      socket.once('connect', () => {
        this.connecting = undefined;
        this.socket = socket;
        this.buffered = '';
        resolve(socket);
      });
      socket.on('data', (chunk: string) => this.onData(chunk));
      socket.on('error', (error) => {
        if (this.connecting) {
          this.connecting = undefined;
          reject(new Error(`kafka-control: cannot connect to ${this.controlAddress}: ${error.message}`));
        }
        this.failAll(new Error(`kafka-control: ${error.message}`), socket);
      });
      socket.on('close', () => this.failAll(new Error('kafka-control: connection closed by the launcher'), socket));
    });
    return this.connecting;
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      const command = this.pending.shift();
      if (!command) continue; // nothing asked; ignore stray output
      const reply = parseControlReply(line);
      if (reply.ok) {
        command.resolve(reply.value);
      } else {
        command.reject(new Error(`kafka-control: '${command.command}' failed: ${reply.error}`));
      }
    }
  }

  /** Rejects everything waiting and forgets the socket (only if it is still
   * the current one, so a late event from an old socket is harmless). */
  private failAll(error: Error, from?: Socket): void {
    if (from && from !== this.socket) return;
    const socket = this.socket;
    this.socket = undefined;
    this.buffered = '';
    socket?.destroy();
    for (const command of this.pending.splice(0)) command.reject(error);
  }
}

function splitHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`kafka-control: bad control address '${address}' (expected host:port)`);
  }
  return { host: address.slice(0, colon), port };
}
