import { armGuard } from '../../src/rollout/domain/guard-arming';
import { DEFAULT_AUDIT_POLICY } from '../../src/stats/domain/adaptive-audit';
import {
  AdaptiveAuditOptions,
  AdaptiveAuditResult,
  CriticalClassOptions,
  CriticalClassResult,
  driftedLaw,
  EarlyWarningOptions,
  EarlyWarningResult,
  GuardBuilder,
  simulateAdaptiveAudit,
  simulateCriticalClass,
  simulateEarlyWarning,
  steadyLaw,
  SUPPORT_OTHER,
  URGENT_CLASS_COLLAPSE,
} from '../../src/stats/domain/early-warning-simulation';
import { rolloutSchema } from '../../src/workflows/domain/workflow-definition';

/*
 * The early-warning benchmark (issue 17): how soon label-free monitors see a drift, how rarely they
 * cry wolf, how much sooner a drop is reverted when their alarm raises the audit share, and how soon
 * a rare class's collapse trips its own guard — each beside the rule it would replace, on the same
 * draws. Pure simulation through the project's code (src/stats/domain/early-warning-simulation.ts),
 * the regression guard armed by the controller's own armGuard with the workflow defaults.
 */

export interface EarlyWarningBenchOptions {
  runs: number;
  seed: number;
}

export interface EarlyWarningBenchResult {
  options: EarlyWarningBenchOptions;
  earlyWarning: EarlyWarningResult & { perDay: number; referenceDays: number; warmupItems: number; naiveRule: EarlyWarningOptions['naive'] };
  adaptiveAudit: AdaptiveAuditResult &
    Pick<AdaptiveAuditOptions, 'perDay' | 'baselineLabels' | 'policy' | 'labelDelayHours' | 'lookEveryMinutes' | 'referenceDays'>;
  criticalClass: CriticalClassResult &
    Pick<CriticalClassOptions, 'classShares' | 'recallBefore' | 'recallAfter' | 'baselineLabels' | 'labelsPerLook' | 'classDrop' | 'horizonLabels'>;
  seconds: { earlyWarning: number; adaptiveAudit: number; criticalClass: number };
}

/** The workflow defaults of the regression guard (rollout.guard in a workflow file). */
const GUARD = rolloutSchema.shape.guard.parse(undefined);
/** The threshold's accuracy target: what a confidence-routed guard defends when nothing is measured. */
const ACCURACY_TARGET = rolloutSchema.shape.accuracyTarget.parse(undefined);

/** The guard as the controller arms it at confidence-routed (guard-arming.ts), tuned to `drop`. */
const productionGuard: GuardBuilder = ({ measured, target, drop }) =>
  armGuard({ stage: 'confidence-routed', measured, target, guard: { ...GUARD, minDetectableDrop: drop }, at: new Date(0) }).params;

export function simulateEarlyWarningBench(o: EarlyWarningBenchOptions, log: (line: string) => void = () => undefined): EarlyWarningBenchResult {
  const before = steadyLaw(0.92);
  const after = driftedLaw(0.92, 0.86, SUPPORT_OTHER);
  const timed = <T>(name: string, fn: () => T): [T, number] => {
    const t = Date.now();
    const r = fn();
    const s = (Date.now() - t) / 1000;
    log(`   ${name}: ${s.toFixed(1)} s`);
    return [r, s];
  };

  const ew = {
    seed: o.seed,
    runs: o.runs,
    bins: 10,
    perDay: 2000,
    referenceDays: 7,
    warmupItems: 2000,
    horizonItems: 20_000,
    falseAlarmDaysPerRun: 2,
    before,
    after,
    alsoAfter: [{ name: 'the same drop, its errors spread evenly over the classes (confidence alone moves)', after: driftedLaw(0.92, 0.86, null) }],
    naive: { window: 500, every: 50, alpha: 0.05 },
  } satisfies EarlyWarningOptions;
  const [earlyWarning, ewSeconds] = timed('early warning', () => simulateEarlyWarning(ew));

  const aa = {
    seed: o.seed + 1,
    runs: o.runs,
    bins: 10,
    perDay: 700,
    referenceDays: 7,
    // The guard's baseline: a week of this segment's items, every one labelled blind (as in shadow).
    baselineLabels: 4900,
    target: ACCURACY_TARGET,
    drop: GUARD.minDetectableDrop,
    policy: DEFAULT_AUDIT_POLICY,
    labelDelayHours: 6,
    lookEveryMinutes: 30,
    warmupDays: 1,
    horizonDays: 60,
    before,
    after,
    guardFor: productionGuard,
  } satisfies AdaptiveAuditOptions;
  const [adaptiveAudit, aaSeconds] = timed('adaptive audits', () => simulateAdaptiveAudit(aa));

  const cc = {
    seed: o.seed + 2,
    runs: o.runs,
    ...URGENT_CLASS_COLLAPSE,
    horizonLabels: 20_000,
    overallDrop: GUARD.minDetectableDrop,
    target: ACCURACY_TARGET,
    guardFor: productionGuard,
  } satisfies CriticalClassOptions;
  const [criticalClass, ccSeconds] = timed('critical class', () => simulateCriticalClass(cc));

  return {
    options: o,
    earlyWarning: { ...earlyWarning, perDay: ew.perDay, referenceDays: ew.referenceDays, warmupItems: ew.warmupItems, naiveRule: ew.naive },
    adaptiveAudit: {
      ...adaptiveAudit,
      perDay: aa.perDay,
      baselineLabels: aa.baselineLabels,
      policy: aa.policy,
      labelDelayHours: aa.labelDelayHours,
      lookEveryMinutes: aa.lookEveryMinutes,
      referenceDays: aa.referenceDays,
    },
    criticalClass: {
      ...criticalClass,
      classShares: cc.classShares,
      recallBefore: cc.recallBefore,
      recallAfter: cc.recallAfter,
      baselineLabels: cc.baselineLabels,
      labelsPerLook: cc.labelsPerLook,
      classDrop: cc.classDrop,
      horizonLabels: cc.horizonLabels,
    },
    seconds: { earlyWarning: ewSeconds, adaptiveAudit: aaSeconds, criticalClass: ccSeconds },
  };
}

/** The figure keys of benchmarks.json that this section owns, each with its naive rule beside it. */
export function earlyWarningFigures(r: EarlyWarningBenchResult): Record<string, unknown> {
  const e = r.earlyWarning;
  const a = r.adaptiveAudit;
  const c = r.criticalClass;
  return {
    earlyWarning: {
      delayItems: e.delayItems,
      falseAlarmsPer1000SegmentDays: e.falseAlarmsPer1000SegmentDays,
      runs: r.options.runs,
      segmentDays: e.segmentDays,
      boundPer1000SegmentDays: e.boundPer1000SegmentDays,
      delayItemsConfidenceAlone: e.also[0]?.delayItems ?? null,
      shift: {
        agreement: e.shift.agreement,
        lowConfidenceShare: { below: e.shift.lowConfidence.below, before: e.shift.lowConfidence.before, after: e.shift.lowConfidence.after },
        answerMixTotalVariation: e.shift.answerMix.totalVariation,
        klPerItem: e.shift.klPerItem,
      },
      naive: { delayItems: e.naive.delayItems, falseAlarmsPer1000SegmentDays: e.naive.falseAlarmsPer1000SegmentDays },
    },
    adaptiveAudit: {
      daysToRevert: a.daysToRevert,
      daysToRevertFixedShare: a.daysToRevertFixedShare,
      runs: r.options.runs,
      raisedShare: a.raisedShare,
      daysToAlarm: a.daysToAlarm,
      falseAlarmDaysRaised: a.falseAlarmCost.daysRaised,
      naive: { daysToRevert: a.daysToRevertFixedShare },
    },
    criticalClass: {
      delayItems: c.delayItems,
      runs: r.options.runs,
      overallAgreement: { before: c.overallBefore, after: c.overallAfter },
      naive: { delayItems: c.naive.delayItems, missed: c.naive.missed },
    },
  };
}
