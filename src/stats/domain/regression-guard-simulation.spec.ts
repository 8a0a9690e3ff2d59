import { defaultGuardParams, guardArl } from './regression-guard';
import { simulateGuard } from './regression-guard-simulation';

describe('simulateGuard with the default guard at a 0.92 baseline', () => {
  const params = defaultGuardParams(0.92);

  // Figures at these seeds (also written in regression-guard.ts):
  //   one comparison per update: 3 of 1,000 segment-days with a false alarm (0.3 %); drop to 0.82:
  //   median delay 163 comparisons, 95th percentile 311, none missed;
  //   50 comparisons per update: 0.4 %, median 200, 95th percentile 350.
  it('rarely reverts a healthy segment and catches a drop to 0.82 within a few hundred comparisons', () => {
    const result = simulateGuard({
      params,
      seed: 1,
      periods: 1000,
      comparisonsPerPeriod: 2000,
      driftedRate: 0.82,
      detectionRuns: 1000,
      warmup: 500,
    });
    expect(result.falseAlarms.comparisons).toBe(2_000_000);
    expect(result.falseAlarms.share).toBeLessThanOrEqual(0.01);
    expect(result.detection.missed).toBe(0);
    expect(result.detection.medianDelay!).toBeLessThanOrEqual(300);
    expect(result.detection.p95Delay!).toBeLessThanOrEqual(450);
  });

  it('stays within bounds when the guard is updated in batches', () => {
    const result = simulateGuard({
      params,
      seed: 2,
      batchSize: 50,
      periods: 1000,
      comparisonsPerPeriod: 2000,
      driftedRate: 0.82,
      detectionRuns: 1000,
      warmup: 500,
    });
    expect(result.falseAlarms.share).toBeLessThanOrEqual(0.01);
    expect(result.detection.medianDelay!).toBeLessThanOrEqual(300);
  });

  it('can fail: a guard with a low threshold flaps on healthy traffic', () => {
    const result = simulateGuard({
      params: { ...params, h: 3 },
      seed: 3,
      periods: 100,
      comparisonsPerPeriod: 2000,
      driftedRate: 0.82,
      detectionRuns: 10,
    });
    expect(result.falseAlarms.share).toBeGreaterThan(0.5);
  });

  it('matches the Markov-chain ARL for the delay from a zero start', () => {
    const result = simulateGuard({
      params,
      seed: 4,
      periods: 0,
      comparisonsPerPeriod: 0,
      driftedRate: 0.82,
      detectionRuns: 2000,
    });
    expect(Math.abs(result.detection.meanDelay! / guardArl(0.82, params) - 1)).toBeLessThan(0.05);
  });
});
