import type { EarlyWarningBenchResult } from './early-warning';
import { benchmarkFigures } from './figures';
import { BenchResults, earlyWarningSection, figureRows, renderMarkdown } from './markdown';

const base: BenchResults = {
  machine: { cpuModel: 'Test CPU', cores: 2, memoryGiB: 8, node: 'v20', kernel: 'Linux 6', os: 'Debian', date: '2026-12-17T00:00:00Z', postgres: null },
  command: 'npm run bench -- --only earlywarning',
  quick: false,
  startedAt: '2026-12-17T00:00:00Z',
  totalSeconds: 90,
  loadStart: '1',
  loadEnd: '1',
  sections: [{ name: 'early warning', seconds: 90 }],
};

const shift = {
  agreement: { before: 0.92, after: 0.86 },
  lowConfidence: { below: 0.7, before: 0.088, after: 0.137 },
  answerMix: { classes: ['a', 'other'], before: [0.9, 0.1], after: [0.85, 0.15], totalVariation: 0.05 },
  klPerItem: 0.0456,
};

function result(delayItems: number | null, daysToRevert: number | null): EarlyWarningBenchResult {
  return {
    options: { runs: 1000, seed: 1 },
    earlyWarning: {
      shift,
      referenceItems: 14_000,
      targetArl0: 500_000,
      delays: [],
      delayItems,
      delayP90: 600,
      missed: 0,
      segmentDays: 2000,
      falseAlarms: 1,
      falseAlarmsPer1000SegmentDays: 0.5,
      boundPer1000SegmentDays: 4,
      components: 136,
      also: [{ name: 'confidence alone', shift: { ...shift, klPerItem: 0.014 }, delayItems: 1300, delayP90: 2000, missed: 0 }],
      naive: { delayItems: 520, missed: 0, falseAlarmsPer1000SegmentDays: 650 },
      perDay: 2000,
      referenceDays: 7,
      warmupItems: 2000,
      naiveRule: { window: 500, every: 50, alpha: 0.05 },
    },
    adaptiveAudit: {
      daysToRevert,
      daysToRevertP90: 3.9,
      daysToRevertFixedShare: 14.1,
      daysToRevertFixedShareP90: 26,
      notRevertedAdaptive: 0,
      notRevertedFixed: 0,
      revertsBeforeDrop: { adaptive: 0, fixed: 0 },
      daysToAlarm: 0.64,
      raisedShare: 0.4,
      auditsToRevert: { adaptive: 530, fixed: 500 },
      falseAlarmCost: { daysRaised: 0.8, daysRaisedP90: 1.6, extraAudits: 190, notCleared: 0 },
      guard: { p0: 0.92, p1: 0.86, h: 11.86 },
      perDay: 700,
      baselineLabels: 4900,
      policy: { baseShare: 0.05, factor: 8, cap: 0.4, clearConfidence: 0.95 },
      labelDelayHours: 6,
      lookEveryMinutes: 30,
      referenceDays: 7,
    },
    criticalClass: {
      delayItems: 680,
      delayP90: 1080,
      missed: 0,
      byRecall: 1000,
      byPrecision: 0,
      overallBefore: 0.919,
      overallAfter: 0.8997,
      breachesBeforeCollapse: 0,
      naive: { delayItems: null, missed: 600 },
      classShares: [0.3, 0.45, 0.2, 0.05],
      recallBefore: 0.9,
      recallAfter: 0.5,
      baselineLabels: 14_000,
      labelsPerLook: 40,
      classDrop: 0.2,
      horizonLabels: 20_000,
    },
    seconds: { earlyWarning: 20, adaptiveAudit: 50, criticalClass: 20 },
  };
}

describe('the early-warning figures in benchmarks.json', () => {
  it('names the keys issue 17 asks for, with runs and the naive rule beside each', () => {
    const f = benchmarkFigures({ ...base, earlyWarning: result(377, 2.5) });
    expect(f.earlyWarning).toMatchObject({
      delayItems: 377,
      falseAlarmsPer1000SegmentDays: 0.5,
      runs: 1000,
      naive: { delayItems: 520, falseAlarmsPer1000SegmentDays: 650 },
    });
    expect(f.adaptiveAudit).toMatchObject({ daysToRevert: 2.5, daysToRevertFixedShare: 14.1, runs: 1000, raisedShare: 0.4, naive: { daysToRevert: 14.1 } });
    expect(f.criticalClass).toMatchObject({ delayItems: 680, runs: 1000, naive: { delayItems: null, missed: 600 } });
    expect(Object.keys(f)).toEqual(['earlyWarning', 'adaptiveAudit', 'criticalClass']);
  });
});

describe('the early-warning section of BENCHMARKS.md', () => {
  it('judges the delay and the days to revert against their targets', () => {
    const status = (r: EarlyWarningBenchResult, start: string) => figureRows({ ...base, earlyWarning: r }).find((x) => x.figure.startsWith(start))?.status;
    expect(status(result(377, 2.5), 'Early warning: items')).toBe('met');
    expect(status(result(501, 2.5), 'Early warning: items')).toBe('MISSED');
    expect(status(result(377, 2.5), 'Early warning: false alarms')).toBe('met');
    expect(status(result(377, 3.1), 'Adaptive audits')).toBe('MISSED');
    expect(status(result(377, null), 'Adaptive audits')).toBe('MISSED');
    expect(status(result(377, 2.5), 'Critical class')).toBe('—');
  });

  it('states the drift it was measured on and the rule each figure replaced', () => {
    const section = earlyWarningSection(result(377, 2.5)).join('\n');
    expect(section).toContain('## Early warning without labels');
    expect(section).toContain('8.8 % to 13.7 %');
    expect(section).toContain('the answer mix moves by 5.0 points');
    expect(section).toContain('The same items with the fixed 5 %: 14.1 days');
    expect(renderMarkdown({ ...base, earlyWarning: result(377, 2.5) })).toContain('| 377 (p90 600) | ≤ 500 |');
  });
});
