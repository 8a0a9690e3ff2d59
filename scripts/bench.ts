/**
 * `npm run bench`: Understudy's benchmarks on the local stack, each beside a naive baseline measured
 * in the same run, written to BENCHMARKS.md. Not part of `npm test`.
 *
 *   node dist-tools/scripts/bench.js [--only throughput,latency,scaleout,routing,reports,judgement,threshold,earlywarning] [--profile] [--quick] [--keep] [--out FILE]
 *
 * Sections (see scripts/bench/*.ts for what each measures and how):
 *   throughput  shadow throughput of one instance, model at 0 ms, and the naive pipeline
 *   latency     the same with the model at 500 ms (bounded by MODEL_CONCURRENCY), and the naive pipeline
 *   scaleout    two instances against one (model 500 ms), and a killed instance's jobs taken over
 *   routing     routing overhead at 500 items/s with a segment in supervised, and the naive pipeline
 *   reports     report latency over 10,000,000 comparisons in 30 days (rollups), and a scan of the raw rows
 *   judgement   the risk of the rollout's decisions (gate, threshold, guard, re-review), simulated
 *   threshold   the confidence threshold's guarantee, and the naive "observed accuracy" rule
 *   earlywarning  label-free monitors, adaptive audits and a critical class (issue 17), simulated
 *
 * judgement, threshold and earlywarning are simulations: a run of only those starts no stack.
 * Every section's figures also go to benchmarks.json (scripts/bench/figures.ts names the keys).
 *
 * Diagnostics: BENCH_STATEMENT_LOG=1 makes PostgreSQL log every statement of the benchmark's
 * databases with its duration (in the server log), to see which queries a phase spends its time on.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { WorkflowVersion } from '../src/workflows/domain/workflow-definition';
import { parseWorkflowFile } from '../src/workflows/domain/workflow-file';
import { findRepoRoot } from '../test/harness/kafka-cluster';
import { startStack } from '../test/harness/stack';
import { adminUrl, BenchContext, dropBenchDatabases, kafkaFor, pgClient } from './bench/context';
import { earlyWarningFigures, simulateEarlyWarningBench } from './bench/early-warning';
import { benchmarkFigures } from './bench/figures';
import { judgementFigures, simulateJudgement } from './bench/judgement';
import { loadavg, machineInfo } from './bench/machine';
import { BenchResults, renderMarkdown } from './bench/markdown';
import { summariseProfileIn } from './bench/profile';
import { runModelClient } from './bench/model-client';
import { runReports } from './bench/reports';
import { runScaleOut } from './bench/scale-out';
import { runNaiveRouting, runServiceRouting } from './bench/routing';
import { fmt } from './bench/stats';
import { simulateThresholds } from './bench/threshold';
import { runNaiveThroughput, runServiceThroughput } from './bench/throughput';

const SECTIONS = ['throughput', 'latency', 'scaleout', 'routing', 'reports', 'judgement', 'threshold', 'earlywarning'] as const;
type Section = (typeof SECTIONS)[number];
/** Sections that measure the service on the local stack; the others are simulations. */
const STACK_SECTIONS: readonly Section[] = ['throughput', 'latency', 'scaleout', 'routing', 'reports'];

interface Options {
  only: Set<Section> | null;
  profile: boolean;
  quick: boolean;
  keep: boolean;
  out: string;
}

function parseArgs(argv: string[], root: string): Options {
  const o: Options = { only: null, profile: false, quick: false, keep: false, out: path.join(root, 'BENCHMARKS.md') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--profile') o.profile = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--out') o.out = path.resolve(argv[++i] ?? '');
    else if (a === '--only') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
      if (bad.length || names.length === 0) throw new Error(`--only takes a comma-separated list of ${SECTIONS.join(', ')}; got "${argv[i]}"`);
      o.only = new Set(names as Section[]);
    } else if (a === '--help' || a === '-h') {
      console.log('usage: node dist-tools/scripts/bench.js [--only ' + SECTIONS.join(',') + '] [--profile] [--quick] [--keep] [--out FILE]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/**
 * benchmarks.json: the figures the issues name, for machines (BENCHMARKS.md is for people). A run
 * of some sections keeps the other sections' figures from the file's last run; each section says
 * which run measured it (`run`), the top level which run wrote the file last.
 */
function writeFigures(file: string, results: BenchResults): void {
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const run = { command: results.command, date: results.machine.date, cpuProbeMs: results.machine.cpuProbeMs };
  const figures = Object.fromEntries(Object.entries(benchmarkFigures(results)).map(([section, f]) => [section, { ...(f as object), run }]));
  const out = { ...previous, command: results.command, machine: results.machine, writtenAt: new Date().toISOString(), ...figures };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
}

function championOf(root: string, index: number): WorkflowVersion {
  const file = path.join(root, 'config', 'workflows.yaml');
  const v = parseWorkflowFile(readFileSync(file, 'utf8'), file).filter((x) => x.role === 'champion')[index];
  return { workflow: v.definition.name, version: v.definition.version, role: 'champion', definition: v.definition, definitionHash: v.hash };
}

async function main(): Promise<void> {
  const started = Date.now();
  const root = findRepoRoot(__dirname);
  const opts = parseArgs(process.argv.slice(2), root);
  const want = (s: Section) => !opts.only || opts.only.has(s);
  const suffix = randomBytes(3).toString('hex');
  const dir = path.join(root, '.stack', 'bench', suffix);
  mkdirSync(dir, { recursive: true });
  const log = (l: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${l}`);
  // Copies of dist/ and dist-tools/: a build running beside the benchmark (others work in this tree) cannot change what it measures.
  const dist = path.join(dir, 'dist');
  cpSync(path.join(root, 'dist'), dist, { recursive: true });
  const tools = path.join(dir, 'dist-tools');
  cpSync(path.join(root, 'dist-tools'), tools, { recursive: true });
  const loadStart = loadavg();
  log(`run ${suffix}; load average ${loadStart}; scratch folder ${path.relative(root, dir)}`);
  const stack = STACK_SECTIONS.some(want) ? await startStack({ reuse: false, log: (l) => log(`stack: ${l}`) }) : null;
  const stackCtx: BenchContext | null = stack
    ? { root, dist, tools, dir, suffix, stack: stack.info, kafka: kafkaFor(stack.info), quick: opts.quick, log, databases: [] }
    : null;
  /** The context of a section on the stack (started above whenever one of them is wanted). */
  const live = (): BenchContext => {
    if (!stackCtx) throw new Error('no stack was started for this run');
    return stackCtx;
  };
  let pgVersion: string | null = null;
  if (stackCtx) {
    const pg = await pgClient(adminUrl(stackCtx));
    pgVersion = (await pg.query(`SHOW server_version`)).rows[0].server_version as string;
    await pg.end();
  }

  const results: BenchResults = {
    machine: machineInfo(pgVersion === null ? null : `PostgreSQL ${pgVersion}`),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    quick: opts.quick,
    startedAt: new Date(started).toISOString(),
    totalSeconds: 0,
    loadStart,
    loadEnd: '',
    sections: [],
  };
  const q = opts.quick;
  const section = async (name: string, fn: () => Promise<void>) => {
    const t = Date.now();
    log(`── ${name} (load ${loadavg()})`);
    try {
      await fn();
      results.sections.push({ name, seconds: (Date.now() - t) / 1000 });
    } catch (e) {
      const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
      log(`${name} failed: ${message}`);
      results.sections.push({ name, seconds: (Date.now() - t) / 1000, error: message });
    }
    log(`   ${name}: ${fmt((Date.now() - t) / 1000, 0)} s`);
  };

  try {
    if (want('throughput')) {
      await section('throughput (model 0 ms)', async () => {
        results.throughput0 = await runServiceThroughput(live(), {
          name: 'tp0',
          items: q ? 8_000 : 40_000,
          warmup: q ? 500 : 2_000,
          latencyMs: 0,
          concurrency: 64,
        });
        log(`   service: ${fmt(results.throughput0.itemsPerSecond, 0)} items/s`);
        results.naive0 = await runNaiveThroughput(live(), { name: 'naive0', latencyMs: 0, windowMs: q ? 8_000 : 15_000, items: q ? 5_000 : 15_000 });
        log(`   naive: ${fmt(results.naive0.itemsPerSecond, 0)} items/s`);
        results.modelClient = await runModelClient(live(), { calls: q ? 1_000 : 3_000, concurrency: 64 });
        log(
          `   model client CPU per call: ${fmt(results.modelClient.keepAlive.cpuMsPerCall, 3)} ms (built-in fetch ${fmt(results.modelClient.builtinFetch.cpuMsPerCall, 3)} ms)`,
        );
      });
    }
    if (want('latency')) {
      await section('throughput (model 500 ms)', async () => {
        results.throughput500 = await runServiceThroughput(live(), {
          name: 'tp500',
          items: q ? 3_000 : 10_000,
          warmup: q ? 300 : 1_000,
          latencyMs: 500,
          concurrency: 256,
        });
        log(`   service: ${fmt(results.throughput500.itemsPerSecond, 0)} items/s`);
        results.naive500 = await runNaiveThroughput(live(), { name: 'naive500', latencyMs: 500, windowMs: q ? 6_000 : 10_000, items: 200 });
        log(`   naive: ${fmt(results.naive500.itemsPerSecond, 2)} items/s`);
      });
    }
    if (want('scaleout')) {
      await section('scale-out (two instances, model 500 ms)', async () => {
        results.scaleOut = await runScaleOut(live(), { itemsPerInstance: q ? 1_000 : 2_000, latencyMs: 500, concurrency: 64, batch: q ? 1_000 : 2_000 });
        const s = results.scaleOut;
        log(`   two ÷ one: ${fmt(s.twoInstanceRatio, 2)}; takeover ${fmt(s.takeoverSeconds, 1)} s (lease ${fmt(s.leaseMs / 1000, 0)} s)`);
      });
    }
    const tp = results.throughput0;
    if (want('throughput') && (opts.profile || !q || (tp && tp.itemsPerSecond < 2000))) {
      await section('profile (model 0 ms, service under --cpu-prof)', async () => {
        const why =
          tp && tp.itemsPerSecond < 2000
            ? `Profiled because the 0 ms throughput (${fmt(tp.itemsPerSecond, 0)} items/s) is below its 2,000 items/s target.`
            : 'Profiled in every full run: it shows where the time goes on the way to the 5,000 items/s goal.';
        const profileDir = path.join(dir, 'profile-tp0');
        const result = await runServiceThroughput(live(), {
          name: 'prof',
          items: q ? 5_000 : 15_000,
          warmup: 500,
          latencyMs: 0,
          concurrency: 64,
          cpuProfileDir: profileDir,
        });
        results.profile = { result, summary: summariseProfileIn(profileDir, 15), why };
      });
    }
    if (want('routing')) {
      await section('routing overhead', async () => {
        results.routing = await runServiceRouting(live(), { name: 'route', perSecond: 500, seconds: q ? 8 : 20 });
        log(`   service: p99 ${fmt(results.routing.overheadMs.p99, 1)} ms`);
        results.naiveRouting = await runNaiveRouting(live(), { name: 'naiveroute', perSecond: 500, seconds: q ? 5 : 10 });
        log(`   naive: p99 ${fmt(results.naiveRouting.overheadMs.p99, 1)} ms`);
      });
    }
    const rt = results.routing;
    if (want('routing') && rt && (opts.profile || (rt.overheadMs.p99 ?? 0) > 25)) {
      await section('profile (routing, service under --cpu-prof)', async () => {
        const why =
          (rt.overheadMs.p99 ?? 0) > 25
            ? `Profiled because the routing overhead's p99 (${fmt(rt.overheadMs.p99, 1)} ms) is above its 25 ms target.`
            : 'Profiled because --profile was given.';
        const profileDir = path.join(dir, 'profile-route');
        const result = await runServiceRouting(live(), { name: 'profroute', perSecond: 500, seconds: q ? 8 : 20, cpuProfileDir: profileDir });
        results.routingProfile = { result, summary: summariseProfileIn(profileDir, 12), why };
      });
    }
    if (want('reports')) {
      await section('report latency', async () => {
        results.reports = await runReports(live(), { comparisons: q ? 1_000_000 : 10_000_000, days: 30, runs: 20, naiveRuns: q ? 3 : 2 });
        log(`   ${results.reports.endpoints.map((e) => `${e.name}: ${fmt(e.ms.p50, 1)} ms`).join('; ')}`);
      });
    }
    if (want('judgement')) {
      await section('judgement', async () => {
        results.judgement = simulateJudgement(
          { runs: q ? 300 : 1000, seed: 20261130, perDay: 2000, lookEveryMinutes: 30, labelDelayHours: 6, acceptWrong: 0.5 },
          log,
        );
        const f = judgementFigures(results.judgement);
        log(
          `   ${Object.entries(f)
            .map(([k, v]) => `${k} ${fmt(v, 3)}`)
            .join('; ')}`,
        );
      });
    }
    if (want('earlywarning')) {
      await section('early warning', async () => {
        results.earlyWarning = simulateEarlyWarningBench({ runs: q ? 300 : 1000, seed: 20261217 }, log);
        log(`   ${JSON.stringify(earlyWarningFigures(results.earlyWarning))}`);
      });
    }
    if (want('threshold')) {
      await section('threshold guarantee', async () => {
        const r = championOf(root, 0).definition.rollout;
        const o = { target: r.accuracyTarget, delta: r.delta, minCount: r.minLabelsPerThreshold, runs: q ? 300 : 1000, labelsPerRun: 2000, seed: 20240611 };
        results.threshold = { ...o, scenarios: simulateThresholds(o) };
      });
    }
  } finally {
    if (stackCtx && !opts.keep) await dropBenchDatabases(stackCtx);
    await stack?.stop();
    rmSync(dist, { recursive: true, force: true });
    rmSync(tools, { recursive: true, force: true });
  }
  results.totalSeconds = (Date.now() - started) / 1000;
  results.loadEnd = loadavg();
  writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results, null, 2));
  writeFileSync(opts.out, renderMarkdown(results));
  writeFigures(path.join(root, 'benchmarks.json'), results);
  log(`wrote ${path.relative(root, opts.out)} in ${fmt(results.totalSeconds / 60, 1)} min (results.json in ${path.relative(root, dir)})`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
