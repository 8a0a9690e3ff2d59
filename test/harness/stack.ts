import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ModelSimulator } from '../../tools/simulator/model-simulator';
import { findRepoRoot, KafkaControl, startKafkaCluster, stopKafkaClusterByPid } from './kafka-cluster';
import { assertPostgresUp, PG_BASE_URL } from './postgres';
import { startUnleash } from './unleash-server';
import { createServer, AddressInfo } from 'node:net';
import { processAlive } from './process-alive';

async function freePort(): Promise<number> {
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
 * The local stack — PostgreSQL (already running on the machine), the Kafka mock cluster, the
 * real Unleash server and the model simulator — started where missing and stopped only by
 * whoever started it. Used by jest's globalSetup, the demo and the benchmarks.
 */
export interface StackInfo {
  postgres: string;
  kafka: { brokers: string[]; control: string; pid: number };
  unleash: { url: string; adminToken: string; clientToken: string };
  simulator: { url: string };
}

export interface Stack {
  info: StackInfo;
  /** The in-process simulator, when this process runs it. */
  simulator: ModelSimulator | null;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Keep what is started running after this process exits (the demo's --keep). */
  detached?: boolean;
  kafkaBrokers?: number;
  unleashPort?: number;
  unleashDatabase?: string;
  /** Reuse a running stack recorded in .stack/stack.json when it still answers. */
  reuse?: boolean;
  log?: (line: string) => void;
}

const STATE_FILE = (root: string) => path.join(root, '.stack', 'stack.json');

async function kafkaAnswers(info: StackInfo['kafka'] | undefined): Promise<boolean> {
  if (!info || !processAlive(info.pid)) return false;
  const control = new KafkaControl(info.control, 2000);
  try {
    await control.ping();
    return true;
  } catch {
    return false;
  } finally {
    control.close();
  }
}

async function simulatorAnswers(url: string | undefined): Promise<boolean> {
  if (!url) return false;
  try {
    const r = await fetch(`${url}/models`, { signal: AbortSignal.timeout(2000) });
    return r.ok && r.headers.get('x-model-simulator') === 'true';
  } catch {
    return false;
  }
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const log = opts.log ?? ((l: string) => console.log(`[stack] ${l}`));
  const root = findRepoRoot(__dirname);
  mkdirSync(path.join(root, '.stack'), { recursive: true });
  const previous: Partial<StackInfo> = opts.reuse && existsSync(STATE_FILE(root)) ? JSON.parse(readFileSync(STATE_FILE(root), 'utf8')) : {};
  const stops: Array<() => Promise<void>> = [];

  await assertPostgresUp(PG_BASE_URL);

  let kafka: StackInfo['kafka'];
  if (opts.reuse && (await kafkaAnswers(previous.kafka))) {
    kafka = previous.kafka!;
    log(`reusing the Kafka mock cluster at ${kafka.brokers.join(',')}`);
  } else {
    const handle = await startKafkaCluster({
      brokers: opts.kafkaBrokers ?? 3,
      detached: opts.detached,
      logFile: path.join(root, '.stack', 'kafka-mock.log'),
    });
    kafka = { brokers: handle.brokers, control: handle.control, pid: handle.pid };
    stops.push(() => (opts.detached ? stopKafkaClusterByPid(handle.pid) : handle.stop()));
    log(`Kafka mock cluster (librdkafka) at ${kafka.brokers.join(',')}, control ${kafka.control}`);
  }

  const unleashOpts = {
    database: opts.unleashDatabase ?? 'understudy_unleash',
    detached: opts.detached,
    // Kept up for as long as this process runs (jest's run, a benchmark); a detached one has no watcher.
    restartOnExit: !opts.detached,
    onProgress: (m: string) => log(`unleash: ${m}`),
  };
  let unleash;
  try {
    unleash = await startUnleash({ ...unleashOpts, port: opts.unleashPort ?? 4242 });
  } catch (e) {
    // Another Unleash (someone else's, with other tokens) holds the port: run ours beside it.
    if (opts.unleashPort !== undefined || !/does not accept the expected tokens/.test((e as Error).message)) throw e;
    const port = await freePort();
    log(`unleash: port 4242 is taken by another Unleash; starting ours on ${port}`);
    unleash = await startUnleash({ ...unleashOpts, port });
  }
  if (unleash.startedByUs) stops.push(() => unleash.stop());

  let simulator: ModelSimulator | null = null;
  let simulatorUrl: string;
  if (opts.reuse && (await simulatorAnswers(previous.simulator?.url))) {
    simulatorUrl = previous.simulator!.url;
    log(`reusing the model simulator at ${simulatorUrl}`);
  } else {
    simulator = new ModelSimulator({ port: 0 });
    simulatorUrl = (await simulator.start()).url;
    const sim = simulator;
    stops.push(() => sim.stop());
    log(`MODEL SIMULATOR at ${simulatorUrl}`);
  }

  const info: StackInfo = {
    postgres: PG_BASE_URL,
    kafka,
    unleash: { url: unleash.url, adminToken: unleash.adminToken, clientToken: unleash.clientToken },
    simulator: { url: simulatorUrl },
  };
  writeFileSync(STATE_FILE(root), JSON.stringify(info, null, 2));
  return {
    info,
    simulator,
    stop: async () => {
      for (const s of stops.reverse()) await s().catch((e) => log(`stopping: ${(e as Error).message}`));
    },
  };
}
