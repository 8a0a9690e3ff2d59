import { confidenceBinIndex } from '../../src/stats/domain/calibration';
import { seededRandom } from '../../src/stats/domain/random';
import { recommendThreshold } from '../../src/stats/domain/threshold';
import { quantile } from './stats';

/**
 * The confidence threshold's guarantee, by simulation: labelled outcomes are drawn from a model whose
 * true accuracy above every threshold is known; the threshold is chosen from them by
 * `recommendThreshold` (fixed-sequence testing, with the workflow's target and δ) and by the naive
 * rule (the lowest threshold whose observed accuracy above it meets the target); a run fails when
 * the true accuracy above the chosen threshold is below the target. The promise is P(fail) ≤ δ.
 */
export interface ThresholdBenchOptions {
  target: number;
  delta: number;
  minCount: number;
  runs: number;
  labelsPerRun: number;
  seed: number;
  bins?: number;
}

export interface ThresholdScenarioResult {
  scenario: string;
  /** Share of runs whose chosen threshold breaks the promise (true accuracy above it < target). */
  certifiedFailShare: number;
  naiveFailShare: number;
  /** Share of runs where a threshold was chosen at all. */
  certifiedShare: number;
  naiveShare: number;
  /** Median share of items at or above the chosen threshold (runs that chose one). */
  certifiedCoverageP50: number | null;
  naiveCoverageP50: number | null;
}

interface Scenario {
  name: string;
  /** P(correct | confidence c), confidence ~ Uniform(0, 1). */
  accuracy: (c: number) => number;
  /** The true accuracy of items with confidence ≥ λ. */
  trueAbove: (lambda: number) => number;
}

export const THRESHOLD_SCENARIOS: Scenario[] = [
  {
    // 0.894 at λ = 0.60 (below a 0.9 target), 0.905 at 0.65: any choice ≤ 0.60 breaks the promise.
    name: 'accuracy rises with confidence: 0.55 + 0.43·c',
    accuracy: (c) => 0.55 + 0.43 * c,
    trueAbove: (l) => 0.55 + (0.43 * (1 + l)) / 2,
  },
  {
    // Every threshold is below a 0.9 target: certifying anything breaks the promise.
    name: 'no threshold is good enough: 0.895 everywhere',
    accuracy: () => 0.895,
    trueAbove: () => 0.895,
  },
];

export function simulateThresholds(o: ThresholdBenchOptions): ThresholdScenarioResult[] {
  const bins = o.bins ?? 20;
  return THRESHOLD_SCENARIOS.map((sc, k) => {
    const random = seededRandom(o.seed + k);
    let certifiedFail = 0;
    let naiveFail = 0;
    let certified = 0;
    let naiveChosen = 0;
    const certifiedCoverage: number[] = [];
    const naiveCoverage: number[] = [];
    for (let run = 0; run < o.runs; run++) {
      const n = new Array<number>(bins).fill(0);
      const correct = new Array<number>(bins).fill(0);
      for (let i = 0; i < o.labelsPerRun; i++) {
        const c = random.next();
        const bin = confidenceBinIndex(c, bins);
        n[bin]++;
        if (random.bernoulli(sc.accuracy(c))) correct[bin]++;
      }
      const rec = recommendThreshold({ n, correct, target: o.target, delta: o.delta, minCount: o.minCount });
      if (rec.threshold !== null) {
        certified++;
        certifiedCoverage.push(rec.coverage ?? 0);
        if (sc.trueAbove(rec.threshold) < o.target) certifiedFail++;
      }
      // Naive: the lowest edge whose observed accuracy above it meets the target (with as many labels as the test needs).
      let naive: number | null = null;
      let naiveN = 0;
      let above = 0;
      let correctAbove = 0;
      for (let bin = bins - 1; bin >= 0; bin--) {
        above += n[bin];
        correctAbove += correct[bin];
        if (above >= o.minCount && correctAbove / above >= o.target) {
          naive = bin / bins;
          naiveN = above;
        }
      }
      if (naive !== null) {
        naiveChosen++;
        naiveCoverage.push(naiveN / o.labelsPerRun);
        if (sc.trueAbove(naive) < o.target) naiveFail++;
      }
    }
    return {
      scenario: sc.name,
      certifiedFailShare: certifiedFail / o.runs,
      naiveFailShare: naiveFail / o.runs,
      certifiedShare: certified / o.runs,
      naiveShare: naiveChosen / o.runs,
      certifiedCoverageP50: quantile(certifiedCoverage, 0.5),
      naiveCoverageP50: quantile(naiveCoverage, 0.5),
    };
  });
}
