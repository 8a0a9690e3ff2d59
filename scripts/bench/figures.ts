import { earlyWarningFigures } from './early-warning';
import { judgementFigures } from './judgement';
import type { BenchResults } from './markdown';
import { cpuPerItemMs } from './throughput';

/**
 * benchmarks.json's figures, by section, under the keys the issues name (`throughput.cpuPerItemMs`,
 * `routing.overheadP99Ms`, `reports.p50Ms`, `judgement.gatePassAtTarget`, `earlyWarning.delayItems`, …), each beside its naive
 * baseline of the same run. A section that did not run (or failed) gives no key: bench.ts keeps the
 * figures of the file's last run for it. Pure (unit-tested in figures.spec.ts).
 */
export function benchmarkFigures(r: BenchResults): Record<string, unknown> {
  const out: Record<string, unknown> = {};

  if (r.throughput0) {
    const t = r.throughput0;
    const servicePlusPostgres = cpuPerItemMs(t, [t.serviceCpuSeconds, t.postgresCpuSeconds]);
    out.throughput = {
      itemsPerSecond: t.itemsPerSecond,
      // What the service costs where the model is remote: its own CPU and PostgreSQL's, per item.
      cpuPerItemMs: servicePlusPostgres,
      serviceCpuPerItemMs: cpuPerItemMs(t, [t.serviceCpuSeconds]),
      postgresCpuPerItemMs: cpuPerItemMs(t, [t.postgresCpuSeconds]),
      // Items/s the machine's cores could carry at that CPU per item, the simulator (a stand-in for the remote model) left out.
      ceilingItemsPerSecondWithoutSimulator: servicePlusPostgres === null || servicePlusPostgres === 0 ? null : (r.machine.cores * 1000) / servicePlusPostgres,
      peakRssMiB: t.peakRssMiB,
      items: t.items,
      naive: r.naive0 ? { itemsPerSecond: r.naive0.itemsPerSecond } : null,
    };
  }
  if (r.throughput500) {
    const t = r.throughput500;
    out.latency = {
      itemsPerSecond: t.itemsPerSecond,
      boundItemsPerSecond: t.concurrency / (t.latencyMs / 1000),
      peakRssMiB: t.peakRssMiB,
      naive: r.naive500 ? { itemsPerSecond: r.naive500.itemsPerSecond } : null,
    };
  }
  if (r.scaleOut) {
    const t = r.scaleOut;
    out.scaleOut = {
      twoInstanceRatio: t.twoInstanceRatio,
      takeoverSeconds: t.takeoverSeconds,
      oneInstanceItemsPerSecond: t.oneInstancePerSecond,
      twoInstancesItemsPerSecond: t.twoInstancesPerSecond,
      leaseMs: t.leaseMs,
      drainSeconds: t.drainSeconds,
      lost: t.batch - t.decided,
      doubled: t.doubled,
    };
  }
  if (r.routing) {
    const t = r.routing;
    out.routing = {
      ratePerSecond: t.ratePerSecond,
      overheadP99Ms: t.overheadMs.p99,
      overheadP50Ms: t.overheadMs.p50,
      fromProducedP99Ms: t.fromProducedMs.p99,
      serviceCpuPerItemMs: t.serviceCpuSeconds === null || t.routed === 0 ? null : (t.serviceCpuSeconds * 1000) / t.routed,
      peakRssMiB: t.peakRssMiB,
      naive: r.naiveRouting ? { overheadP99Ms: r.naiveRouting.overheadMs.p99, fromProducedP99Ms: r.naiveRouting.fromProducedMs.p99 } : null,
    };
  }
  if (r.reports) {
    const t = r.reports;
    const reports = t.endpoints.filter((e) => !e.name.startsWith('gate status'));
    const medians = reports.map((e) => e.ms.p50).filter((m): m is number => m !== null);
    const p50Ms = medians.length === reports.length && medians.length > 0 ? Math.max(...medians) : null;
    const storedBytes = Object.values(t.storageBytes).reduce((a, b) => a + b, 0);
    out.reports = {
      comparisons: t.comparisons,
      days: t.days,
      // The slowest report's median (agreement by segment, by day, calibration): the figure judged against 100 ms.
      p50Ms,
      // Only a run over 10,000,000 comparisons answers for the 10 M figure.
      p50Ms10M: t.comparisons >= 10_000_000 ? p50Ms : null,
      p50MsByReport: Object.fromEntries(t.endpoints.map((e) => [e.name, e.ms.p50])),
      rollupBytesPerMillionComparisons: t.comparisons > 0 ? (storedBytes * 1_000_000) / t.comparisons : null,
      storageBytes: t.storageBytes,
      naive: { p50MsByReport: Object.fromEntries(t.naive.map((e) => [e.name, e.ms.p50])) },
    };
  }
  if (r.judgement) {
    const j = r.judgement;
    out.judgement = {
      ...judgementFigures(j),
      runs: j.options.runs,
      naive: {
        gatePassAtTarget: Math.max(...j.gate.scenarios.map((g) => g.naivePassShare)),
        thresholdViolations: j.threshold.naiveViolations,
        guardDelayMedian: j.guard.naiveDelayMedian,
        falseRevertsPer1000SegmentDays: j.guard.naiveFalseRevertsPer1000SegmentDays,
      },
    };
  }
  if (r.earlyWarning) Object.assign(out, earlyWarningFigures(r.earlyWarning));
  return out;
}
