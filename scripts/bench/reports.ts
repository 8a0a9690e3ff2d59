import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { Client } from 'pg';
import { labelOf } from '../../src/comparison/domain/compare-decisions';
import { RollupAccumulator } from '../../src/comparison/domain/rollup';
import { RollupRepository } from '../../src/comparison/rollup.repository';
import { createDataSource } from '../../src/database/data-source';
import { seededRandom } from '../../src/stats/domain/random';
import { BenchContext, benchDatabase, benchServiceEnv, createBenchTopics, pgClient, writeBenchWorkflows } from './context';
import { loadavg } from './machine';
import { startServiceProcess, startSimulator } from './processes';
import { distribution, Distribution, perSecond } from './stats';

/**
 * Report latency over a month of a busy workflow: 10,000,000 comparisons in 30 days.
 *
 * The data: nine segments of unequal volume and agreement, ~15 % reviews, 5 % audits, confidences,
 * labels, field agreement, AI calls with tokens and latencies. The last day's comparisons (a
 * thirtieth of them) are each added to the service's own RollupAccumulator — the code the ingest
 * and the decision writer call for every comparison — and written with the service's own
 * RollupRepository upsert: exactly the rows the service would have written batch by batch. The 29
 * days before it are that day's rows moved back a whole number of days, in SQL (rollup_minute,
 * evidence_minute, rollup_confusion; the hourly tables follow by their triggers): about 9 segments ×
 * 43,200 minutes ≈ 390,000 rollup_minute rows. The reports read the same number of rows whatever
 * the days hold, and adding ten million comparisons one by one would take most of the benchmark's
 * time budget.
 *
 * The same comparisons are also stored as raw rows (the comparisons table's columns and its
 * (workflow, segment, created_at) index, without the foreign keys to decisions that do not exist
 * here) for the naive baseline: the same report computed by scanning raw comparisons.
 */
export interface ReportsResult {
  comparisons: number;
  rollupRows: number;
  confusionRows: number;
  buildMs: number;
  rawInsert: { rows: number; ms: number; perSecond: number };
  reportTotalN: number | null;
  /** On-disk size (tables, indexes, TOAST) of what reports read, by table. */
  storageBytes: Record<string, number>;
  days: number;
  endpoints: Array<{ name: string; path: string; ms: Distribution }>;
  naive: Array<{ name: string; ms: Distribution }>;
  loadBefore: string;
  loadAfter: string;
}

/** The tables reports read (their storage per million comparisons is a figure). */
const REPORT_TABLES = ['rollup_minute', 'rollup_hour', 'rollup_confusion', 'evidence_minute', 'evidence_hour'];

const CHANNELS = ['email', 'chat', 'phone'];
const REGIONS = ['eu', 'us', 'apac'];
const CATEGORIES = ['billing', 'technical', 'account', 'shipping', 'returns', 'other'];
const PRIORITIES = ['low', 'normal', 'high', 'urgent'];

interface RawRow {
  segment: string;
  itemId: string;
  humanKind: 'independent' | 'review';
  routeAction: string | null;
  agree: boolean;
  fields: Record<string, boolean>;
  verdict: 'accepted' | 'overridden' | null;
  aiLabel: string | null;
  humanLabel: string | null;
  confidence: number;
  at: Date;
}

/** Deterministic synthetic comparisons, in time order, in chunks of one day. */
function* comparisons(total: number, start: number, end: number, seed: number): Generator<RawRow[]> {
  const random = seededRandom(seed);
  const segments = CHANNELS.flatMap((c) => REGIONS.map((r) => `${c}|${r}`));
  const weights = segments.map((_, i) => 1 + (i % 4));
  const sumW = weights.reduce((s, w) => s + w, 0);
  const accuracy = segments.map((_, i) => 0.8 + 0.02 * i);
  const span = end - start;
  const step = span / total;
  const day = 86_400_000;
  let chunk: RawRow[] = [];
  let chunkDay = Math.floor(start / day);
  for (let i = 0; i < total; i++) {
    const t = start + i * step + random.next() * step;
    if (Math.floor(t / day) !== chunkDay && chunk.length) {
      yield chunk;
      chunk = [];
      chunkDay = Math.floor(t / day);
    }
    let u = random.next() * sumW;
    let s = 0;
    while (u >= weights[s]) u -= weights[s++];
    const humanCategory = CATEGORIES[random.integer(0, CATEGORIES.length - 1)];
    const categoryOk = random.next() < Math.sqrt(accuracy[s]);
    const priorityOk = random.next() < Math.sqrt(accuracy[s]);
    const aiCategory = categoryOk ? humanCategory : CATEGORIES[(CATEGORIES.indexOf(humanCategory) + random.integer(1, 5)) % 6];
    const agree = categoryOk && priorityOk;
    const review = random.next() < 0.15;
    const audit = !review && random.next() < 0.05;
    const human = { category: humanCategory, priority: PRIORITIES[random.integer(0, 3)] };
    const ai = { ...human, category: aiCategory };
    chunk.push({
      segment: segments[s],
      itemId: `R-${i}`,
      humanKind: review ? 'review' : 'independent',
      routeAction: review ? 'suggest' : audit ? 'audit' : 'none',
      agree,
      fields: { category: categoryOk, priority: priorityOk },
      verdict: review ? (agree ? 'accepted' : 'overridden') : null,
      aiLabel: labelOf(ai, 'category'),
      humanLabel: labelOf(human, 'category'),
      confidence: Math.min(0.999, Math.max(0.01, agree ? random.beta(9, 1.2) : random.beta(3, 2))),
      at: new Date(t),
    });
  }
  if (chunk.length) yield chunk;
}

async function timeGet(url: string, token: string, runs: number): Promise<{ ms: Distribution; body: unknown }> {
  let body: unknown = null;
  const call = async () => {
    const t = performance.now();
    const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}: ${text.slice(0, 300)}`);
    body = JSON.parse(text);
    return performance.now() - t;
  };
  for (let i = 0; i < 3; i++) await call(); // warm: plans cached, pages in memory, code compiled
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await call());
  return { ms: distribution(times), body };
}

async function timeSql(pg: Client, runs: number, queries: Array<{ sql: string; params: unknown[] }>): Promise<Distribution> {
  const once = async () => {
    const t = performance.now();
    for (const q of queries) await pg.query(q.sql, q.params);
    return performance.now() - t;
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once());
  return distribution(times);
}

/** The columns of a table in order, each as it is or as the expression `shift` gives for it (copying rows to another day). */
async function columnsOf(pg: Client, table: string, shift: Record<string, string>): Promise<{ names: string; values: string }> {
  const cols: string[] = (
    await pg.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND column_name <> 'id' ORDER BY ordinal_position`, [table])
  ).rows.map((r: { column_name: string }) => r.column_name);
  return { names: cols.join(', '), values: cols.map((c) => shift[c] ?? c).join(', ') };
}

export async function runReports(ctx: BenchContext, o: { comparisons: number; days: number; runs: number; naiveRuns: number }): Promise<ReportsResult> {
  const loadBefore = loadavg();
  const name = 'reports';
  const workflows = writeBenchWorkflows(ctx, name);
  const topics = await createBenchTopics(ctx, name, 1);
  const dbUrl = await benchDatabase(ctx, name);
  const sim = await startSimulator(ctx, `${name}-simulator`, {});
  const env = await benchServiceEnv(ctx, {
    name,
    topics,
    workflowsFile: workflows.file,
    databaseUrl: dbUrl,
    simulatorUrl: sim.url,
    env: { RUN_INGEST: 'false', RUN_RUNNER: 'false', RUN_RELAY: 'false' },
  });
  const service = await startServiceProcess(ctx, `${name}-service`, env);
  const pg = await pgClient(dbUrl);
  const ds = createDataSource({ url: dbUrl, poolSize: 2, migrationsCheck: 'off' }, 'understudy-bench');
  await ds.initialize();
  try {
    const wf = workflows.triage;
    const day = 86_400_000;
    // On a minute, so the days moved back meet without sharing a minute.
    const end = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const start = end - o.days * day;
    const perDay = Math.ceil(o.comparisons / o.days);
    await pg.query(`CREATE TABLE bench_raw_comparisons (LIKE comparisons INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    const repo = new RollupRepository();
    let buildMs = 0;
    let rawMs = 0;
    let n = 0;
    // The last day, comparison by comparison through the service's own accumulator and writer.
    for (const chunk of comparisons(perDay, end - day, end, 20261123)) {
      const t0 = performance.now();
      const acc = new RollupAccumulator();
      for (const c of chunk) {
        acc.addComparison({
          workflow: wf,
          segment: c.segment,
          version: 1,
          at: c.at,
          aiDecidedAt: c.at,
          routeStage: c.routeAction === null ? 'shadow' : 'confidence-routed',
          routeThreshold: null,
          agree: c.agree,
          humanKind: c.humanKind,
          verdict: c.verdict,
          routeAction: c.routeAction,
          confidence: c.confidence,
          fields: c.fields,
          aiLabel: c.aiLabel,
          humanLabel: c.humanLabel,
        });
        acc.addAiCall({
          workflow: wf,
          segment: c.segment,
          version: 1,
          at: c.at,
          outcome: 'ok',
          promptTokens: 310,
          completionTokens: 42,
          costUsd: 0.0000717,
          latencyMs: 200 + Math.round(c.confidence * 900),
        });
        acc.addRouted({ workflow: wf, segment: c.segment, version: 1, at: c.at, action: c.routeAction ?? 'none' });
        if (c.humanKind === 'independent' && Number(c.itemId.slice(2)) % 20 === 0)
          acc.addHumanPair({ workflow: wf, segment: c.segment, version: 1, at: c.at, agree: c.fields.category });
      }
      await ds.transaction((tx) => repo.write(tx, acc));
      buildMs += performance.now() - t0;
      const t1 = performance.now();
      for (let i = 0; i < chunk.length; i += 20_000) {
        const part = chunk.slice(i, i + 20_000);
        await pg.query(
          `INSERT INTO bench_raw_comparisons (workflow, item_id, segment, workflow_version, is_champion, ai_decision_id, human_decision_id, human_kind,
             route_action, agree, field_agreement, verdict, ai_label, human_label, confidence, created_at)
           SELECT $1, item_id, segment, 1, true, n + ord, n + ord, human_kind, route_action, agree, field_agreement, verdict, ai_label, human_label, confidence, created_at
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::jsonb[], $8::text[], $9::text[], $10::text[], $11::float8[], $12::timestamptz[])
                WITH ORDINALITY AS x(item_id, segment, human_kind, route_action, agree, field_agreement, verdict, ai_label, human_label, confidence, created_at, ord),
                (SELECT $13::bigint AS n) base`,
          [
            wf,
            part.map((c) => c.itemId),
            part.map((c) => c.segment),
            part.map((c) => c.humanKind),
            part.map((c) => c.routeAction),
            part.map((c) => c.agree),
            part.map((c) => JSON.stringify(c.fields)),
            part.map((c) => c.verdict),
            part.map((c) => c.aiLabel),
            part.map((c) => c.humanLabel),
            part.map((c) => c.confidence),
            part.map((c) => c.at.toISOString()),
            n,
          ],
        );
        n += part.length;
      }
      rawMs += performance.now() - t1;
    }
    // The days before it: the same day's rows, each moved back a whole number of days, in SQL. The
    // hourly tables follow by their triggers, as they do for any writer.
    const t2 = performance.now();
    const back = (col: string) => `${col} - k * interval '1 day'`;
    const others = `FROM %T, generate_series(1, ${o.days - 1}) AS k WHERE workflow = $1`;
    for (const [table, shift] of [
      ['rollup_minute', { minute: back('minute') }],
      ['evidence_minute', { minute: back('minute'), last_label_at: back('last_label_at') }],
    ] as const) {
      const c = await columnsOf(pg, table, shift);
      await pg.query(`INSERT INTO ${table} (${c.names}) SELECT ${c.values} ${others.replace('%T', table)}`, [wf]);
    }
    // Confusion cells are per calendar day: the copies of two days meet on one, so they are summed first.
    await pg.query(
      `INSERT INTO rollup_confusion AS r (workflow, segment, workflow_version, day, ai_label, human_label, n)
       SELECT workflow, segment, workflow_version, (day - k)::date, ai_label, human_label, sum(n) ${others.replace('%T', 'rollup_confusion')}
       GROUP BY 1, 2, 3, 4, 5, 6
       ON CONFLICT (workflow, segment, workflow_version, day, ai_label, human_label) DO UPDATE SET n = r.n + EXCLUDED.n`,
      [wf],
    );
    buildMs += performance.now() - t2;
    const t3 = performance.now();
    const raw = await columnsOf(pg, 'bench_raw_comparisons', { created_at: back('created_at') });
    await pg.query(`INSERT INTO bench_raw_comparisons (${raw.names}) SELECT ${raw.values} ${others.replace('%T', 'bench_raw_comparisons')}`, [wf]);
    await pg.query(
      `ALTER TABLE bench_raw_comparisons ADD PRIMARY KEY (id);
       CREATE INDEX bench_raw_comparisons_segment_time ON bench_raw_comparisons (workflow, segment, created_at);`,
    );
    rawMs += performance.now() - t3;
    n = Number((await pg.query(`SELECT count(*) FROM bench_raw_comparisons`)).rows[0].count);
    for (const table of ['bench_raw_comparisons', ...REPORT_TABLES]) {
      if ((await pg.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [table])).rows[0].present) await pg.query(`VACUUM ANALYZE ${table}`);
    }
    await pg.query(`INSERT INTO segments (workflow, segment) SELECT $1, s FROM unnest($2::text[]) s ON CONFLICT DO NOTHING`, [
      wf,
      CHANNELS.flatMap((c) => REGIONS.map((r) => `${c}|${r}`)),
    ]);
    const storageBytes: Record<string, number> = Object.fromEntries(
      (
        await pg.query(`SELECT t AS name, pg_total_relation_size(t)::float8 AS bytes FROM unnest($1::text[]) t WHERE to_regclass(t) IS NOT NULL ORDER BY t`, [
          REPORT_TABLES,
        ])
      ).rows.map((r: { name: string; bytes: number }) => [r.name, r.bytes]),
    );
    const counts = (await pg.query(`SELECT (SELECT count(*) FROM rollup_minute)::int AS minute, (SELECT count(*) FROM rollup_confusion)::int AS confusion`))
      .rows[0];

    const token = execFileSync(process.execPath, [path.join(ctx.dist, 'src', 'cli', 'create-token.js'), '--name', 'bench analyst', '--role', 'analyst'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: dbUrl },
      encoding: 'utf8',
    }).trim();
    const base = service.url;
    // The whole period (a minute before its first comparison to now).
    const from = new Date(start - 60_000);
    const to = new Date();
    const q = `workflow=${encodeURIComponent(wf)}&from=${from.toISOString()}&to=${to.toISOString()}`;
    const seg = 'email|eu';
    const span = `${o.days} days`;
    const targets = [
      { name: `agreement by segment (${span})`, path: `/api/reports/agreement?${q}` },
      { name: `agreement by day (${span})`, path: `/api/reports/agreement?${q}&groupBy=day` },
      { name: `calibration + threshold (${span})`, path: `/api/reports/calibration?${q}` },
      { name: 'gate status: GET segment', path: `/api/workflows/${encodeURIComponent(wf)}/segments/${encodeURIComponent(seg)}` },
    ];
    const endpoints: ReportsResult['endpoints'] = [];
    let reportTotalN: number | null = null;
    for (const t of targets) {
      const r = await timeGet(`${base}${t.path}`, token, o.runs);
      endpoints.push({ name: t.name, path: t.path, ms: r.ms });
      if (t.path.includes('agreement?') && !t.path.includes('groupBy')) {
        reportTotalN = ((r.body as { rows: Array<{ n: number }> }).rows ?? []).reduce((s, row) => s + row.n, 0);
      }
    }

    // The naive baseline: the same figures from the raw comparisons, in SQL, straight to PostgreSQL (no HTTP).
    const period = [wf, from, to];
    const naive: ReportsResult['naive'] = [];
    naive.push({
      name: `agreement by segment (${span})`,
      ms: await timeSql(pg, o.naiveRuns, [
        {
          sql: `SELECT segment, count(*) AS n, sum(agree::int) AS agree, sum((human_kind = 'review')::int) AS reviews,
                       sum((verdict = 'overridden')::int) AS overridden, sum((route_action = 'audit' AND human_kind = 'independent')::int) AS audits,
                       sum((route_action = 'audit' AND human_kind = 'independent' AND agree)::int) AS audit_agree
                FROM bench_raw_comparisons WHERE workflow = $1 AND created_at >= $2 AND created_at < $3 AND workflow_version = 1 GROUP BY segment`,
          params: period,
        },
        {
          sql: `SELECT segment, f.key, sum(f.value::boolean::int) FROM bench_raw_comparisons, jsonb_each_text(field_agreement) f
                WHERE workflow = $1 AND created_at >= $2 AND created_at < $3 AND workflow_version = 1 GROUP BY 1, 2`,
          params: period,
        },
        {
          sql: `SELECT segment, ai_label, human_label, count(*) FROM bench_raw_comparisons
                WHERE workflow = $1 AND created_at >= $2 AND created_at < $3 AND workflow_version = 1 GROUP BY 1, 2, 3`,
          params: period,
        },
      ]),
    });
    naive.push({
      name: `calibration + threshold (${span})`,
      ms: await timeSql(pg, o.naiveRuns, [
        {
          sql: `SELECT least(19, floor(confidence * 20 + 1e-9))::int AS bin, count(*), sum(agree::int) FROM bench_raw_comparisons
                WHERE workflow = $1 AND created_at >= $2 AND created_at < $3 AND workflow_version = 1 AND confidence IS NOT NULL GROUP BY 1`,
          params: period,
        },
      ]),
    });
    naive.push({
      name: 'gate status: GET segment',
      ms: await timeSql(pg, o.naiveRuns, [
        {
          sql: `SELECT count(*), sum(agree::int), sum((human_kind = 'review')::int), sum((verdict = 'overridden')::int) FROM bench_raw_comparisons
                WHERE workflow = $1 AND segment = $2 AND created_at >= now() - interval '1 hour'`,
          params: [wf, seg],
        },
      ]),
    });
    return {
      comparisons: n,
      rollupRows: counts.minute,
      confusionRows: counts.confusion,
      buildMs,
      rawInsert: { rows: n, ms: rawMs, perSecond: perSecond(n, rawMs) },
      reportTotalN,
      storageBytes,
      days: o.days,
      endpoints,
      naive,
      loadBefore,
      loadAfter: loadavg(),
    };
  } finally {
    await ds.destroy().catch(() => undefined);
    await pg.end().catch(() => undefined);
    await service.stop();
    await sim.stop();
  }
}
