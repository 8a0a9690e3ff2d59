import type { Client } from 'pg';
import { toWorkItemEvent, WorkloadGenerator } from '../../tools/simulator/workload';
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
import { loadavg } from './machine';
import { startServiceProcess, startSimulator, type ServiceProc } from './processes';
import { perSecond } from './stats';

/**
 * Two instances on the same database and topics, the model at 500 ms.
 *
 *   1. One instance, then (on a database and topics of their own) two: the same number of items per
 *      instance produced at once, timed from the first produce to the last AI decision stored.
 *      Each instance calls the model at most MODEL_CONCURRENCY at a time, so one instance is bound
 *      at MODEL_CONCURRENCY ÷ 0.5 s and two at twice that: the ratio says how much of the second
 *      instance's capacity the shared queue, database and consumer group let through.
 *   2. Takeover: with both instances busy on a second batch, one is killed (SIGKILL, no goodbye).
 *      The jobs it held stay 'processing' until their lease (JOB_LEASE_MS, shortened here to
 *      LEASE_MS; production default 120 s) runs out, then the other instance claims them. The
 *      figure: seconds from the kill to the last of those jobs decided. Every item of the batch
 *      must end with one AI decision (none lost, none doubled).
 */
export interface ScaleOutResult {
  latencyMs: number;
  concurrencyPerInstance: number;
  itemsPerInstance: number;
  oneInstancePerSecond: number;
  twoInstancesPerSecond: number;
  /** Two instances' items/s ÷ one instance's (2 would be perfect). */
  twoInstanceRatio: number;
  leaseMs: number;
  /** Jobs the killed instance held at the kill. */
  heldAtKill: number;
  /** Kill → the last job it held decided by the other instance (s). */
  takeoverSeconds: number | null;
  /** Kill → every item of the batch decided (s): takeover plus the consumer group's rebalance. */
  drainSeconds: number;
  batch: number;
  decided: number;
  doubled: number;
  loadBefore: string;
  loadAfter: string;
}

const LEASE_MS = 15_000;

async function decided(pg: Client): Promise<number> {
  return Number((await pg.query(`SELECT count(DISTINCT (workflow, item_id))::int AS n FROM ai_decisions`)).rows[0].n);
}

/** Starts `instances` services on a database and topics of their own, produces items, and times them to stored AI decisions. */
async function timedRun(
  ctx: BenchContext,
  name: string,
  o: { instances: number; items: number; latencyMs: number; concurrency: number; takeover?: { batch: number } },
): Promise<{ perSecond: number; takeover?: Pick<ScaleOutResult, 'heldAtKill' | 'takeoverSeconds' | 'drainSeconds' | 'batch' | 'decided' | 'doubled'> }> {
  const workflows = writeBenchWorkflows(ctx, name);
  const topics = await createBenchTopics(ctx, name);
  const dbUrl = await benchDatabase(ctx, name);
  const sim = await startSimulator(ctx, `${name}-simulator`, { seed: 7, accuracy: 0.9, latencyMs: o.latencyMs, logprobs: true });
  const pg = await pgClient(dbUrl);
  const producer = await benchProducer(ctx);
  const services: ServiceProc[] = [];
  try {
    for (let k = 0; k < o.instances; k++) {
      const env = await benchServiceEnv(ctx, {
        // The same name: one consumer group, one kill-switch flag (each call picks a port of its own).
        name,
        topics,
        workflowsFile: workflows.file,
        databaseUrl: dbUrl,
        simulatorUrl: sim.url,
        env: {
          INSTANCE_ID: `${name}-${k}`,
          MODEL_CONCURRENCY: String(o.concurrency),
          MODEL_TIMEOUT_MS: '5000',
          JOB_LEASE_MS: String(LEASE_MS),
        },
      });
      services.push(await startServiceProcess(ctx, `${name}-service-${k}`, env));
    }
    const gen = new WorkloadGenerator({
      seed: 42,
      triageWorkflow: workflows.triage,
      invoiceWorkflow: workflows.invoice,
      idPrefix: `${ctx.suffix}-${name}-`,
      startAt: new Date(Date.now() - 3_600_000),
      gapMs: 10,
    });
    const send = (n: number) =>
      produceAll(
        producer,
        topics.workItems,
        gen.batch(n).map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })),
      );
    // Warm-up: every instance has joined the group and called the model.
    const warm = 50 * o.instances;
    await send(warm);
    await waitForProgress(`${name}: warm-up`, async () => {
      const n = await decided(pg);
      return { done: n >= warm, progress: n };
    });

    const t0 = Date.now();
    await send(o.items);
    await waitForProgress(`${name}: items to AI decisions`, async () => {
      const n = await decided(pg);
      return { done: n >= warm + o.items, progress: n };
    });
    const rate = perSecond(o.items, Date.now() - t0);
    if (!o.takeover) return { perSecond: rate };

    // Takeover: a second batch; once the last instance holds jobs, it is killed.
    const before = warm + o.items;
    const victim = services[services.length - 1];
    const victimId = `${name}-${services.length - 1}`;
    await send(o.takeover.batch);
    let held: string[] = [];
    await waitForProgress(`${name}: ${victimId} holding jobs`, async () => {
      held = (await pg.query(`SELECT id::text FROM ai_jobs WHERE state = 'processing' AND locked_by = $1`, [victimId])).rows.map((r: { id: string }) => r.id);
      return { done: held.length >= 10, progress: held.length };
    });
    process.kill(victim.pid, 'SIGKILL');
    const killedAt = Date.now();
    held = (await pg.query(`SELECT id::text FROM ai_jobs WHERE state = 'processing' AND locked_by = $1`, [victimId])).rows.map((r: { id: string }) => r.id);
    let takeoverAt: number | null = null;
    await waitForProgress(
      `${name}: the killed instance's jobs and the batch`,
      async () => {
        if (takeoverAt === null) {
          const open = Number(
            (await pg.query(`SELECT count(*)::int AS n FROM ai_jobs WHERE id = ANY($1::bigint[]) AND state IN ('pending', 'processing')`, [held])).rows[0].n,
          );
          if (open === 0) takeoverAt = Date.now();
        }
        const n = await decided(pg);
        return { done: takeoverAt !== null && n >= before + o.takeover!.batch, progress: n };
      },
      { everyMs: 200, stallMs: LEASE_MS + 60_000 },
    );
    const drainSeconds = (Date.now() - killedAt) / 1000;
    const doubled = Number(
      (await pg.query(`SELECT count(*)::int AS n FROM (SELECT workflow, item_id, workflow_version FROM ai_decisions GROUP BY 1, 2, 3 HAVING count(*) > 1) d`))
        .rows[0].n,
    );
    return {
      perSecond: rate,
      takeover: {
        heldAtKill: held.length,
        takeoverSeconds: takeoverAt === null ? null : (takeoverAt - killedAt) / 1000,
        drainSeconds,
        batch: o.takeover.batch,
        decided: (await decided(pg)) - before,
        doubled,
      },
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
    for (const s of services) await s.stop(5_000).catch(() => undefined);
    await sim.stop();
    await pg.end().catch(() => undefined);
  }
}

export async function runScaleOut(
  ctx: BenchContext,
  o: { itemsPerInstance: number; latencyMs: number; concurrency: number; batch: number },
): Promise<ScaleOutResult> {
  const loadBefore = loadavg();
  const one = await timedRun(ctx, 'scale1', { instances: 1, items: o.itemsPerInstance, latencyMs: o.latencyMs, concurrency: o.concurrency });
  ctx.log(`   one instance: ${one.perSecond.toFixed(0)} items/s`);
  await sleep(1000);
  const two = await timedRun(ctx, 'scale2', {
    instances: 2,
    items: 2 * o.itemsPerInstance,
    latencyMs: o.latencyMs,
    concurrency: o.concurrency,
    takeover: { batch: o.batch },
  });
  return {
    latencyMs: o.latencyMs,
    concurrencyPerInstance: o.concurrency,
    itemsPerInstance: o.itemsPerInstance,
    oneInstancePerSecond: one.perSecond,
    twoInstancesPerSecond: two.perSecond,
    twoInstanceRatio: two.perSecond / one.perSecond,
    leaseMs: LEASE_MS,
    ...two.takeover!,
    loadBefore,
    loadAfter: loadavg(),
  };
}
