import { ClassCounts, classCountsSince, criticalClassName, CriticalClass, recallAndPrecision } from '../../comparison/domain/critical-classes';
import { ClassGuardUpdate, initialClassGuardState, updateClassGuard } from '../../stats/domain';
import type { GuardConfig } from '../../workflows/domain/workflow-definition';
import { armGuard, GuardedStage } from './guard-arming';
import type { ClassGuardEntry } from './segment-state';

/**
 * The critical classes' guards of a segment (stats/domain/class-guard.ts does the arithmetic):
 * armed whenever the segment's stage above shadow has none of its own, each of a class's two
 * streams — blind recall and blind precision — on that stream's blind labels before the stage
 * (guard-arming.ts: the estimate's error is paid in the threshold, never in false breaches; too few
 * labels and the class's target is defended), then fed the class's blind labels of the live arm
 * beyond a watermark, as the overall guard is.
 */

export interface CriticalClassConfig extends CriticalClass {
  minDetectableDrop: number;
  target: number;
}

export interface ClassGuardFacts {
  /** The workflow's critical classes (decision.criticalClasses of the champion). */
  classes: readonly CriticalClassConfig[];
  /** Blind labels per class of the live arm, for items the AI decided since the stage began. */
  stage: ClassCounts;
  /** Blind labels per class of the shadow and supervised arms over the threshold window: the baselines. */
  baseline: ClassCounts;
}

export interface ClassBreach {
  name: string;
  /** Which of the class's streams breached. */
  stream: 'recall' | 'precision';
  update: ClassGuardUpdate;
  windowStartedAt: Date;
}

const squareOf = (c: [number, number, number]): number[][] => [
  // person chose the class / not × AI chose it / not; the cell of neither is never read.
  [c[2], c[0] - c[2]],
  [c[1] - c[2], 0],
];

/** Whether the class guards must be (re-)armed: above shadow, and missing, armed for another stage or for other classes. */
export function classGuardsNeedArming(
  stage: string,
  classes: readonly CriticalClassConfig[],
  entries: Record<string, ClassGuardEntry> | null,
): stage is GuardedStage {
  if (stage !== 'supervised' && stage !== 'confidence-routed') return false;
  if (classes.length === 0) return false;
  if (!entries) return true;
  const names = classes.map(criticalClassName);
  return Object.keys(entries).length !== names.length || names.some((n) => entries[n]?.stage !== stage);
}

/** Arms every class's guard for a stage; the watermark is the live arm's counts so far. */
export function armClassGuards(
  classes: readonly CriticalClassConfig[],
  stage: GuardedStage,
  f: ClassGuardFacts,
  guard: GuardConfig,
  at: Date,
): Record<string, ClassGuardEntry> {
  const out: Record<string, ClassGuardEntry> = {};
  for (const c of classes) {
    const name = criticalClassName(c);
    const streams = recallAndPrecision(f.baseline[name]);
    const config: GuardConfig = { ...guard, minDetectableDrop: c.minDetectableDrop, threshold: undefined };
    const arm = (measured: { n: number; agree: number }) =>
      armGuard({ stage, measured: measured.n > 0 ? measured : null, target: c.target, guard: config, at });
    const recall = arm(streams.recall);
    const precision = arm(streams.precision);
    out[name] = {
      stage,
      params: { recall: recall.params, precision: precision.params },
      state: initialClassGuardState(),
      totals: f.stage[name] ?? [0, 0, 0],
      baseline: { recall: recall.baseline, precision: precision.baseline },
      windowStartedAt: null,
    };
  }
  return out;
}

/**
 * One look: each class's blind labels beyond its watermark. Returns the entries after the look (a
 * breached class starts again from here) and the first breach, if any.
 */
export function observeClassGuards(
  entries: Record<string, ClassGuardEntry>,
  stage: ClassCounts,
  now: Date,
): { entries: Record<string, ClassGuardEntry>; breach: ClassBreach | null } {
  const next: Record<string, ClassGuardEntry> = {};
  let breach: ClassBreach | null = null;
  for (const [name, e] of Object.entries(entries)) {
    const totals = stage[name] ?? [0, 0, 0];
    const batch = classCountsSince({ [name]: totals }, { [name]: e.totals })[name];
    if (batch[0] + batch[1] === 0) {
      next[name] = e;
      continue;
    }
    const u = updateClassGuard(e.state, squareOf(batch), 0, e.params);
    const opened = u.recall.state.s > 0 || u.precision.state.s > 0;
    const windowStartedAt = opened ? (e.windowStartedAt ?? now.toISOString()) : null;
    if (u.breached && !breach) {
      breach = { name, stream: u.breached, update: u, windowStartedAt: new Date(windowStartedAt ?? now.toISOString()) };
      next[name] = { ...e, state: initialClassGuardState(), totals, windowStartedAt: null };
    } else {
      next[name] = { ...e, state: u.state, totals, windowStartedAt };
    }
  }
  return { entries: next, breach };
}

/** The earliest window any class guard has open, for the re-review list (null: none). */
export function earliestClassWindow(entries: Record<string, ClassGuardEntry> | null): Date | null {
  let out: Date | null = null;
  for (const e of Object.values(entries ?? {})) {
    if (e.windowStartedAt && (!out || new Date(e.windowStartedAt) < out)) out = new Date(e.windowStartedAt);
  }
  return out;
}
