import type { Consumer } from 'kafkajs';
import type { Client } from 'pg';
import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import { GeneratedItem, toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
import {
  BenchContext,
  benchDatabase,
  benchProducer,
  benchServiceEnv,
  createBenchTopics,
  pgClient,
  sleep,
  waitForProgress,
  writeBenchWorkflows,
} from './context';
import { cpuSecondsOf, loadavg, memoryOf } from './machine';
import { startServiceProcess, startSimulator } from './processes';
import { commits, startNaive } from './throughput';
import { distribution, Distribution } from './stats';

/**
 * Routing overhead: how long Understudy itself takes from consuming a work item to producing its
 * routing event, without the model's own time. One segment is put in supervised (100 %) through
 * Unleash's Admin API, so every item produces a routing event (`suggest`); items arrive at a steady
 * rate; the model simulator answers at once (0 ms), and each call's measured latency is subtracted
 * anyway.
 *
 *   overhead = routing event's Kafka timestamp (set by the relay's producer when it sends)
 *            − work_items.received_at (the start of the ingest transaction that stored the item)
 *            − ai_decisions.latency_ms (the model call as the runner timed it)
 *
 * Both clocks are this machine's. "From produced" also counts the time the item waited in Kafka
 * before the consumer fetched it: routing timestamp − the item's produce time − model latency.
 */
export interface RoutingResult {
  name: string;
  ratePerSecond: number;
  items: number;
  routed: number;
  /** Consumed → routing event produced, minus model time (ms). */
  overheadMs: Distribution;
  /** Produced → routing event produced, minus model time (ms). */
  fromProducedMs: Distribution;
  /**
   * Phases (ms): consumed → the decision writer's transaction starts (minus model time: ingest
   * transaction, claim, call overhead, linger, waiting for the writer) → the event is sent (the
   * writer's transaction and commit, then the relay's publish of the rows it was handed).
   */
  toDecisionMs: Distribution | null;
  decisionToEventMs: Distribution | null;
  /** PostgreSQL transactions (explicit ones and single statements) per item routed, from pg_stat_database. */
  transactionsPerItem?: number | null;
  modelLatencyMs: Distribution;
  /** What one PostgreSQL round trip and one small commit cost during the run (from the benchmark's process, every 100 ms). */
  roundTripMs?: Distribution;
  commitMs?: Distribution;
  peakRssMiB: number | null;
  serviceCpuSeconds: number | null;
  loadBefore: string;
  loadAfter: string;
}

function steadyItems(workflows: { triage: string; invoice: string }, prefix: string, count: number): GeneratedItem[] {
  const gen = new WorkloadGenerator({
    seed: 77,
    triageWorkflow: workflows.triage,
    invoiceWorkflow: workflows.invoice,
    idPrefix: `${prefix}-`,
    triageShare: 1,
    triageSegments: [['email', 'eu']],
  });
  return gen.batch(count);
}

async function routingConsumer(ctx: BenchContext, topic: string, groupId: string, seen: Map<string, { ts: number; action: string }>): Promise<Consumer> {
  const consumer = ctx.kafka.consumer({ groupId, maxWaitTimeInMs: 20, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const e = JSON.parse(message.value!.toString('utf8')) as { itemId: string; action: string };
      if (!seen.has(e.itemId)) seen.set(e.itemId, { ts: Number(message.timestamp), action: e.action });
    },
  });
  const deadline = Date.now() + 30_000;
  while (!joined && Date.now() < deadline) await sleep(100);
  return consumer;
}

/** Sends items at a steady rate (a produce request every `tickMs`); returns each item's produce time. */
async function produceSteadily(ctx: BenchContext, topic: string, items: GeneratedItem[], perSecond: number): Promise<Map<string, number>> {
  const producer = await benchProducer(ctx);
  const sentAt = new Map<string, number>();
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
  const start = Date.now();
  try {
    for (let i = 0, tick = 0; i < items.length; i += perTick, tick++) {
      const wait = start + tick * tickMs - Date.now();
      if (wait > 0) await sleep(wait);
      const chunk = items.slice(i, i + perTick);
      const now = Date.now();
      for (const it of chunk) sentAt.set(it.itemId, now);
      await producer.send({ topic, acks: -1, messages: chunk.map((it) => ({ key: it.itemId, value: JSON.stringify(toWorkItemEvent(it)) })) });
    }
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  return sentAt;
}

async function measure(
  pg: Client,
  name: string,
  rate: number,
  items: GeneratedItem[],
  sentAt: Map<string, number>,
  seen: Map<string, { ts: number; action: string }>,
  withPhases: boolean,
): Promise<Omit<RoutingResult, 'peakRssMiB' | 'serviceCpuSeconds' | 'loadBefore' | 'loadAfter'>> {
  const ids = items.map((i) => i.itemId);
  const rows = (
    await pg.query(
      `SELECT w.item_id AS "itemId", extract(epoch FROM w.received_at) * 1000 AS received, d.latency_ms AS latency,
              extract(epoch FROM d.created_at) * 1000 AS decided
       FROM work_items w JOIN ai_decisions d ON d.workflow = w.workflow AND d.item_id = w.item_id
       WHERE w.item_id = ANY($1::text[])`,
      [ids],
    )
  ).rows as Array<{ itemId: string; received: string; latency: number; decided: string }>;
  const overhead: number[] = [];
  const fromProduced: number[] = [];
  const toDecision: number[] = [];
  const decisionToEvent: number[] = [];
  const latency: number[] = [];
  for (const r of rows) {
    const ev = seen.get(r.itemId);
    if (!ev) continue;
    const received = Number(r.received);
    overhead.push(ev.ts - received - r.latency);
    fromProduced.push(ev.ts - (sentAt.get(r.itemId) ?? NaN) - r.latency);
    toDecision.push(Number(r.decided) - received - r.latency);
    decisionToEvent.push(ev.ts - Number(r.decided));
    latency.push(r.latency);
  }
  return {
    name,
    ratePerSecond: rate,
    items: items.length,
    routed: overhead.length,
    overheadMs: distribution(overhead),
    fromProducedMs: distribution(fromProduced.filter(Number.isFinite)),
    toDecisionMs: withPhases ? distribution(toDecision) : null,
    decisionToEventMs: withPhases ? distribution(decisionToEvent) : null,
    modelLatencyMs: distribution(latency),
  };
}

export async function runServiceRouting(
  ctx: BenchContext,
  o: { name: string; perSecond: number; seconds: number; cpuProfileDir?: string },
): Promise<RoutingResult> {
  const loadBefore = loadavg();
  const workflows = writeBenchWorkflows(ctx, o.name);
  const topics = await createBenchTopics(ctx, o.name, 8);
  const dbUrl = await benchDatabase(ctx, o.name);
  const sim = await startSimulator(ctx, `${o.name}-simulator`, { seed: 3, accuracy: 0.9, latencyMs: 0, logprobs: true });
  const killSwitchFlag = `understudy.kill-switch-bench-${ctx.suffix}`;
  // The segment in supervised, 100 %: written as the controller would, through Unleash's Admin API.
  const gateway = new UnleashAdminGateway({ url: ctx.stack.unleash.url, adminToken: ctx.stack.unleash.adminToken, killSwitchFlag });
  await gateway.ensureSetup();
  await gateway.ensureWorkflowFlag(workflows.triage);
  await gateway.writeSegmentSplit(workflows.triage, 'email|eu', { stage: 'supervised', trafficPct: 100 });
  const env = await benchServiceEnv(ctx, {
    name: o.name,
    topics,
    workflowsFile: workflows.file,
    databaseUrl: dbUrl,
    simulatorUrl: sim.url,
    env: { UNLEASH_KILL_SWITCH_FLAG: killSwitchFlag, UNLEASH_REFRESH_MS: '500' },
  });
  const pg = await pgClient(dbUrl);
  const seen = new Map<string, { ts: number; action: string }>();
  const consumer = await routingConsumer(ctx, topics.routing, `bench-routing-${ctx.suffix}-${o.name}`, seen);
  const service = await startServiceProcess(ctx, `${o.name}-service`, env, { cpuProfileDir: o.cpuProfileDir });
  try {
    const all = steadyItems(workflows, `${ctx.suffix}-${o.name}`, 2000 + o.perSecond * o.seconds);
    // Warm-up until the service routes (its flag reader has read the split): small batches, then 1,000 items.
    let next = 0;
    const deadline = Date.now() + 60_000;
    while (seen.size === 0) {
      if (Date.now() > deadline)
        throw new Error(`${o.name}: no routing event within 60 s — does the service see the supervised split in Unleash? log ${service.logFile}`);
      await produceSteadily(ctx, topics.workItems, all.slice(next, (next += 20)), 1000);
      await sleep(500);
    }
    const warm = all.slice(next, (next += 1000));
    await produceSteadily(ctx, topics.workItems, warm, 1000);
    await waitForProgress('the warm-up routing events', async () => ({ done: warm.every((i) => seen.has(i.itemId)), progress: seen.size }));
    await sleep(1000);

    const timed = all.slice(next, next + o.perSecond * o.seconds);
    const cpu0 = cpuSecondsOf(service.pid);
    const tx0 = await commits(pg);
    // While the items flow: what a round trip and a commit cost the service's database right now.
    const probing = probeDatabase(pg, Math.min(200, o.seconds * 10));
    const sentAt = await produceSteadily(ctx, topics.workItems, timed, o.perSecond);
    await waitForProgress('the routing events', async () => {
      const n = timed.filter((i) => seen.has(i.itemId)).length;
      return { done: n >= timed.length, progress: n };
    });
    const cpu1 = cpuSecondsOf(service.pid);
    const mem = memoryOf(service.pid);
    const probe = await probing;
    await sleep(600); // the statistics lag by up to ~0.5 s
    const tx1 = await commits(pg);
    // The probe's own statements (a SELECT and an INSERT each time) are not the service's.
    const transactionsPerItem = tx0 !== null && tx1 !== null ? (tx1 - tx0 - 2 * probe.roundTripMs.n) / timed.length : null;
    const m = await measure(pg, o.name, o.perSecond, timed, sentAt, seen, true);
    return {
      ...m,
      ...probe,
      transactionsPerItem,
      peakRssMiB: mem.peakRssMiB,
      serviceCpuSeconds: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
      loadBefore,
      loadAfter: loadavg(),
    };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await service.stop();
    await sim.stop();
    await pg.end().catch(() => undefined);
  }
}

/** The price of a round trip (SELECT 1) and of a commit (one small INSERT, WAL flushed), every 100 ms. */
async function probeDatabase(pg: Client, samples: number): Promise<{ roundTripMs: Distribution; commitMs: Distribution }> {
  await pg.query(`CREATE TABLE IF NOT EXISTS bench_probe (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`);
  const rt: number[] = [];
  const commit: number[] = [];
  for (let i = 0; i < samples; i++) {
    await sleep(100);
    let t = performance.now();
    await pg.query('SELECT 1');
    rt.push(performance.now() - t);
    t = performance.now();
    await pg.query('INSERT INTO bench_probe DEFAULT VALUES');
    commit.push(performance.now() - t);
  }
  return { roundTripMs: distribution(rt), commitMs: distribution(commit) };
}

/** The naive pipeline routing every item (one produce per item, after one INSERT per row), at the same offered rate. */
export async function runNaiveRouting(ctx: BenchContext, o: { name: string; perSecond: number; seconds: number }): Promise<RoutingResult> {
  const loadBefore = loadavg();
  const workflows = writeBenchWorkflows(ctx, o.name);
  const topics = await createBenchTopics(ctx, o.name, 8);
  const dbUrl = await benchDatabase(ctx, o.name);
  const sim = await startSimulator(ctx, `${o.name}-simulator`, { seed: 3, accuracy: 0.9, latencyMs: 0, logprobs: true });
  const pg = await pgClient(dbUrl);
  const seen = new Map<string, { ts: number; action: string }>();
  const consumer = await routingConsumer(ctx, topics.routing, `bench-routing-${ctx.suffix}-${o.name}`, seen);
  const naive = await startNaive(ctx, o.name, {
    databaseUrl: dbUrl,
    itemsTopic: topics.workItems,
    routingTopic: topics.routing,
    modelBaseUrl: sim.url,
    workflowsFile: workflows.file,
  });
  try {
    const all = steadyItems(workflows, `${ctx.suffix}-${o.name}`, 50 + o.perSecond * o.seconds);
    const warm = all.slice(0, 50);
    await produceSteadily(ctx, topics.workItems, warm, 100);
    await waitForProgress("the naive pipeline's first routing events", async () => ({ done: warm.every((i) => seen.has(i.itemId)), progress: seen.size }), {
      stallMs: 60_000,
    });
    const timed = all.slice(50);
    const sentAt = await produceSteadily(ctx, topics.workItems, timed, o.perSecond);
    // It falls behind at this rate: measure what it routed within a bounded wait.
    await sleep(5000);
    const m = await measure(pg, o.name, o.perSecond, timed, sentAt, seen, false);
    return { ...m, peakRssMiB: memoryOf(naive.pid).peakRssMiB, serviceCpuSeconds: null, loadBefore, loadAfter: loadavg() };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await naive.stop();
    await sim.stop();
    await pg.end().catch(() => undefined);
  }
}
