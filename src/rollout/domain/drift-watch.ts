import { MONITOR_CONFIDENCE_BINS } from '../../comparison/domain/rollup';
import {
  AdaptiveAuditPolicy,
  allClearBound,
  decisionCells,
  DecisionCells,
  decisionDirections,
  DriftMonitorParams,
  driftMonitorParams,
  DriftMonitorState,
  GuardParams,
  initialAuditState,
  initialDriftState,
  observeAudits,
  raiseAudits,
  updateDriftMonitor,
} from '../../stats/domain';
import type { AdaptiveAuditState, DriftReading } from '../../stats/domain';
import type { GuardedStage } from './guard-arming';

/**
 * The label-free early warning of a segment's stage above shadow: a drift monitor
 * (stats/domain/drift-monitor.ts) over the AI's decisions — confidence bin × answer on the label
 * field, every valid answer counts, no label needed — against the decisions of the window the stage
 * was promoted on; and the adaptive audits its alarm starts (stats/domain/adaptive-audit.ts): the
 * segment's blind share (audits at confidence-routed, blind labels at supervised) multiplied until
 * the blind labels since the alarm rule out the drop the regression guard is tuned for, or the guard
 * reverts. After an all-clear the distribution has moved while quality has not, so the reference is
 * taken again from the next items.
 *
 * The monitor's false alarms: at most one per targetArl0 items in the long run, whatever the
 * controller's look frequency (the e-detector's guarantee, conditional on the reference's bounds
 * holding with probability referenceConfidence).
 */

export interface DriftWatchConfig {
  enabled: boolean;
  targetArl0: number;
  /** Fewest reference decisions; with fewer before the stage, its first decisions complete the reference. */
  minReference: number;
  /** The blind share is multiplied by this after an alarm, up to auditCap. */
  auditFactor: number;
  auditCap: number;
  /** Promotions wait while the raised share is in force. */
  holdPromotions: boolean;
}

/** The answer a decision cell names when it is not among the label field's values (or there is no label field). */
export const OTHER_ANSWER = '(other)';

export interface DriftWatch {
  stage: GuardedStage;
  answers: string[];
  /** Decisions per cell of the reference. */
  reference: number[];
  /** Null while the reference is still being collected. */
  params: DriftMonitorParams | null;
  state: DriftMonitorState | null;
  /** The stage's decisions per cell key when last looked at: the next look counts what came after. */
  watermark: Record<string, number>;
  /** The adaptive audit: raised by an alarm, with the stage's blind labels at the last look. */
  audit: AdaptiveAuditState;
  blindWatermark: { n: number; agree: number };
  raisedAt: string | null;
  /** The last look's numbers, for people. */
  last: { n: number; statistic: number | null; threshold: number; leading: DriftReading['leading'] } | null;
}

export interface DriftFacts {
  /** The label field's values (its enum); decisions with other answers count as OTHER_ANSWER. */
  answers: string[];
  /** Valid decisions per cell key (comparison/domain/rollup.ts decisionCellKey) since the stage began. */
  stageCells: Record<string, number>;
  /** Valid decisions per cell key over the window before the stage began (read when arming only). */
  referenceCells: Record<string, number> | null;
}

export interface DriftLook {
  watch: DriftWatch;
  /** The monitor alarmed at this look (the share was raised if it was not already). */
  alarm: DriftReading | null;
  /** The raised share went back to the base share at this look. */
  cleared: { n: number; agree: number; lowerBound: number | null; needed: number } | null;
}

export function cellsFor(answers: readonly string[]): DecisionCells {
  return decisionCells(MONITOR_CONFIDENCE_BINS, [...answers, OTHER_ANSWER]);
}

/** Counts per cell key as a vector over the cells. */
export function cellVector(cells: DecisionCells, counts: Record<string, number>): number[] {
  const out = new Array<number>(cells.bins * cells.answers.length).fill(0);
  const other = cells.answers.length - 1;
  for (const [key, n] of Object.entries(counts)) {
    const sep = key.indexOf('|');
    const bin = Number(key.slice(0, sep));
    if (!(Number.isInteger(bin) && bin >= 0 && bin < cells.bins)) continue;
    const i = cells.answers.indexOf(key.slice(sep + 1));
    out[bin * cells.answers.length + (i === -1 || i === other ? other : i)] += n;
  }
  return out;
}

function since(totals: Record<string, number>, base: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(totals)) {
    const d = v - (base[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

const total = (v: readonly number[]) => v.reduce((a, b) => a + b, 0);

/** The auditing factor routing applies (null: the base share). */
export function auditFactorOf(watch: DriftWatch | null, config: DriftWatchConfig): number | null {
  return watch?.audit.raised ? config.auditFactor : null;
}

export function driftNeedsArming(stage: string, watch: DriftWatch | null, config: DriftWatchConfig): stage is GuardedStage {
  return config.enabled && (stage === 'supervised' || stage === 'confidence-routed') && (!watch || watch.stage !== stage);
}

function start(reference: number[], cells: DecisionCells, config: DriftWatchConfig): Pick<DriftWatch, 'params' | 'state'> {
  if (total(reference) < config.minReference) return { params: null, state: null };
  const params = driftMonitorParams({ cells: cells.names, reference, directions: decisionDirections(cells, reference), targetArl0: config.targetArl0 });
  return { params, state: initialDriftState(params) };
}

/** Arms a stage's monitor on the decisions before it; the stage's decisions so far are the watermark. */
export function armDrift(stage: GuardedStage, f: DriftFacts, blind: { n: number; agree: number }, config: DriftWatchConfig): DriftWatch {
  const cells = cellsFor(f.answers);
  const reference = cellVector(cells, f.referenceCells ?? {});
  return {
    stage,
    answers: [...f.answers],
    reference,
    ...start(reference, cells, config),
    watermark: { ...f.stageCells },
    audit: initialAuditState(),
    blindWatermark: blind,
    raisedAt: null,
    last: null,
  };
}

/**
 * One look: the decisions since the last one into the monitor (or into the reference while it is
 * collected), and the blind labels since the last one into the all-clear. `guard` is the stage's
 * regression guard: the all-clear rules out its drop (its p1).
 */
export function lookDrift(
  w: DriftWatch,
  f: DriftFacts,
  blind: { n: number; agree: number },
  guard: GuardParams | null,
  policy: AdaptiveAuditPolicy,
  config: DriftWatchConfig,
  now: Date,
): DriftLook {
  const cells = cellsFor(w.answers);
  const batch = cellVector(cells, since(f.stageCells, w.watermark));
  let next: DriftWatch = { ...w, watermark: { ...f.stageCells }, blindWatermark: blind };
  let alarm: DriftReading | null = null;
  let cleared: DriftLook['cleared'] = null;

  // The all-clear first: the labels since the last look, about items decided after the raise.
  if (w.audit.raised && guard) {
    const labels = { n: Math.max(0, blind.n - w.blindWatermark.n), agree: Math.max(0, blind.agree - w.blindWatermark.agree) };
    labels.agree = Math.min(labels.agree, labels.n);
    const u = observeAudits(w.audit, labels, policy, guard);
    if (u.cleared) {
      cleared = allClearBound({ ...w.audit, n: w.audit.n + labels.n, agree: w.audit.agree + labels.agree }, policy, guard);
      // Quality held while the distribution moved: the next items are the new reference.
      const reference = new Array<number>(batch.length).fill(0);
      next = { ...next, audit: u.state, raisedAt: null, reference, params: null, state: null };
      return { watch: next, alarm, cleared };
    }
    next = { ...next, audit: u.state };
  }

  if (!next.params || !next.state) {
    const reference = next.reference.map((v, i) => v + batch[i]);
    next = { ...next, reference, ...start(reference, cells, config) };
    return { watch: next, alarm, cleared };
  }
  if (total(batch) === 0) return { watch: next, alarm, cleared };
  const params = next.params;
  const reading = updateDriftMonitor(next.state, batch, params);
  next = { ...next, state: reading.state, last: { n: reading.n, statistic: reading.statistic, threshold: reading.threshold, leading: reading.leading } };
  if (reading.alarm) {
    alarm = reading;
    // Acted on: the monitor starts again (its guarantee is per run), the share is raised once.
    next = { ...next, state: initialDriftState(params) };
    if (!next.audit.raised) next = { ...next, audit: raiseAudits(), raisedAt: now.toISOString() };
  }
  return { watch: next, alarm, cleared };
}
