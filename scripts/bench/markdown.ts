import type { EarlyWarningBenchResult } from './early-warning';
import type { JudgementResult } from './judgement';
import type { MachineInfo } from './machine';
import type { ModelClientResult } from './model-client';
import type { ProfileSummary } from './profile';
import type { ReportsResult } from './reports';
import type { RoutingResult } from './routing';
import type { ScaleOutResult } from './scale-out';
import { fmt, pct, ratio } from './stats';
import type { ThresholdScenarioResult } from './threshold';
import { cpuPerItemMs, type NaiveThroughputResult, type ThroughputResult } from './throughput';

/** Everything one benchmark run measured, as BENCHMARKS.md shows it. */
export interface BenchResults {
  machine: MachineInfo;
  command: string;
  quick: boolean;
  startedAt: string;
  totalSeconds: number;
  loadStart: string;
  loadEnd: string;
  sections: Array<{ name: string; seconds: number; error?: string }>;
  throughput0?: ThroughputResult;
  naive0?: NaiveThroughputResult;
  modelClient?: ModelClientResult;
  throughput500?: ThroughputResult;
  naive500?: NaiveThroughputResult;
  routing?: RoutingResult;
  naiveRouting?: RoutingResult;
  reports?: ReportsResult;
  scaleOut?: ScaleOutResult;
  judgement?: JudgementResult;
  earlyWarning?: EarlyWarningBenchResult;
  threshold?: { target: number; delta: number; minCount: number; runs: number; labelsPerRun: number; scenarios: ThresholdScenarioResult[] };
  profile?: { result: ThroughputResult; summary: ProfileSummary; why: string };
  routingProfile?: { result: RoutingResult; summary: ProfileSummary; why: string };
}

type Status = 'met' | 'MISSED' | '—';

const mark = (s: Status) => (s === 'met' ? '✅ met' : s === 'MISSED' ? '❌ missed' : '—');

function status(ok: boolean | null | undefined): Status {
  return ok === null || ok === undefined ? '—' : ok ? 'met' : 'MISSED';
}

/** The figures table: each figure with its target, its naive baseline and the ratio. */
export function figureRows(r: BenchResults): Array<{ figure: string; value: string; target: string; naive: string; ratio: string; status: Status }> {
  const rows: Array<{ figure: string; value: string; target: string; naive: string; ratio: string; status: Status }> = [];
  if (r.throughput0) {
    const t = r.throughput0;
    rows.push({
      figure: `Shadow throughput, 1 instance, model 0 ms (items/s, Kafka → stored comparison)`,
      value: fmt(t.itemsPerSecond, 0),
      target: '≥ 2,000 (goal 5,000)',
      naive: r.naive0 ? fmt(r.naive0.itemsPerSecond, 0) : '—',
      ratio: ratio(t.itemsPerSecond, r.naive0?.itemsPerSecond),
      status: status(t.itemsPerSecond >= 2000),
    });
  }
  if (r.throughput500) {
    const t = r.throughput500;
    const bound = t.concurrency / (t.latencyMs / 1000);
    rows.push({
      figure: `Shadow throughput, model 500 ms, MODEL_CONCURRENCY ${t.concurrency} (items/s; bound ${fmt(bound, 0)})`,
      value: `${fmt(t.itemsPerSecond, 0)} (${pct(t.itemsPerSecond / bound, 0)} of bound)`,
      target: `≥ 90 % of ${fmt(bound, 0)} = ${fmt(0.9 * bound, 0)}`,
      naive: r.naive500 ? fmt(r.naive500.itemsPerSecond, 2) : '—',
      ratio: ratio(t.itemsPerSecond, r.naive500?.itemsPerSecond),
      status: status(t.itemsPerSecond >= 0.9 * bound),
    });
  }
  if (r.scaleOut) {
    const t = r.scaleOut;
    rows.push({
      figure: `Two instances against one, model ${t.latencyMs} ms, MODEL_CONCURRENCY ${t.concurrencyPerInstance} each (items/s ratio; scaleOut.twoInstanceRatio)`,
      value: `${fmt(t.twoInstanceRatio, 2)} (${fmt(t.twoInstancesPerSecond, 0)} ÷ ${fmt(t.oneInstancePerSecond, 0)})`,
      target: '(reported; 2 is perfect)',
      naive: '—',
      ratio: '—',
      status: '—',
    });
    rows.push({
      figure: `Takeover: a killed instance's ${fmt(t.heldAtKill, 0)} jobs decided by the other, seconds after the kill (scaleOut.takeoverSeconds; lease ${fmt(t.leaseMs / 1000, 0)} s)`,
      value: `${fmt(t.takeoverSeconds, 1)} (items lost ${fmt(t.batch - t.decided, 0)}, doubled ${fmt(t.doubled, 0)})`,
      target: '(reported; lease + a claim)',
      naive: '—',
      ratio: '—',
      status: '—',
    });
  }
  if (r.routing) {
    const t = r.routing;
    rows.push({
      figure: `Routing overhead at ${t.ratePerSecond} items/s, p99 (ms, consumed → routing event, minus model time)`,
      value: `${fmt(t.overheadMs.p99, 1)} (p50 ${fmt(t.overheadMs.p50, 1)})`,
      target: '≤ 25',
      naive: r.naiveRouting ? `${fmt(r.naiveRouting.overheadMs.p99, 1)}, but it falls behind: from produced ${fmt(r.naiveRouting.fromProducedMs.p99, 0)}` : '—',
      ratio: r.naiveRouting
        ? `from produced, p99: naive ÷ service ${ratio(r.naiveRouting.fromProducedMs.p99, t.fromProducedMs.p99)} (service ${fmt(t.fromProducedMs.p99, 0)})`
        : '—',
      status: status((t.overheadMs.p99 ?? Infinity) <= 25),
    });
  }
  if (r.reports) {
    for (const e of r.reports.endpoints) {
      const naive = r.reports.naive.find((n) => n.name === e.name);
      rows.push({
        figure: `Report latency over ${fmt(r.reports.comparisons, 0)} comparisons: ${e.name} (ms, median / p95)`,
        value: `${fmt(e.ms.p50, 1)} / ${fmt(e.ms.p95, 1)}`,
        target: 'median ≤ 100',
        naive: naive ? `${fmt(naive.ms.p50, 1)} / ${fmt(naive.ms.p95, 1)}` : '—',
        ratio: naive ? `naive ÷ service: ${ratio(naive.ms.p50, e.ms.p50)}` : '—',
        status: status((e.ms.p50 ?? Infinity) <= 100),
      });
    }
  }
  if (r.judgement) {
    const j = r.judgement;
    const naiveGate = Math.max(...j.gate.scenarios.map((g) => g.naivePassShare));
    rows.push({
      figure: `Gate at the target (true blind agreement ${j.gate.target}): segments promoted within 20,000 comparisons (judgement.gatePassAtTarget)`,
      value: pct(j.gate.gatePassAtTarget, 1),
      target: '≤ 5 %',
      naive: pct(naiveGate, 1),
      ratio: j.gate.gatePassAtTarget > 0 ? `naive ÷ service: ${ratio(naiveGate, j.gate.gatePassAtTarget)}` : '—',
      status: status(j.gate.gatePassAtTarget <= 0.05),
    });
    rows.push({
      figure: `Threshold recomputed every look (${j.threshold.looks} looks): runs ever certifying one whose true accuracy is below ${j.threshold.target} (judgement.thresholdViolations)`,
      value: pct(j.threshold.thresholdViolations, 1),
      target: `≤ δ = ${pct(j.threshold.delta, 0)}`,
      naive: pct(j.threshold.naiveViolations, 1),
      ratio: j.threshold.thresholdViolations > 0 ? `naive ÷ service: ${ratio(j.threshold.naiveViolations, j.threshold.thresholdViolations)}` : '—',
      status: status(j.threshold.thresholdViolations <= j.threshold.delta),
    });
    rows.push({
      figure: `Guard: blind comparisons from a drop ${j.guard.baseline} → ${fmt(j.guard.dropped, 2)} to the revert, median (judgement.guardDelayMedian; ÷ the best possible detector = judgement.guardDelayRatio)`,
      value: `${fmt(j.guard.guardDelayMedian, 0)} (ratio ${fmt(j.guard.guardDelayRatio, 2)})`,
      target: 'ratio ≤ 1.5',
      naive: fmt(j.guard.naiveDelayMedian, 0),
      ratio: `best detector: ${fmt(j.guard.oracleDelayMedian, 0)}`,
      status: status((j.guard.guardDelayRatio ?? Infinity) <= 1.5),
    });
    rows.push({
      figure: 'Guard: false reverts per 1,000 healthy segment-days of 2,000 blind comparisons (judgement.falseRevertsPer1000SegmentDays)',
      value: fmt(j.guard.falseRevertsPer1000SegmentDays, 1),
      target: '≤ 5',
      naive: fmt(j.guard.naiveFalseRevertsPer1000SegmentDays, 0),
      ratio: '—',
      status: status(j.guard.falseRevertsPer1000SegmentDays <= 5),
    });
    rows.push({
      figure: `Re-review after a revert: auto decisions in the regressed window missing from the list, over ${fmt(j.rereview.reverts, 0)} reverts (judgement.rereviewMissed)`,
      value: fmt(j.rereview.rereviewMissed, 0),
      target: '0',
      naive: '—',
      ratio: '—',
      status: status(j.rereview.rereviewMissed === 0),
    });
    const m = j.manySegments;
    rows.push({
      figure:
        `Many segments (${m.segments} in shadow, ${m.atTarget} at the target, ${m.above} at ${fmt(m.aboveRate, 2)}; a look every 100 blind labels to 20,000; ${fmt(m.families, 0)} workflows): ` +
        `share of false promotions among promotions with falsePromotionControl e-bh (judgement.falsePromotionShareEbh)`,
      value: `${pct(m.falsePromotionShareEbh, 1)} (${pct(m.abovePromotedEbh, 0)} of the good promoted)`,
      target: '≤ 5 %',
      naive: `per-segment gates: ${pct(m.falsePromotionSharePerSegment, 1)} (${pct(m.abovePromotedPerSegment, 0)} of the good)`,
      ratio: m.falsePromotionShareEbh > 0 ? `per-segment ÷ e-BH: ${ratio(m.falsePromotionSharePerSegment, m.falsePromotionShareEbh)}` : '—',
      status: status(m.falsePromotionShareEbh <= 0.05),
    });
  }
  if (r.threshold) {
    for (const s of r.threshold.scenarios) {
      rows.push({
        figure: `Threshold guarantee (${s.scenario}): runs whose accuracy above the chosen threshold < ${r.threshold.target}`,
        value: pct(s.certifiedFailShare, 1),
        target: `≤ δ = ${pct(r.threshold.delta, 0)}`,
        naive: pct(s.naiveFailShare, 1),
        ratio: s.certifiedFailShare > 0 ? `naive ÷ service: ${ratio(s.naiveFailShare, s.certifiedFailShare)}` : '—',
        status: status(s.certifiedFailShare <= r.threshold.delta),
      });
    }
  }
  if (r.earlyWarning) rows.push(...earlyWarningRows(r.earlyWarning));
  if (r.throughput0) {
    rows.push({
      figure: 'Memory: service peak RSS (VmHWM) during the 0 ms throughput run (MiB)',
      value: fmt(r.throughput0.peakRssMiB, 0),
      target: '(reported)',
      naive: '—',
      ratio: '—',
      status: '—',
    });
  }
  rows.push({
    figure: 'Whole benchmark, wall time (min)',
    value: fmt(r.totalSeconds / 60, 1),
    target: '≤ 15',
    naive: '—',
    ratio: '—',
    status: status(r.totalSeconds <= 15 * 60),
  });
  return rows;
}

type FigureRow = ReturnType<typeof figureRows>[number];

function earlyWarningRows(w: EarlyWarningBenchResult): FigureRow[] {
  const e = w.earlyWarning;
  const a = w.adaptiveAudit;
  const c = w.criticalClass;
  const rows: FigureRow[] = [];
  rows.push({
    figure:
      `Early warning: items after a drift (agreement ${e.shift.agreement.before} → ${e.shift.agreement.after}, answer mix moved ${fmt(e.shift.answerMix.totalVariation * 100, 1)} points) ` +
      'until the label-free monitor alarms, median (earlyWarning.delayItems)',
    value: `${fmt(e.delayItems, 0)} (p90 ${fmt(e.delayP90, 0)})`,
    target: '≤ 500',
    naive: `${fmt(e.naive.delayItems, 0)} (chi-square of the last ${fmt(e.naiveRule.window, 0)} items, every ${e.naiveRule.every})`,
    ratio: '—',
    status: status(e.delayItems !== null && e.delayItems <= 500),
  });
  rows.push({
    figure: `Early warning: false alarms per 1,000 steady segment-days of ${fmt(e.perDay, 0)} items, reference estimated from ${e.referenceDays} days (earlyWarning.falseAlarmsPer1000SegmentDays)`,
    value: `${fmt(e.falseAlarmsPer1000SegmentDays, 1)} over ${fmt(e.segmentDays, 0)} segment-days (bound ${fmt(e.boundPer1000SegmentDays, 1)})`,
    target: '≤ 5',
    naive: fmt(e.naive.falseAlarmsPer1000SegmentDays, 0),
    ratio: '—',
    status: status(e.falseAlarmsPer1000SegmentDays <= 5),
  });
  rows.push({
    figure:
      `Adaptive audits: days from a drop ${e.shift.agreement.before} → ${e.shift.agreement.after} at confidence-routed 100 % (${fmt(a.perDay, 0)} items a day) to the revert, ` +
      `median, the alarm raising the audit share ${pct(a.policy.baseShare, 0)} → ${pct(a.raisedShare, 0)} (adaptiveAudit.daysToRevert)`,
    value: `${fmt(a.daysToRevert, 1)} (p90 ${fmt(a.daysToRevertP90, 1)})`,
    target: '≤ 3',
    naive: `fixed ${pct(a.policy.baseShare, 0)}: ${fmt(a.daysToRevertFixedShare, 1)} (adaptiveAudit.daysToRevertFixedShare)`,
    ratio: `fixed ÷ adaptive: ${ratio(a.daysToRevertFixedShare, a.daysToRevert)}`,
    status: status(a.daysToRevert !== null && a.daysToRevert <= 3),
  });
  rows.push({
    figure:
      `Critical class: blind labels from a ${pct(c.classShares[c.classShares.length - 1], 0)} class's collapse (recall ${c.recallBefore} → ${c.recallAfter}; ` +
      `overall agreement ${fmt(c.overallBefore, 3)} → ${fmt(c.overallAfter, 3)}) until its own guard trips, median (criticalClass.delayItems)`,
    value: `${fmt(c.delayItems, 0)} (p90 ${fmt(c.delayP90, 0)})`,
    target: '(reported)',
    naive: `overall guard: ${c.naive.delayItems === null ? `not within ${fmt(c.horizonLabels, 0)}` : fmt(c.naive.delayItems, 0)} (${fmt(c.naive.missed, 0)} of ${fmt(w.options.runs, 0)} runs not caught)`,
    ratio: '—',
    status: '—',
  });
  return rows;
}

/** A profile's self time by area (the first `areas` of them), a blank line, and its top functions. */
function profileTables(summary: ProfileSummary, areas = summary.areas.length): string[] {
  return [
    table(
      ['area', 'ms', 'share of busy'],
      summary.areas.slice(0, areas).map((a) => [a.area, fmt(a.ms, 0), pct(a.share, 1)]),
    ),
    '',
    'Top functions by self time:',
    '',
    table(
      ['function', 'area', 'ms', 'share'],
      summary.functions.map((f) => [`\`${f.fn}\``, f.area, fmt(f.ms, 0), pct(f.share, 1)]),
    ),
  ];
}

function table(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** Items/s the machine's cores could carry at the CPU per item of this run (service, PostgreSQL, simulator, Kafka), or null. */
function ceilingPerSecond(t: ThroughputResult, cores: number): { perItemMs: number; perSecond: number } | null {
  const perItemMs = cpuPerItemMs(t, [t.serviceCpuSeconds, t.postgresCpuSeconds, t.simulatorCpuSeconds, t.kafkaCpuSeconds]);
  return perItemMs === null ? null : { perItemMs, perSecond: (cores * 1000) / perItemMs };
}

function ceiling(t: ThroughputResult, cores: number): string {
  const c = ceilingPerSecond(t, cores);
  return c ? `${cores} × 1,000 ÷ ${fmt(c.perItemMs, 2)} ms ≈ ${fmt(c.perSecond, 0)} items/s` : '—';
}

function throughputDetail(t: ThroughputResult, cores: number): string[][] {
  const perItem = (s: number | null) => (s === null ? '—' : `${fmt((s * 1000) / t.items, 2)} ms`);
  return [
    ['items (after a warm-up)', fmt(t.items, 0)],
    ['first item produced → last comparison stored', `${fmt(t.elapsedMs / 1000, 1)} s → **${fmt(t.itemsPerSecond, 0)} items/s**`],
    ['steady rate (10th → 90th percentile of comparison times)', `${fmt(t.steadyItemsPerSecond, 0)} items/s`],
    ['producing all items into Kafka took', `${fmt(t.produceMs / 1000, 1)} s (${fmt(t.items / (t.produceMs / 1000), 0)} items/s offered)`],
    [
      'stage rates (database timestamps): ingest / AI decisions / comparisons',
      `${fmt(t.stages.ingestPerSecond, 0)} / ${fmt(t.stages.decisionsPerSecond, 0)} / ${fmt(t.stages.comparisonsPerSecond, 0)} items/s`,
    ],
    ['item received → comparison stored, p50 / p99 (backlog included)', `${fmt(t.lagMs.p50, 0)} / ${fmt(t.lagMs.p99, 0)} ms`],
    [
      "human decisions stored beforehand through the service's ingest",
      `${fmt(t.decisionsIngest.count, 0)} in ${fmt(t.decisionsIngest.ms / 1000, 1)} s (${fmt(t.decisionsIngest.perSecond, 0)}/s)`,
    ],
    [
      'CPU per item: service / PostgreSQL (its backends) / model simulator / Kafka mock',
      `${perItem(t.serviceCpuSeconds)} / ${perItem(t.postgresCpuSeconds)} / ${perItem(t.simulatorCpuSeconds)} / ${perItem(t.kafkaCpuSeconds)}`,
    ],
    ...(t.latencyMs === 0
      ? [['CPU-bound ceiling on this machine if nothing else ran: cores ÷ (service + PostgreSQL + simulator + Kafka CPU per item)', ceiling(t, cores)]]
      : []),
    [
      "machine busy during the run (all processes, incl. other people's)",
      t.machineBusySeconds === null ? '—' : `${fmt(t.machineBusySeconds / (t.elapsedMs / 1000), 2)} of ${cores} cores`,
    ],
    ['PostgreSQL transactions per item', t.transactions === null ? '—' : fmt(t.transactions / t.items, 3)],
    ['service peak RSS (VmHWM)', `${fmt(t.peakRssMiB, 0)} MiB`],
    ['load average before → after', `${t.loadBefore} → ${t.loadAfter}`],
    ['job states at the end', JSON.stringify(t.jobStates)],
  ];
}

export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push('# Understudy — benchmarks');
  out.push('');
  out.push(
    'Written by `npm run bench` (scripts/bench.ts) on the local stack: PostgreSQL, the Kafka mock cluster (librdkafka), the real Unleash ' +
      'server and the MODEL SIMULATOR — each service instance and each simulator in a process of its own. Every figure is measured beside a ' +
      'NAIVE BASELINE in the same run (one message at a time, one INSERT per row, one model call at a time; scripts/bench/naive-pipeline.ts), ' +
      "so it reads as a ratio too. The machine is shared: other people's tests run on it, hence the load averages beside each figure.",
  );
  out.push('');
  out.push('## Machine and run');
  out.push('');
  out.push(
    table(
      ['', ''],
      [
        ['CPU', `${m.cpuModel}, ${m.cores} cores`],
        ['memory', `${m.memoryGiB} GiB`],
        ['OS / kernel', `${m.os} / ${m.kernel}`],
        ['Node', m.node],
        [
          'CPU speed probe (200,000 JSON round trips of a small object, best of 3; lower is faster)',
          m.cpuProbeMs !== undefined ? `${fmt(m.cpuProbeMs, 0)} ms` : '—',
        ],
        ['PostgreSQL', m.postgres ?? '—'],
        ['date', r.startedAt],
        ['command', `\`${r.command}\`${r.quick ? ' (quick: smaller sizes, not for comparison)' : ''}`],
        ['load average (1/5/15 min) at start → end', `${r.loadStart} → ${r.loadEnd}`],
        ['total wall time', `${fmt(r.totalSeconds / 60, 1)} min (${r.sections.map((s) => `${s.name} ${fmt(s.seconds, 0)} s`).join(', ')})`],
      ],
    ),
  );
  const failed = r.sections.filter((s) => s.error);
  if (failed.length) {
    out.push('');
    out.push('**Sections that failed in this run:**');
    for (const s of failed) out.push(`- ${s.name}: \`${s.error!.split('\n')[0].slice(0, 400)}\``);
  }
  out.push('');
  out.push('## Figures');
  out.push('');
  out.push(
    table(
      ['figure', 'Understudy', 'target', 'naive baseline', 'ratio', ''],
      figureRows(r).map((x) => [x.figure, x.value, x.target, x.naive, x.ratio, mark(x.status)]),
    ),
  );

  if (r.throughput0 || r.throughput500) {
    out.push('');
    out.push('## Shadow throughput');
    out.push('');
    out.push(
      'One service instance (`node dist/src/main.js`, production defaults: `DATABASE_POOL_SIZE=20`, `CONTROLLER_ENABLED=false`) consumes ' +
        '`work.items` (32 partitions) and `work.decisions`; the MODEL SIMULATOR runs in its own process (`node dist-tools/tools/simulator/main.js`, ' +
        "accuracy 0.9, logprobs on). Both shipped workflows (support-ticket triage and invoice extraction, 60/40) under names of the run's own, " +
        'with two settings lifted that would cap the figure instead of the service: the per-workflow model rate limit (500 and 300 calls/s) and ' +
        "the daily token budget. Every item's human decision is sent first (through the service's own ingest), so each AI decision completes a " +
        'comparison; then the items are produced as fast as Kafka takes them while the service consumes, and the clock runs from the first item ' +
        'produced to the moment the last comparison is stored. No segment is beyond shadow, so nothing is routed.',
    );
    for (const [t, title] of [
      [r.throughput0, 'Model at 0 ms'],
      [r.throughput500, 'Model at 500 ms'],
    ] as const) {
      if (!t) continue;
      out.push('');
      out.push(`### ${title} (MODEL_CONCURRENCY ${t.concurrency})`);
      out.push('');
      out.push(table(['', ''], throughputDetail(t, m.cores)));
      const c = t.latencyMs === 0 ? ceilingPerSecond(t, m.cores) : null;
      if (c && t.itemsPerSecond < 2000 && t.serviceCpuSeconds !== null) {
        const serviceMs = (t.serviceCpuSeconds * 1000) / t.items;
        const budgetMs = (m.cores * 1000) / 2000 - (c.perItemMs - serviceMs);
        out.push('');
        out.push(
          `The 2,000 items/s target is missed in this run. At its CPU per item the two cores carry at most ${fmt(c.perSecond, 0)} items/s ` +
            `with the service, PostgreSQL and the simulator sharing them, and the service reached ${pct(t.itemsPerSecond / c.perSecond, 0)} ` +
            `of that. For 2,000 items/s the service would have to spend at most ${fmt(budgetMs, 2)} ms of CPU per item beside what ` +
            `PostgreSQL and the simulator spent; it spent ${fmt(serviceMs, 2)} ms. CPU per item varies between runs on these shared virtual ` +
            `machines, for the same code and for PostgreSQL and the simulator as much as for the service: compare the CPU speed probe, the ` +
            `CPU per item and the naive baseline with earlier runs in this file's git history. The profile below shows where the service's share goes.`,
        );
      }
    }
    out.push('');
    out.push('### Naive baseline');
    out.push('');
    out.push(
      'The naive pipeline, in its own process, on the same kind of items with their human decisions already stored: kafkajs `eachMessage` ' +
        '(one message at a time), then one INSERT per row, each its own commit (work item, job, AI decision, job update, comparison, rollup ' +
        "counter), with one model call at a time through the same openai SDK adapter and the service's own validation, prompt, parsing and " +
        'comparison code. Measured over a fixed window from its first stored comparison.',
    );
    out.push('');
    out.push(
      table(
        ['run', 'items/s', 'comparisons in window', 'window', 'load before → after'],
        [r.naive0, r.naive500]
          .filter((x): x is NaiveThroughputResult => !!x)
          .map((n) => [
            `model ${n.latencyMs} ms`,
            fmt(n.itemsPerSecond, 2),
            fmt(n.completed, 0),
            `${fmt(n.windowMs / 1000, 1)} s`,
            `${n.loadBefore} → ${n.loadAfter}`,
          ]),
      ),
    );
  }

  if (r.modelClient) {
    const c = r.modelClient;
    out.push('');
    out.push('### Model client');
    out.push('');
    out.push(
      `One model call per item makes the client's cost per call a large share of the service's CPU. The service's adapter (the openai SDK ` +
        `over keep-alive node:http, src/inference/keep-alive-fetch.ts) against the same SDK on Node's built-in fetch (what it used before): ` +
        `${fmt(c.calls, 0)} identical triage requests to a simulator process at 0 ms, ${c.concurrency} in flight, CPU of the calling process ` +
        '(alternated twice, the lower of each kept).',
    );
    out.push('');
    out.push(
      table(
        ['client', 'CPU per call', 'calls/s (one process)'],
        [
          ['openai SDK + keep-alive node:http (the service)', `${fmt(c.keepAlive.cpuMsPerCall, 3)} ms`, fmt(c.keepAlive.callsPerSecond, 0)],
          ['openai SDK + built-in fetch', `${fmt(c.builtinFetch.cpuMsPerCall, 3)} ms`, fmt(c.builtinFetch.callsPerSecond, 0)],
        ],
      ),
    );
  }

  if (r.profile) {
    const p = r.profile;
    out.push('');
    out.push('### Where the time goes (profile)');
    out.push('');
    out.push(p.why);
    out.push('');
    out.push(
      `A separate run of ${fmt(p.result.items, 0)} items at 0 ms with the service under \`node --cpu-prof\` (${fmt(p.result.itemsPerSecond, 0)} items/s while profiled; ` +
        `the profile covers start-up too). The service process was busy ${fmt(p.summary.busyMs / 1000, 1)} s of ${fmt(p.summary.totalMs / 1000, 1)} s. ` +
        'Self time by area (a package, a folder of the service, Node internals; "native" is mostly the writev/write system calls of sockets — ' +
        'PostgreSQL queries and model HTTP requests):',
    );
    out.push('');
    out.push(...profileTables(p.summary));
    out.push('');
    out.push(
      "The anonymous function of keep-alive-fetch is `JSON.parse` of the model's answers (with their token logprobs); `writev` is the sockets' " +
        'system calls (queries to PostgreSQL, requests to the model). One HTTP call per item, its JSON both ways and the garbage they leave ' +
        "are most of the service's CPU; what is left of the database's work is batched (see transactions per item).",
    );
    out.push('');
    out.push('Same run, CPU by process:');
    out.push('');
    out.push(table(['', ''], throughputDetail(p.result, m.cores)));
  }

  if (r.routing) {
    const t = r.routing;
    out.push('');
    out.push('## Routing overhead');
    out.push('');
    out.push(
      `Segment \`email|eu\` of the triage workflow put in supervised at 100 % by writing its split with \`UnleashAdminGateway.writeSegmentSplit\` ` +
        `(as the controller does), so every item produces a \`suggest\` routing event. Items are produced at a steady ${t.ratePerSecond}/s ` +
        `(a produce request every 20 ms) for ${fmt(t.items / t.ratePerSecond, 0)} s after a warm-up; the simulator answers at once. Measured per item:`,
    );
    out.push('');
    out.push(
      "- **overhead** = the routing event's Kafka timestamp (set by the producer when the relay sends it) − `work_items.received_at` " +
        '(the start of the ingest transaction that stored the item, i.e. right after the consumer got it) − `ai_decisions.latency_ms` (the model call as the runner timed it);',
    );
    out.push("- **from produced** = the same, but from the moment the item was produced (adds the time it waited in Kafka and in the consumer's fetch);");
    out.push("- the phases split at `ai_decisions.created_at` (the start of the decision writer's transaction).");
    out.push('');
    const row = (x: RoutingResult, label: string) => [
      label,
      `${fmt(x.routed, 0)} / ${fmt(x.items, 0)}`,
      `${fmt(x.overheadMs.p50, 1)} / ${fmt(x.overheadMs.p95, 1)} / ${fmt(x.overheadMs.p99, 1)} / ${fmt(x.overheadMs.max, 1)}`,
      `${fmt(x.fromProducedMs.p50, 1)} / ${fmt(x.fromProducedMs.p99, 1)}`,
      x.toDecisionMs ? `${fmt(x.toDecisionMs.p50, 1)} / ${fmt(x.toDecisionMs.p99, 1)}` : '—',
      x.decisionToEventMs ? `${fmt(x.decisionToEventMs.p50, 1)} / ${fmt(x.decisionToEventMs.p99, 1)}` : '—',
      `${fmt(x.modelLatencyMs.p50, 0)} / ${fmt(x.modelLatencyMs.p99, 0)}`,
      `${x.loadBefore} → ${x.loadAfter}`,
    ];
    out.push(
      table(
        [
          '',
          'routed / sent',
          'overhead p50 / p95 / p99 / max (ms)',
          'from produced p50 / p99',
          'received → decision stored, minus model (p50 / p99)',
          'decision stored → event (p50 / p99)',
          'model ms p50 / p99',
          'load',
        ],
        [row(t, 'Understudy'), ...(r.naiveRouting ? [row(r.naiveRouting, 'naive')] : [])],
      ),
    );
    if (t.toDecisionMs && t.decisionToEventMs) {
      const d = (x: { p50: number | null; p95: number | null; p99: number | null }) => `${fmt(x.p50, 1)} / ${fmt(x.p95, 1)} / ${fmt(x.p99, 1)}`;
      out.push('');
      out.push("Where the time goes, per item (ms, p50 / p95 / p99), from the database's own timestamps:");
      out.push('');
      out.push(
        table(
          ['phase', 'what happens (sequential round trips to PostgreSQL)', 'ms'],
          [
            [
              "consumed → decision writer's transaction starts, minus model time",
              "ingest transaction (BEGIN, advisory locks, items + jobs + segments in one statement, earlier independent decisions, COMMIT); the runner wakes and claims (1); the model call's client overhead; the writer's 2 ms linger and any flush in progress",
              d(t.toDecisionMs),
            ],
            [
              "writer's transaction starts → event sent",
              'decision writer transaction (BEGIN, advisory locks, AI decisions, routing + outbox rows in one statement, human decisions, job states, budget, rollups with the hourly trigger, COMMIT); then the relay publishes the rows it was handed (kafkajs send, acks from all replicas)',
              d(t.decisionToEventMs),
            ],
          ],
        ),
      );
      const cpuPerItem = t.serviceCpuSeconds !== null && t.routed > 0 ? (t.serviceCpuSeconds * 1000) / t.routed : null;
      out.push('');
      out.push(
        `PostgreSQL transactions per item (explicit ones and single statements, from \`pg_stat_database\`): ${fmt(t.transactionsPerItem ?? null, 2)}; ` +
          `service CPU per item: ${fmt(cpuPerItem, 2)} ms.`,
      );
      if (t.roundTripMs && t.commitMs) {
        out.push('');
        out.push(
          `During the run, probed from the benchmark's process every 100 ms: one round trip to PostgreSQL (\`SELECT 1\`) took ` +
            `${fmt(t.roundTripMs.p50, 2)} ms (p99 ${fmt(t.roundTripMs.p99, 2)}), one small committed INSERT (a WAL flush) ` +
            `${fmt(t.commitMs.p50, 2)} ms (p99 ${fmt(t.commitMs.p99, 2)}). An item passes about 15 sequential round trips to PostgreSQL, ` +
            'two commits, one HTTP call and one produce request before its event leaves; what the tail adds on top is waiting — for a flush ' +
            'already in progress (ingest and the decision writer each write in batches, one at a time) and for a CPU on a two-core machine ' +
            'shared by the service, PostgreSQL, the simulator, Kafka, Unleash and the benchmark itself.',
        );
      }
    }
    if (r.routingProfile) {
      const p = r.routingProfile;
      out.push('');
      out.push('### Where the routing time goes (profile)');
      out.push('');
      out.push(
        `${p.why} A separate run of the same scenario with the service under \`node --cpu-prof\` (overhead p50 / p99 while profiled: ` +
          `${fmt(p.result.overheadMs.p50, 1)} / ${fmt(p.result.overheadMs.p99, 1)} ms). The service process was busy ` +
          `${fmt(p.summary.busyMs / 1000, 1)} s of ${fmt(p.summary.totalMs / 1000, 1)} s (start-up included). Self time by area:`,
      );
      out.push('');
      out.push(...profileTables(p.summary, 10));
      out.push('');
      out.push(
        'At a few items per batch, `writev` — the system call under every query node-postgres sends — is the largest single cost: on this ' +
          "virtual machine a socket write that wakes another process costs on the order of 0.1 ms of CPU, so the service's CPU, and with it " +
          'the queueing on a saturated two-core machine, follows the number of statements per item more than anything the service computes. ' +
          'Two changes cut it (counted with BENCH_STATEMENT_LOG=1 on 2026-11-23): the runner claims from the job queue only on news of jobs ' +
          '(before, every finished call set off a claim: 14,022 claim queries for ~12,000 items, after ~5,300), and the decision writer hands the outbox rows it commits straight to ' +
          'the relay, which publishes them without a poll and a second read (the poll keeps everything else, and these rows after a grace). ' +
          "What would cut further: fewer statements in the decision writer's transaction (job states, budget and rollups merged into one " +
          'statement) and handing ingested jobs to the runner without a claim. Tried and left out: two decision-writer transactions at ' +
          'once (72–96 ms p99 either way over two runs each: the second meets the first on the shared budget and rollup rows and waits for ' +
          'its commit there, and the extra transactions cost CPU the machine does not have).',
      );
    }
    if (r.naiveRouting) {
      out.push('');
      out.push(
        `The naive pipeline routes each item right after its own INSERTs, with one produce request per item: little overhead per item once it ` +
          `has the item, but it cannot keep up with ${t.ratePerSecond} items/s, so its items wait in Kafka ever longer ("from produced"); ` +
          `it routed ${fmt(r.naiveRouting.routed, 0)} of ${fmt(r.naiveRouting.items, 0)} within 5 s of the last one sent.`,
      );
    }
  }

  if (r.scaleOut) {
    const t = r.scaleOut;
    out.push('');
    out.push(`## Two instances, model at ${t.latencyMs} ms`);
    out.push('');
    out.push(
      `One instance, then two on a database and topics of their own (one consumer group, one job queue), each calling the model at most ` +
        `${t.concurrencyPerInstance} at a time: ${fmt(t.itemsPerInstance, 0)} items per instance produced at once, timed from the first produce ` +
        `to the last AI decision stored. Then, with both busy on a batch of ${fmt(t.batch, 0)} more, the second is killed (SIGKILL): the jobs it ` +
        `held wait for their lease (JOB_LEASE_MS, ${fmt(t.leaseMs / 1000, 0)} s here; the production default is 120 s) and the other instance ` +
        "claims them; the items in its Kafka partitions move at the consumer group's rebalance.",
    );
    out.push('');
    out.push(
      table(
        ['', ''],
        [
          ['one instance', `${fmt(t.oneInstancePerSecond, 0)} items/s (bound ${fmt(t.concurrencyPerInstance / (t.latencyMs / 1000), 0)})`],
          ['two instances', `${fmt(t.twoInstancesPerSecond, 0)} items/s (bound ${fmt((2 * t.concurrencyPerInstance) / (t.latencyMs / 1000), 0)})`],
          ['two ÷ one', fmt(t.twoInstanceRatio, 2)],
          ['jobs the killed instance held', fmt(t.heldAtKill, 0)],
          ['kill → the last of them decided', `${fmt(t.takeoverSeconds, 1)} s`],
          ['kill → every item of the batch decided', `${fmt(t.drainSeconds, 1)} s`],
          ['items of the batch decided / lost / decided twice', `${fmt(t.decided, 0)} / ${fmt(t.batch - t.decided, 0)} / ${fmt(t.doubled, 0)}`],
          ['load before → after', `${t.loadBefore} → ${t.loadAfter}`],
        ],
      ),
    );
  }

  if (r.reports) {
    const x = r.reports;
    out.push('');
    out.push(`## Report latency over ${fmt(x.comparisons, 0)} comparisons in ${fmt(x.days, 0)} days`);
    out.push('');
    out.push(
      `${fmt(x.comparisons, 0)} comparisons of the triage workflow over ${fmt(x.days, 0)} days (a month of a busy workflow), in nine segments ` +
        '(unequal volumes and agreement, ~15 % reviews, 5 % audits, confidences, labels, per-field agreement, AI calls with tokens and latency). ' +
        "The last day's comparisons are each added to the service's own `RollupAccumulator` (what ingest and the decision writer call for every " +
        "comparison) and written with the service's own `RollupRepository` upsert: exactly the rows the service would have written batch by batch. " +
        "The days before it are that day's rows moved back whole days in SQL (rollup_minute, evidence_minute, rollup_confusion); the database " +
        'keeps the hourly tables from them (rollup_hour, evidence_hour, statement triggers). A report reads as many rows whatever the days hold, ' +
        "and adding ten million comparisons one by one would take most of the benchmark's time budget. Every report asks for the whole period.",
    );
    out.push('');
    out.push(
      table(
        ['', ''],
        [
          ['rollup_minute rows / rollup_confusion rows', `${fmt(x.rollupRows, 0)} / ${fmt(x.confusionRows, 0)}`],
          ['building the rollups (one day accumulated and upserted, the others copied; hourly rows by trigger)', `${fmt(x.buildMs / 1000, 1)} s`],
          ['comparisons counted by the agreement report', fmt(x.reportTotalN, 0)],
          [
            'what reports read, on disk (tables, indexes, TOAST), per 1,000,000 comparisons',
            `${fmt((Object.values(x.storageBytes).reduce((a, b) => a + b, 0) * 1_000_000) / x.comparisons / 1048576, 1)} MiB (in all, for ${fmt(x.comparisons, 0)}: ` +
              Object.entries(x.storageBytes)
                .map(([t, b]) => `${t} ${fmt(b / 1048576, 1)} MiB`)
                .join(', ') +
              ')',
          ],
          [
            'raw rows for the naive baseline (one day by batched INSERT, the others copied; then the key and index)',
            `${fmt(x.rawInsert.rows, 0)} in ${fmt(x.rawInsert.ms / 1000, 1)} s = ${fmt(x.rawInsert.perSecond, 0)} rows/s`,
          ],
          ['load before → after', `${x.loadBefore} → ${x.loadAfter}`],
        ],
      ),
    );
    out.push('');
    out.push(
      "Each endpoint is called over HTTP with an analyst's bearer token, warm (3 calls first), then timed 20 times in a row. The naive " +
        "baseline computes the same figures by scanning the raw comparison rows (a copy of the comparisons table's columns and its " +
        '(workflow, segment, created_at) index), straight in SQL without HTTP — which favours it.',
    );
    out.push('');
    out.push(
      table(
        ['', 'Understudy: median / p95 / max (ms)', 'naive scan of raw rows: median / p95 (ms)'],
        x.endpoints.map((e) => {
          const n = x.naive.find((y) => y.name === e.name);
          return [
            `${e.name} — \`GET ${e.path.replace(/workflow=[^&]+/, 'workflow=…').replace(/workflows\/[^/]+/, 'workflows/…')}\``,
            `${fmt(e.ms.p50, 1)} / ${fmt(e.ms.p95, 1)} / ${fmt(e.ms.max, 1)}`,
            n ? `${fmt(n.ms.p50, 1)} / ${fmt(n.ms.p95, 1)}` : '—',
          ];
        }),
      ),
    );
    const minuteOnly = x.naive.find((n) => n.name.startsWith('per-minute rollups only'));
    if (minuteOnly) {
      out.push('');
      out.push(
        `For scale: the agreement query over per-minute rollups alone (what the report read before rollup_hour) took ${fmt(minuteOnly.ms.p50, 0)} ms (median, SQL only).`,
      );
    }
    out.push('');
    out.push(
      'The segment page (gate status) reads only its last hour, so a raw scan of one hour is as fast as rollups there; what the rollups buy ' +
        'is the week- and month-long reports.',
    );
  }

  if (r.judgement) {
    const j = r.judgement;
    const o = j.options;
    out.push('');
    out.push("## Judgement: do the rollout's decisions carry the risk they state?");
    out.push('');
    out.push(
      `${fmt(o.runs, 0)} simulated runs per figure through the project's own decision code (scripts/bench/judgement.ts): \`classifyLabel\`/\`armOf\`, ` +
        '`evaluateStep`, `recommendThreshold` + `nextThreshold`, `armGuard` + `updateGuard`, `rereviewFrom`. ' +
        `${fmt(o.perDay, 0)} comparisons a day per segment, labels arriving 0–${o.labelDelayHours} h after the AI decided, a look every ` +
        `${o.lookEveryMinutes} simulated minutes, reviewers accepting ${pct(o.acceptWrong, 0)} of the wrong suggestions they are shown. ` +
        'Each figure has the rule it replaced beside it, on the same draws: the gate on a Wilson bound over every comparison of the segment ' +
        '(reviews included), the threshold on a one-look binomial test re-run each look over every comparison, a z-test of each 100 labels.',
    );
    out.push('');
    out.push(
      table(
        ['gate scenario', 'promoted at the target: service', 'the rule it replaced'],
        j.gate.scenarios.map((g) => [g.scenario, pct(g.passShare, 1), pct(g.naivePassShare, 1)]),
      ),
    );
    out.push('');
    out.push(
      `Threshold: certified in ${pct(j.threshold.certifiedAtEnd, 0)} of the runs by the last look. Guard: baseline measured on ` +
        `${fmt(j.guard.baselineLabels, 0)} blind labels; median delay ${fmt(j.guard.guardDelayMedian, 0)} (p95 ${fmt(j.guard.guardDelayP95, 0)}), ` +
        `${fmt(j.guard.missedDrops, 0)} drops not caught within 6,000 comparisons; the best possible detector (a CUSUM that knows 0.92 and the drop, ` +
        `h = ${fmt(j.guard.oracleH, 2)} for 5 false reverts per 1,000 segment-days) needs ${fmt(j.guard.oracleDelayMedian, 0)}. Re-review: ` +
        `${fmt(j.rereview.autoSinceDropMissed, 0)} auto decisions made after the true drop but before the guard's evidence window were not listed ` +
        '(the window starts where the evidence of a drop starts, not at the drop itself).',
    );
  }

  if (r.threshold) {
    const t = r.threshold;
    out.push('');
    out.push('## Confidence threshold guarantee');
    out.push('');
    out.push(
      `${fmt(t.runs, 0)} simulated calibration sets of ${fmt(t.labelsPerRun, 0)} labelled items (confidence ~ Uniform(0, 1), 20 bins), target ` +
        `accuracy ${t.target} and δ = ${t.delta} with at least ${t.minCount} labels above a candidate (the triage workflow's settings). ` +
        '`recommendThreshold` (fixed-sequence testing with anytime-valid p-values, as the controller runs it: one look here; the judgement ' +
        'section above looks 100 times) against the naive rule "the lowest threshold whose observed accuracy above it meets the ' +
        'target". A run fails when the true accuracy above the chosen threshold is below the target; the promise is P(fail) ≤ δ.',
    );
    out.push('');
    out.push(
      table(
        ['model', 'fails: recommendThreshold', 'fails: naive', 'runs with a threshold: certified / naive', 'coverage p50: certified / naive'],
        t.scenarios.map((s) => [
          s.scenario,
          pct(s.certifiedFailShare, 1),
          pct(s.naiveFailShare, 1),
          `${pct(s.certifiedShare, 1)} / ${pct(s.naiveShare, 1)}`,
          `${pct(s.certifiedCoverageP50, 1)} / ${pct(s.naiveCoverageP50, 1)}`,
        ]),
      ),
    );
  }

  if (r.earlyWarning) out.push(...earlyWarningSection(r.earlyWarning, r));

  out.push('');
  out.push('## How to run');
  out.push('');
  out.push(
    '`npm run bench` builds, then runs `node dist-tools/scripts/bench.js`: it starts what is missing of the local stack (a Kafka mock cluster of its ' +
      'own; the Unleash already running on 127.0.0.1:4242 is reused and never stopped), makes databases of its own (dropped at the end), runs ' +
      'every section and rewrites this file. `--only throughput,latency,scaleout,routing,reports,judgement,threshold,earlywarning` runs some sections (the last three need no stack), `--quick` uses ' +
      'smaller sizes (and profiles only when the throughput target is missed, or with `--profile`), `--keep` keeps the databases. ' +
      'Logs, scenarios, profiles and results.json of a run are under `.stack/bench/<run>/`.',
  );
  out.push('');
  return out.join('\n');
}

/** The early-warning section: method, the drift it is measured on, the figures and what they need. */
export function earlyWarningSection(w: EarlyWarningBenchResult, run?: Pick<BenchResults, 'command' | 'startedAt'>): string[] {
  const e = w.earlyWarning;
  const a = w.adaptiveAudit;
  const c = w.criticalClass;
  const mix = (shares: number[]) => shares.map((v, i) => `${e.shift.answerMix.classes[i]} ${pct(v, 1)}`).join(', ');
  const out: string[] = [];
  out.push('');
  out.push('## Early warning without labels');
  out.push('');
  out.push(
    `${fmt(w.options.runs, 0)} simulated runs per figure through the project's own code (scripts/bench/early-warning.ts → ` +
      'src/stats/domain/early-warning-simulation.ts): the drift monitor (`DriftMonitor`, drift-monitor.ts), the regression guard ' +
      "(`updateGuard`, armed by the controller's `armGuard` with the workflow defaults), the adaptive audit policy (adaptive-audit.ts) " +
      'and the class guard (class-guard.ts). Decisions are drawn as the MODEL SIMULATOR draws them: confidence ~ N(0.9, 0.1) for a right ' +
      'answer, N(0.6, 0.1) for a wrong one, rounded to 3 decimals; 10 confidence bins × 6 answers of the triage label field.',
  );
  out.push('');
  out.push(
    `**Method.** The monitor watches the AI's decisions (confidence bin × answer) against the ${e.referenceDays} days the stage was promoted on ` +
      `(${fmt(e.referenceItems, 0)} decisions). For each direction — low confidence on any answer or on one answer, high confidence, an ` +
      "answer's share rising or falling — it bets, Shiryaev–Roberts style, that the direction's share rose above the reference's " +
      'one-sided Clopper–Pearson upper bound (all bounds at once with probability 0.99): betting against the bound rather than the estimate is ' +
      `what keeps a finite reference from turning noise into evidence. ${fmt(e.components, 0)} bets (directions × 4 sizes of rise) are mixed with equal weights, an ` +
      `e-detector (Shin, Ramdas & Rinaldo): the expected number of items before a false alarm is at least its threshold, ${fmt(e.targetArl0, 0)}, ` +
      `under continuous monitoring — at most ${fmt(e.boundPer1000SegmentDays, 1)} false alarms per 1,000 segment-days of ${fmt(e.perDay, 0)} items in the long run.`,
  );
  out.push('');
  out.push(
    `**The drift.** Agreement ${e.shift.agreement.before} → ${e.shift.agreement.after}, the new errors landing on "other" (a model on unfamiliar input ` +
      `falling back on the catch-all): decisions with confidence below ${e.shift.lowConfidence.below} rise from ${pct(e.shift.lowConfidence.before, 1)} to ` +
      `${pct(e.shift.lowConfidence.after, 1)}; the answer mix moves by ${fmt(e.shift.answerMix.totalVariation * 100, 1)} points (total variation: ${mix(e.shift.answerMix.before)} → ` +
      `${mix(e.shift.answerMix.after)}); ${fmt(e.shift.klPerItem, 3)} nats per item (KL), so a detector that knew the drift in advance would need about ` +
      `ln(${fmt(e.targetArl0, 0)}) ÷ KL ≈ ${fmt(Math.log(e.targetArl0) / e.shift.klPerItem, 0)} items. The monitor starts ${fmt(e.warmupItems, 0)} items before the drift.`,
  );
  for (const x of e.also) {
    out.push('');
    out.push(
      `When ${x.name}: ${fmt(x.shift.klPerItem, 3)} nats per item (answer mix moved ${fmt(x.shift.answerMix.totalVariation * 100, 1)} points), median delay ` +
        `${fmt(x.delayItems, 0)} items (p90 ${fmt(x.delayP90, 0)}${x.missed ? `, ${fmt(x.missed, 0)} not within the horizon` : ''}): the 500-item target needs the answer mix to move too.`,
    );
  }
  out.push('');
  out.push(
    `**Adaptive audits.** A segment of ${fmt(a.perDay, 0)} items a day at confidence-routed 100 %, base audit share ${pct(a.policy.baseShare, 0)}; audits labelled ` +
      `0–${a.labelDelayHours} h after the decision, a guard look every ${a.lookEveryMinutes} min. The guard is armed as the controller arms it on a baseline of ` +
      `${fmt(a.baselineLabels, 0)} blind labels at 0.92 (a week of the segment's items${a.guard ? `; h = ${fmt(a.guard.h, 2)}` : ''}). The monitor (reference: ` +
      `${a.referenceDays} days of decisions) alarms a median ${fmt(a.daysToAlarm, 2)} days after the drop; its alarm raises the share × ${a.policy.factor} up to ` +
      `${pct(a.policy.cap, 0)} until the revert or an all-clear. The same items with the fixed ${pct(a.policy.baseShare, 0)}: ${fmt(a.daysToRevertFixedShare, 1)} days ` +
      `(p90 ${fmt(a.daysToRevertFixedShareP90, 1)}). Blind audits from the drop to the revert: ${fmt(a.auditsToRevert.adaptive, 0)} adaptive, ` +
      `${fmt(a.auditsToRevert.fixed, 0)} fixed — the guard needs the same evidence, the raised share brings it sooner. The price of a false alarm: the share stays ` +
      `raised a median ${fmt(a.falseAlarmCost.daysRaised, 2)} days (p90 ${fmt(a.falseAlarmCost.daysRaisedP90, 2)}) until the labels rule out the drop, ` +
      `${fmt(a.falseAlarmCost.extraAudits, 0)} extra audits.`,
  );
  out.push('');
  out.push(
    `**Critical class.** Blind labels of a priority field (${c.classShares.map((v) => pct(v, 0)).join(' / ')}), the last one critical; its recall collapses ` +
      `${c.recallBefore} → ${c.recallAfter}, overall agreement (every compared field right) moves ${fmt((c.overallBefore - c.overallAfter) * 100, 1)} points. The class's ` +
      `recall and precision guards (the project's CUSUM, armed on ${fmt(c.baselineLabels, 0)} blind labels, tuned to a drop of ${c.classDrop}) trip after a median ` +
      `${fmt(c.delayItems, 0)} blind labels (${fmt(c.byRecall, 0)} runs by recall, ${fmt(c.byPrecision, 0)} by precision, ${fmt(c.missed, 0)} missed); the overall guard ` +
      `on the same labels ${c.naive.delayItems === null ? `leaves more than half uncaught within ${fmt(c.horizonLabels, 0)}` : `needs a median ${fmt(c.naive.delayItems, 0)}`} ` +
      `(${fmt(c.naive.missed, 0)} of ${fmt(w.options.runs, 0)} not caught).`,
  );
  out.push('');
  out.push(
    `Simulated in ${fmt(w.seconds.earlyWarning, 0)} + ${fmt(w.seconds.adaptiveAudit, 0)} + ${fmt(w.seconds.criticalClass, 0)} s (early warning, adaptive audits, critical class)` +
      (run ? ` by \`${run.command}\`, started ${run.startedAt}; seeded, so the figures repeat exactly.` : '.'),
  );
  return out;
}
