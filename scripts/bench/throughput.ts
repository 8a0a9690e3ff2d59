import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Client } from 'pg';
import { GeneratedItem, HumanDecisionEvent, toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
import {
  BenchContext,
  benchDatabase,
  benchProducer,
  benchServiceEnv,
  createBenchTopics,
  pgClient,
  produceAll,
  sleep,
  waitForProgress,
  writeBenchWorkflows,
} from './context';
import { cpuSecondsOf, loadavg, machineBusySeconds, memoryOf } from './machine';
import { startServiceProcess, startSimulator } from './processes';
import { distribution, Distribution, perSecond } from './stats';

/**
 * Shadow throughput: work items from Kafka to a stored comparison, on one service instance, with
 * every item's human decision already stored (so each AI decision completes a comparison).
 */
export interface ThroughputOptions {
  name: string;
  items: number;
  warmup: number;
  latencyMs: number;
  concurrency: number;
  cpuProfileDir?: string;
}

export interface ThroughputResult {
  name: string;
  items: number;
  latencyMs: number;
  concurrency: number;
  /** First item produced → last comparison stored. */
  elapsedMs: number;
  itemsPerSecond: number;
  /** Between the 10th and the 90th percentile of comparison times (no start-up or tail). */
  steadyItemsPerSecond: number;
  produceMs: number;
  decisionsIngest: { count: number; ms: number; perSecond: number };
  /** Rates of each stage, from the database's own timestamps. */
  stages: { ingestPerSecond: number; decisionsPerSecond: number; comparisonsPerSecond: number };
  /** Item received (work_items.received_at) → comparison stored (comparisons.created_at), ms. */
  lagMs: Distribution;
  peakRssMiB: number | null;
  serviceCpuSeconds: number | null;
  simulatorCpuSeconds: number | null;
  kafkaCpuSeconds: number | null;
  /** CPU of the PostgreSQL backends serving the run's database. */
  postgresCpuSeconds: number | null;
  /** Transactions committed in the run's database during the timed run. */
  transactions: number | null;
  machineBusySeconds: number | null;
  loadBefore: string;
  loadAfter: string;
  jobStates: Record<string, number>;
  logFile: string;
  cpuProfileDir: string | null;
}

/** CPU milliseconds per item of the given processes' CPU seconds in a run; null when one was not measured. */
export function cpuPerItemMs(t: Pick<ThroughputResult, 'items'>, seconds: ReadonlyArray<number | null>): number | null {
  if (seconds.some((s) => s === null)) return null;
  return ((seconds as number[]).reduce((a, s) => a + s, 0) * 1000) / t.items;
}

interface Workload {
  items: GeneratedItem[];
  decisions: HumanDecisionEvent[];
}

function makeWorkload(workflows: { triage: string; invoice: string }, prefix: string, count: number, seed: number): Workload {
  const gen = new WorkloadGenerator({
    seed,
    triageWorkflow: workflows.triage,
    invoiceWorkflow: workflows.invoice,
    idPrefix: `${prefix}-`,
    startAt: new Date(Date.now() - 3_600_000),
    gapMs: 10,
  });
  const items = gen.batch(count);
  return { items, decisions: items.map((i) => gen.humanDecision(i, { errorRate: 0.05 })) };
}

async function count(pg: Client, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await pg.query(sql, params)).rows[0].n);
}

/** CPU seconds so far of each PostgreSQL backend connected to the client's database. */
async function backendCpu(pg: Client): Promise<Map<number, number>> {
  // The benchmark's own connection (progress polling) does not count.
  const rows = (await pg.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).rows as Array<{
    pid: number;
  }>;
  const out = new Map<number, number>();
  for (const r of rows) {
    const s = cpuSecondsOf(r.pid);
    if (s !== null) out.set(r.pid, s);
  }
  return out;
}

function cpuDelta(before: Map<number, number>, after: Map<number, number>): number | null {
  if (after.size === 0) return null;
  let sum = 0;
  for (const [pid, s] of after) sum += s - (before.get(pid) ?? 0);
  return sum;
}

/** Transactions committed so far in the client's database (the statistics lag by up to ~0.5 s). */
export async function commits(pg: Client): Promise<number | null> {
  await pg.query(`SELECT pg_stat_clear_snapshot()`);
  const r = (await pg.query(`SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = current_database()`)).rows[0];
  return r ? Number(r.n) : null;
}

async function jobStates(pg: Client): Promise<Record<string, number>> {
  const rows = (await pg.query(`SELECT state, count(*)::int AS n FROM ai_jobs GROUP BY state`)).rows as Array<{ state: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

export async function runServiceThroughput(ctx: BenchContext, o: ThroughputOptions): Promise<ThroughputResult> {
  const loadBefore = loadavg();
  const workflows = writeBenchWorkflows(ctx, o.name);
  const topics = await createBenchTopics(ctx, o.name);
  const dbUrl = await benchDatabase(ctx, o.name);
  const sim = await startSimulator(ctx, `${o.name}-simulator`, { seed: 1, accuracy: 0.9, latencyMs: o.latencyMs, logprobs: true });
  const env = await benchServiceEnv(ctx, {
    name: o.name,
    topics,
    workflowsFile: workflows.file,
    databaseUrl: dbUrl,
    simulatorUrl: sim.url,
    env: { MODEL_CONCURRENCY: String(o.concurrency) },
  });
  const pg = await pgClient(dbUrl);
  const producer = await benchProducer(ctx);
  const service = await startServiceProcess(ctx, `${o.name}-service`, env, { cpuProfileDir: o.cpuProfileDir });
  try {
    const w = makeWorkload(workflows, `${ctx.suffix}-${o.name}`, o.warmup + o.items, 1000 + o.latencyMs);
    const total = w.items.length;

    // 1. Every item's human decision, through the service's own ingest (not timed as throughput).
    const d0 = Date.now();
    await produceAll(
      producer,
      topics.workDecisions,
      w.decisions.map((d) => ({ key: d.itemId, value: JSON.stringify(d) })),
    );
    await waitForProgress('storing the human decisions', async () => {
      const n = await count(pg, `SELECT count(*)::int AS n FROM human_decisions`);
      return { done: n >= total, progress: n };
    });
    const decisionsMs = Date.now() - d0;

    // 2. Warm-up: the consumer group has joined, connections are open, code is compiled.
    await produceAll(
      producer,
      topics.workItems,
      w.items.slice(0, o.warmup).map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })),
    );
    await waitForProgress('the warm-up items', async () => {
      const n = await count(pg, `SELECT count(*)::int AS n FROM comparisons`);
      return { done: n >= o.warmup, progress: n, detail: async () => JSON.stringify(await jobStates(pg)) };
    });
    const lastWarmId = await count(pg, `SELECT coalesce(max(id), 0) AS n FROM work_items`);

    // 3. The timed run: produce every item as fast as Kafka takes them, while the service consumes.
    const cpu0 = cpuSecondsOf(service.pid);
    const sim0 = cpuSecondsOf(sim.pid);
    const pg0 = await backendCpu(pg);
    const kafka0 = cpuSecondsOf(ctx.stack.kafka.pid);
    const xact0 = await commits(pg);
    const busy0 = machineBusySeconds();
    const t0 = Date.now();
    let produceMs = 0;
    const producing = produceAll(
      producer,
      topics.workItems,
      w.items.slice(o.warmup).map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })),
      1000,
    ).then(() => {
      produceMs = Date.now() - t0;
    });
    let t1 = 0;
    await waitForProgress(
      `${o.name}: items to comparisons`,
      async () => {
        const n = await count(pg, `SELECT count(*)::int AS n FROM comparisons`);
        if (n >= total) t1 = Date.now();
        return { done: n >= total, progress: n, detail: async () => JSON.stringify(await jobStates(pg)) };
      },
      { everyMs: 200, stallMs: 60_000 },
    );
    await producing;
    const cpu1 = cpuSecondsOf(service.pid);
    const sim1 = cpuSecondsOf(sim.pid);
    const pg1 = await backendCpu(pg);
    const kafka1 = cpuSecondsOf(ctx.stack.kafka.pid);
    const xact1 = await commits(pg);
    const busy1 = machineBusySeconds();
    const mem = memoryOf(service.pid);
    const elapsedMs = t1 - t0;

    const stage = (
      await pg.query(
        `SELECT
           extract(epoch FROM max(w.received_at) - min(w.received_at)) * 1000 AS "ingestMs",
           extract(epoch FROM max(d.created_at) - min(d.created_at)) * 1000 AS "decisionsMs",
           extract(epoch FROM max(c.created_at) - min(c.created_at)) * 1000 AS "comparisonsMs",
           count(*)::int AS n,
           extract(epoch FROM percentile_disc(0.9) WITHIN GROUP (ORDER BY c.created_at) - percentile_disc(0.1) WITHIN GROUP (ORDER BY c.created_at)) * 1000 AS "steadyMs"
         FROM work_items w
         JOIN ai_decisions d ON d.workflow = w.workflow AND d.item_id = w.item_id
         JOIN comparisons c ON c.ai_decision_id = d.id
         WHERE w.id > $1`,
        [lastWarmId],
      )
    ).rows[0];
    const lags = (
      await pg.query(
        `SELECT extract(epoch FROM c.created_at - w.received_at) * 1000 AS ms
         FROM work_items w JOIN comparisons c ON c.workflow = w.workflow AND c.item_id = w.item_id WHERE w.id > $1`,
        [lastWarmId],
      )
    ).rows.map((r: { ms: string }) => Number(r.ms));
    return {
      name: o.name,
      items: o.items,
      latencyMs: o.latencyMs,
      concurrency: o.concurrency,
      elapsedMs,
      itemsPerSecond: perSecond(o.items, elapsedMs),
      steadyItemsPerSecond: perSecond(0.8 * stage.n, Number(stage.steadyMs)),
      produceMs,
      decisionsIngest: { count: total, ms: decisionsMs, perSecond: perSecond(total, decisionsMs) },
      stages: {
        ingestPerSecond: perSecond(stage.n, Number(stage.ingestMs)),
        decisionsPerSecond: perSecond(stage.n, Number(stage.decisionsMs)),
        comparisonsPerSecond: perSecond(stage.n, Number(stage.comparisonsMs)),
      },
      lagMs: distribution(lags),
      peakRssMiB: mem.peakRssMiB,
      serviceCpuSeconds: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
      simulatorCpuSeconds: sim0 !== null && sim1 !== null ? sim1 - sim0 : null,
      postgresCpuSeconds: cpuDelta(pg0, pg1),
      kafkaCpuSeconds: kafka0 !== null && kafka1 !== null ? kafka1 - kafka0 : null,
      transactions: xact0 !== null && xact1 !== null ? xact1 - xact0 : null,
      machineBusySeconds: busy0 !== null && busy1 !== null ? busy1 - busy0 : null,
      loadBefore,
      loadAfter: loadavg(),
      jobStates: await jobStates(pg),
      logFile: service.logFile,
      cpuProfileDir: service.cpuProfileDir,
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await service.stop();
    await sim.stop();
    await pg.end().catch(() => undefined);
  }
}

export interface NaiveThroughputResult {
  name: string;
  latencyMs: number;
  /** Items completed (comparison stored) in the measured window. */
  completed: number;
  windowMs: number;
  itemsPerSecond: number;
  loadBefore: string;
  loadAfter: string;
}

/**
 * The naive pipeline (naive-pipeline.ts) in its own process on the same kind of workload, for a
 * fixed time: items completed per second from its first completion to the end of the window.
 */
export async function runNaiveThroughput(
  ctx: BenchContext,
  o: { name: string; latencyMs: number; windowMs: number; items: number },
): Promise<NaiveThroughputResult> {
  const loadBefore = loadavg();
  const workflows = writeBenchWorkflows(ctx, o.name);
  const topics = await createBenchTopics(ctx, o.name);
  const dbUrl = await benchDatabase(ctx, o.name);
  const sim = await startSimulator(ctx, `${o.name}-simulator`, { seed: 1, accuracy: 0.9, latencyMs: o.latencyMs, logprobs: true });
  const pg = await pgClient(dbUrl);
  const producer = await benchProducer(ctx);
  const w = makeWorkload(workflows, `${ctx.suffix}-${o.name}`, o.items, 2000 + o.latencyMs);
  // Human decisions already present (set-up, not measured), as in the service's run.
  await pg.query(
    `INSERT INTO human_decisions (event_id, workflow, item_id, decision, actor, kind, decided_at)
     SELECT "eventId", workflow, "itemId", decision, actor, kind, "decidedAt"
     FROM jsonb_to_recordset($1::jsonb) AS x("eventId" text, workflow text, "itemId" text, decision jsonb, actor text, kind text, "decidedAt" timestamptz)`,
    [JSON.stringify(w.decisions)],
  );
  await produceAll(
    producer,
    topics.workItems,
    w.items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })),
  );
  await producer.disconnect();
  const naive = await startNaive(ctx, o.name, {
    databaseUrl: dbUrl,
    itemsTopic: topics.workItems,
    routingTopic: null,
    modelBaseUrl: sim.url,
    workflowsFile: workflows.file,
  });
  try {
    await waitForProgress('the naive pipeline to start', async () => {
      const n = await count(pg, `SELECT count(*)::int AS n FROM comparisons`);
      return { done: n > 0, progress: 0 };
    });
    await sleep(o.windowMs);
    const r = (await pg.query(`SELECT count(*)::int AS n, extract(epoch FROM max(created_at) - min(created_at)) * 1000 AS ms FROM comparisons`)).rows[0];
    return {
      name: o.name,
      latencyMs: o.latencyMs,
      completed: r.n,
      windowMs: Number(r.ms),
      itemsPerSecond: perSecond(r.n - 1, Number(r.ms)),
      loadBefore,
      loadAfter: loadavg(),
    };
  } finally {
    await naive.stop(5000);
    await sim.stop();
    await pg.end().catch(() => undefined);
  }
}

export async function startNaive(
  ctx: BenchContext,
  name: string,
  c: { databaseUrl: string; itemsTopic: string; routingTopic: string | null; modelBaseUrl: string; workflowsFile: string },
) {
  const { spawn } = await import('node:child_process');
  const { closeSync, openSync } = await import('node:fs');
  const configFile = path.join(ctx.dir, `${name}-naive.json`);
  writeFileSync(configFile, JSON.stringify({ ...c, brokers: ctx.stack.kafka.brokers, groupId: `naive-${ctx.suffix}-${name}` }));
  const logFile = path.join(ctx.dir, `${name}-naive.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, [path.join(ctx.tools, 'scripts', 'bench', 'naive-pipeline.js'), configFile], { stdio: ['ignore', out, out] });
  closeSync(out);
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  return {
    pid: child.pid!,
    logFile,
    stop: async (graceMs = 5000) => {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(t);
    },
  };
}
