import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { Client } from 'pg';
import { parse as parseYaml, stringify } from 'yaml';
import { KafkaControl } from '../../test/harness/kafka-cluster';
import { createMigratedDatabase, databaseUrl, dropDatabase } from '../../test/harness/postgres';
import type { StackInfo } from '../../test/harness/stack';
import { freePort, serviceEnv, TestTopics, waitForProgress } from '../../test/harness/test-env';

/** What every benchmark section shares: the stack, a scratch folder, names of its own. */
export interface BenchContext {
  root: string;
  /** A copy of dist/ taken when the benchmark started: a build running beside it cannot change what it measures. */
  dist: string;
  /** A copy of dist-tools/ (the model simulator, the naive pipeline), taken with the copy of dist/. */
  tools: string;
  /** Scratch folder: logs, scenario files, profiles (.stack/bench/<suffix>). */
  dir: string;
  suffix: string;
  stack: StackInfo;
  kafka: Kafka;
  quick: boolean;
  log(line: string): void;
  /** Databases made by the benchmark, dropped at the end unless --keep. */
  databases: string[];
}

export interface BenchWorkflows {
  file: string;
  triage: string;
  invoice: string;
  model: string;
}

/**
 * The shipped workflows (config/workflows.yaml) under names of the run's own, so that flags in
 * the shared Unleash never collide. Two settings are lifted because they would cap the figure
 * instead of the service: the per-workflow model rate limit (500 and 300 calls/s — a provider's
 * quota, not the service's capacity) and the daily token budget (a run of 60,000 items spends
 * ~20 M tokens, the shipped budget). Everything else — prompts, schemas, comparators — is as shipped.
 */
export function writeBenchWorkflows(ctx: BenchContext, name: string): BenchWorkflows {
  const shipped = (parseYaml(readFileSync(path.join(ctx.root, 'config', 'workflows.yaml'), 'utf8')) as { workflows: Array<Record<string, unknown>> }).workflows;
  const [triage, invoice] = shipped;
  const model = `bench-sim-${ctx.suffix}`;
  const names = { triage: `bench-triage-${ctx.suffix}-${name}`, invoice: `bench-invoice-${ctx.suffix}-${name}` };
  const lift = (w: Record<string, unknown>, n: string) => ({
    ...w,
    name: n,
    model: { ...(w.model as object), name: model },
    rateLimitPerSecond: 1_000_000,
    budget: {},
  });
  const file = path.join(ctx.dir, `workflows-${name}.yaml`);
  writeFileSync(file, stringify({ workflows: [lift(triage, names.triage), lift(invoice, names.invoice)] }));
  return { file, ...names, model };
}

/** Topics of a run's own; many partitions, because each mock partition keeps only ~5 MiB. */
export async function createBenchTopics(ctx: BenchContext, name: string, partitions = 32): Promise<TestTopics> {
  const p = `bench.${ctx.suffix}.${name}`;
  const t: TestTopics = {
    workItems: `${p}.work.items`,
    workDecisions: `${p}.work.decisions`,
    routing: `${p}.ai.routing`,
    dlq: `${p}.dlq`,
    alerts: `${p}.alerts`,
  };
  const control = new KafkaControl(ctx.stack.kafka.control);
  try {
    await control.createTopics(Object.values(t).map((topic) => ({ name: topic, partitions })));
  } finally {
    await control.close();
  }
  return t;
}

export async function benchDatabase(ctx: BenchContext, name: string): Promise<string> {
  const db = `understudy_bench_${ctx.suffix}_${name}`.replace(/[^a-z0-9_]/g, '_');
  ctx.databases.push(db);
  const url = await createMigratedDatabase(db, ctx.stack.postgres);
  if (process.env.BENCH_STATEMENT_LOG === '1') {
    // Diagnostics: every statement of this database with its duration, in PostgreSQL's server log.
    const c = await pgClient(url);
    await c.query(`ALTER DATABASE "${db}" SET log_min_duration_statement = 0`);
    await c.end();
  }
  return url;
}

export async function dropBenchDatabases(ctx: BenchContext): Promise<void> {
  for (const db of ctx.databases.splice(0)) await dropDatabase(db, ctx.stack.postgres).catch(() => undefined);
}

export async function pgClient(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

export function adminUrl(ctx: BenchContext): string {
  return databaseUrl('postgres', ctx.stack.postgres);
}

/** The environment of a service instance, as test/harness/test-env.ts serviceEnv() builds it, plus overrides. */
export async function benchServiceEnv(
  ctx: BenchContext,
  o: { name: string; topics: TestTopics; workflowsFile: string; databaseUrl: string; simulatorUrl: string; env?: Record<string, string> },
): Promise<Record<string, string>> {
  process.env.US_STACK = JSON.stringify(ctx.stack);
  const port = await freePort();
  return serviceEnv({
    suffix: `${ctx.suffix}-${o.name}`,
    topics: o.topics,
    workflowsFile: o.workflowsFile,
    databaseUrl: o.databaseUrl,
    port,
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      MODEL_BASE_URL: o.simulatorUrl,
      // The production defaults (serviceEnv lowers them for tests).
      DATABASE_POOL_SIZE: '20',
      MODEL_CONCURRENCY: '64',
      MODEL_TIMEOUT_MS: '30000',
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      CONTROLLER_ENABLED: 'false',
      ...o.env,
    },
  });
}

export async function benchProducer(ctx: BenchContext): Promise<Producer> {
  const producer = ctx.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

export function kafkaFor(stack: StackInfo): Kafka {
  return new Kafka({ clientId: 'bench', brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

/** Sends messages in chunks (one produce request each). */
export async function produceAll(producer: Producer, topic: string, messages: Array<{ key: string; value: string }>, chunk = 2000): Promise<void> {
  for (let i = 0; i < messages.length; i += chunk) {
    await producer.send({ topic, messages: messages.slice(i, i + chunk), acks: -1 });
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { waitForProgress };
