import { benchmarkFigures } from './figures';
import type { BenchResults } from './markdown';
import { distribution } from './stats';
import type { ThroughputResult } from './throughput';

const base: BenchResults = {
  machine: {
    cpuModel: 'Test CPU',
    cores: 2,
    memoryGiB: 8,
    node: 'v20',
    kernel: 'Linux 6',
    os: 'Debian',
    date: '2026-12-01T00:00:00Z',
    postgres: 'PostgreSQL 15',
  },
  command: 'npm run bench',
  quick: false,
  startedAt: '2026-12-01T00:00:00Z',
  totalSeconds: 600,
  loadStart: '1',
  loadEnd: '1',
  sections: [],
};

const throughput: ThroughputResult = {
  name: 'tp0',
  items: 10_000,
  latencyMs: 0,
  concurrency: 64,
  elapsedMs: 5_000,
  itemsPerSecond: 2_000,
  steadyItemsPerSecond: 2_100,
  produceMs: 100,
  decisionsIngest: { count: 10_000, ms: 1_000, perSecond: 10_000 },
  stages: { ingestPerSecond: 3_000, decisionsPerSecond: 2_000, comparisonsPerSecond: 2_000 },
  lagMs: distribution([10, 20]),
  peakRssMiB: 300,
  serviceCpuSeconds: 3,
  simulatorCpuSeconds: 2,
  kafkaCpuSeconds: 1,
  postgresCpuSeconds: 2,
  transactions: 100,
  machineBusySeconds: 9,
  loadBefore: '1',
  loadAfter: '2',
  jobStates: { done: 10_000 },
  logFile: 'x.log',
  cpuProfileDir: null,
};

const reports = (comparisons: number): NonNullable<BenchResults['reports']> => ({
  comparisons,
  days: 30,
  rollupRows: 1,
  confusionRows: 1,
  buildMs: 1,
  rawInsert: { rows: comparisons, ms: 1, perSecond: 1 },
  reportTotalN: comparisons,
  storageBytes: { rollup_minute: 3_000_000, rollup_hour: 1_000_000 },
  endpoints: [
    { name: 'agreement by segment', path: '/a', ms: distribution([40, 60, 80]) },
    { name: 'calibration', path: '/c', ms: distribution([20, 30, 40]) },
    { name: 'gate status: GET segment', path: '/s', ms: distribution([500, 500, 500]) },
  ],
  naive: [{ name: 'agreement by segment', ms: distribution([900]) }],
  loadBefore: '1',
  loadAfter: '1',
});

describe('benchmarks.json figures', () => {
  it('gives CPU per item as service + PostgreSQL (the simulator and Kafka left out) and the ceiling it allows', () => {
    const f = benchmarkFigures({
      ...base,
      throughput0: throughput,
      naive0: { name: 'n', latencyMs: 0, completed: 9, windowMs: 1, itemsPerSecond: 90, loadBefore: '', loadAfter: '' },
    });
    expect(f.throughput).toMatchObject({
      itemsPerSecond: 2_000,
      cpuPerItemMs: 0.5,
      serviceCpuPerItemMs: 0.3,
      postgresCpuPerItemMs: 0.2,
      ceilingItemsPerSecondWithoutSimulator: 4_000,
      naive: { itemsPerSecond: 90 },
    });
  });

  it('gives no CPU figure when a process could not be measured', () => {
    const f = benchmarkFigures({ ...base, throughput0: { ...throughput, postgresCpuSeconds: null } });
    expect(f.throughput).toMatchObject({ cpuPerItemMs: null, ceilingItemsPerSecondWithoutSimulator: null });
  });

  it('judges reports by the slowest report median, and names the 10 M figure only for a 10 M run', () => {
    const small = benchmarkFigures({ ...base, reports: reports(1_000_000) }).reports as Record<string, unknown>;
    expect(small.p50Ms).toBe(60); // the gate-status page is not a report
    expect(small.p50Ms10M).toBeNull();
    expect(small.rollupBytesPerMillionComparisons).toBe(4_000_000);
    const big = benchmarkFigures({ ...base, reports: reports(10_000_000) }).reports as Record<string, unknown>;
    expect(big.p50Ms10M).toBe(60);
    expect(big.rollupBytesPerMillionComparisons).toBe(400_000);
  });

  it('gives the two-instance ratio, the takeover and what the kill lost', () => {
    const scaleOut = {
      latencyMs: 500,
      concurrencyPerInstance: 64,
      itemsPerInstance: 2_000,
      oneInstancePerSecond: 120,
      twoInstancesPerSecond: 228,
      twoInstanceRatio: 1.9,
      leaseMs: 15_000,
      heldAtKill: 90,
      takeoverSeconds: 18,
      drainSeconds: 28,
      batch: 2_000,
      decided: 1_999,
      doubled: 0,
      loadBefore: '1',
      loadAfter: '1',
    };
    expect(benchmarkFigures({ ...base, scaleOut }).scaleOut).toMatchObject({ twoInstanceRatio: 1.9, takeoverSeconds: 18, lost: 1, doubled: 0 });
  });

  it('leaves out the sections that did not run', () => {
    expect(Object.keys(benchmarkFigures(base))).toEqual([]);
  });
});
