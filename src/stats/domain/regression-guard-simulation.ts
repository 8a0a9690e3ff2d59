import { seededRandom } from './random';
import { GuardParams, initialGuardState, updateGuard } from './regression-guard';

/**
 * Monte-Carlo measurement of the regression guard: how often it reverts a healthy segment, and how
 * fast it catches a real drop. Used by the spec at a small size and by the benchmark at full size;
 * every run is reproducible from its seed. The guard is driven through `updateGuard` itself, with
 * batches as the controller would send them.
 */
export interface GuardSimulationOptions {
  params: GuardParams;
  seed: number;
  /** Comparisons per guard update (default 1). */
  batchSize?: number;
  /** True agreement rate while nothing is wrong (default params.p0). */
  inControlRate?: number;
  /** False alarms: number of periods (e.g. segment-days) and comparisons in each. */
  periods: number;
  comparisonsPerPeriod: number;
  /** Detection: the agreement rate after the drop, and how many independent drops to simulate. */
  driftedRate: number;
  detectionRuns: number;
  /** Comparisons at the in-control rate before each drop (default 0: the drop starts at once). */
  warmup?: number;
  /** A drop not detected within this many comparisons counts as missed (default 100,000). */
  maxDelay?: number;
}

export interface GuardSimulationResult {
  falseAlarms: {
    periods: number;
    comparisons: number;
    alarms: number;
    periodsWithAlarm: number;
    /** Share of periods with at least one alarm. */
    share: number;
  };
  detection: {
    runs: number;
    missed: number;
    /** Comparisons from the drop to the end of the batch that raised the alarm (detected runs only). */
    medianDelay: number | null;
    p95Delay: number | null;
    meanDelay: number | null;
  };
}

export function simulateGuard(options: GuardSimulationOptions): GuardSimulationResult {
  const { params, periods, comparisonsPerPeriod, driftedRate, detectionRuns } = options;
  const batchSize = options.batchSize ?? 1;
  const inControlRate = options.inControlRate ?? params.p0;
  const warmup = options.warmup ?? 0;
  const maxDelay = options.maxDelay ?? 100_000;
  const random = seededRandom(options.seed);

  const drawBatch = (size: number, rate: number) => {
    let agree = 0;
    for (let i = 0; i < size; i++) if (random.next() < rate) agree++;
    return { n: size, agree };
  };

  // False alarms: one continuous stream; after an alarm the segment is reverted and resumed,
  // which starts the guard afresh.
  let state = initialGuardState();
  let alarms = 0;
  let periodsWithAlarm = 0;
  for (let period = 0; period < periods; period++) {
    let alarmed = false;
    for (let done = 0; done < comparisonsPerPeriod; done += batchSize) {
      const update = updateGuard(state, drawBatch(Math.min(batchSize, comparisonsPerPeriod - done), inControlRate), params);
      state = update.state;
      if (update.breached) {
        alarms++;
        alarmed = true;
        state = initialGuardState();
      }
    }
    if (alarmed) periodsWithAlarm++;
  }

  // Detection delay: warm up in control (restarting after any false alarm there), then drop.
  const delays: number[] = [];
  let missed = 0;
  for (let run = 0; run < detectionRuns; run++) {
    state = initialGuardState();
    for (let done = 0; done < warmup; done += batchSize) {
      const update = updateGuard(state, drawBatch(Math.min(batchSize, warmup - done), inControlRate), params);
      state = update.breached ? initialGuardState() : update.state;
    }
    let delay = 0;
    let detected = false;
    while (delay < maxDelay) {
      const update = updateGuard(state, drawBatch(batchSize, driftedRate), params);
      state = update.state;
      delay += batchSize;
      if (update.breached) {
        detected = true;
        break;
      }
    }
    if (detected) delays.push(delay);
    else missed++;
  }
  delays.sort((a, b) => a - b);

  return {
    falseAlarms: {
      periods,
      comparisons: periods * comparisonsPerPeriod,
      alarms,
      periodsWithAlarm,
      share: periods === 0 ? 0 : periodsWithAlarm / periods,
    },
    detection: {
      runs: detectionRuns,
      missed,
      medianDelay: quantile(delays, 0.5),
      p95Delay: quantile(delays, 0.95),
      meanDelay: delays.length === 0 ? null : delays.reduce((s, v) => s + v, 0) / delays.length,
    },
  };
}

/** The q-quantile of sorted values (the smallest value with at least q of the values at or below it). */
function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
