import type { Actor } from '../../audit/domain/actor';
import type { Arm, ArmEvidence } from '../../comparison/domain/evidence';
import { DomainError, ErrorCode } from '../../common/domain-error';
import type { SegmentSplit } from '../../flags/domain/segment-split';
import { DEFAULT_AUDIT_POLICY, GuardParams, GuardUpdate, initialGuardState, ParityPair, recommendThreshold, updateGuard } from '../../stats/domain';
import type { RolloutConfig } from '../../workflows/domain/workflow-definition';
import { CrossSegmentControl, evaluateStep, StepEvaluation, StepEvidence } from './evaluate-segment';
import { armClassGuards, ClassBreach, ClassGuardFacts, classGuardsNeedArming, earliestClassWindow, observeClassGuards } from './class-guards';
import { armGuard, GuardBaseline, GuardedStage, needsArming, rereviewFrom } from './guard-arming';
import { raisedShare } from '../../routing/domain/blind-share';
import { armDrift, auditFactorOf, DriftFacts, driftNeedsArming, lookDrift } from './drift-watch';
import { evaluateGuardrails, GuardrailBreach, GuardrailEvaluation, GuardrailTotals, RegressionPolicy, restartGuardrail } from './guardrails';
import type { FlagChange } from './reconcile';
import { SegmentCounts, since, ZERO_COUNTS } from './segment-counts';
import type { PauseKind, SegmentState } from './segment-state';
import { describeSplit, nextStep, revertTarget, sameSplit } from './steps';
import { nextThreshold } from './threshold-policy';

/**
 * A segment's decisions as one state machine. Every transition — promote, revert, adopt an
 * operator's change, hold, resume, approve, fix a threshold, observe the guard, refresh the
 * threshold, and the controller's whole cycle — is a pure function of the segment's state and the
 * facts loaded for it, returning the next state with the effects to apply: the row's patch, audit
 * entries, alerts, the flag write and the re-review list. The Nest services load the facts,
 * call one of these, and apply the result once (rollout/segment-decisions.ts).
 */

export const CONTROLLER: Actor = { name: 'controller', kind: 'controller' };
export const OPERATOR: Actor = { name: 'unleash', kind: 'operator' };

export interface AuditDraft {
  actor: string;
  actorKind: Actor['kind'];
  action: string;
  workflow: string;
  segment: string | null;
  reason: string;
  details: Record<string, unknown>;
}

export interface AlertDraft {
  kind: string;
  workflow?: string;
  segment?: string;
  summary: string;
  details: Record<string, unknown>;
  /** The revert's alert: carries how many `auto` decisions went to re-review and the revert's audit id. */
  withRereview?: true;
}

export interface Effects {
  /** The segment row's change (empty for a workflow-level change). */
  patch: Partial<SegmentState>;
  /** Appended in order. */
  audit: AuditDraft[];
  alerts: AlertDraft[];
  /** The split to write to the segment's strategy in Unleash, or null. */
  flagWrite: SegmentSplit | null;
  /** `auto` decisions from this time on go to re-review, tied to the audit entry at auditIndex. */
  rereview: { from: Date; auditIndex: number } | null;
}

export interface Decision {
  state: SegmentState;
  effects: Effects;
}

/** What a transition needs to know beyond the segment's row, loaded in the same transaction. */
export interface SegmentFacts {
  now: Date;
  /** The champion version the facts are of, and its rollout. */
  version: number;
  rollout: RolloutConfig;
  /** Rollup totals of the version since the stage began (model calls and failures), and since the current minute (a stage starting now). */
  stageTotals: SegmentCounts;
  minuteTotals: SegmentCounts;
  /** Labels of the arm at the segment's stage, for items the AI decided since the stage began and since the step began. */
  stageEvidence: ArmEvidence;
  stepEvidence: ArmEvidence;
  /** Blind labels per arm of items the AI decided in the current minute: the watermark of a guard starting now. */
  minuteEvidence: Record<Arm, { blindN: number; blindAgree: number }>;
  /** Blind labels of the shadow and supervised arms over the threshold window: a supervised guard's baseline. */
  supervisedBaseline: { n: number; agree: number };
  /** The earliest AI decision labelled since the guard's window opened (guardWindowStart), for the re-review list. */
  earliestLabelledInWindow: Date | null;
  /** The calibration set since calibrationFrom: blind labels drawn alike at every confidence, per bin. */
  calibration: { n: number[]; correct: number[] };
  /** Blind audits of the confidence-routed arm since the threshold in force took effect (null: no threshold). */
  auditsAbove: { n: number; agree: number } | null;
  /** Blind double-labelled items over the threshold window, in the order they became known (null: no gate asks for human parity). */
  parityPairs: ParityPair[] | null;
  /** The critical classes' blind labels (null: the workflow names none); see domain/class-guards.ts. */
  critical: ClassGuardFacts | null;
  /** The live stage's model calls since it began (null: in shadow, or no guardrail configured); see domain/guardrails.ts. */
  guardrailTotals: GuardrailTotals | null;
  /** The AI's decisions for the label-free drift monitor (null: in shadow, or monitors off); see domain/drift-watch.ts. */
  drift: DriftFacts | null;
}

/** What the controller knows beyond the segment: Unleash, the kill switch and the budget. */
export interface CycleContext {
  /** The workflow flag as read from Unleash this cycle; null when Unleash did not answer. */
  live: { exists: boolean; enabled: boolean } | null;
  /** Whether the workflow's flag has a strategy for this segment. */
  hasStrategy: boolean;
  killSwitchOn: boolean;
  budget: { ok: boolean } & Record<string, unknown>;
  /** With falsePromotionControl e-bh: this segment's place in e-BH across the workflow's segments. */
  crossSegment?: CrossSegmentControl | null;
}

export interface CycleDecision extends Decision {
  /** The gate's evaluation when the cycle got that far (not after a revert). */
  evaluation: StepEvaluation | null;
}

/** Accumulates a transition: the state as it changes and the effects that get it there. */
class Transition {
  readonly state: SegmentState;
  readonly effects: Effects = { patch: {}, audit: [], alerts: [], flagWrite: null, rereview: null };

  constructor(s: SegmentState) {
    this.state = { ...s };
  }

  set(patch: Partial<SegmentState>): void {
    Object.assign(this.state, patch);
    Object.assign(this.effects.patch, patch);
  }

  audit(actor: Actor, action: string, reason: string, details: Record<string, unknown>): number {
    this.effects.audit.push({ actor: actor.name, actorKind: actor.kind, action, workflow: this.state.workflow, segment: this.state.segment, reason, details });
    return this.effects.audit.length - 1;
  }

  alert(a: Omit<AlertDraft, 'workflow' | 'segment'>): void {
    this.effects.alerts.push({ ...a, workflow: this.state.workflow, segment: this.state.segment });
  }

  done(): Decision {
    return { state: this.state, effects: this.effects };
  }
}

const splitOf = (s: SegmentState): SegmentSplit => ({ stage: s.stage, trafficPct: s.trafficPct });
const iso = (d: Date | string): string => new Date(d).toISOString();

/** When the guard's current window opened (or opens, if this look leaves zero): what the re-review list is computed from. */
export function guardWindowStart(s: SegmentState): Date {
  if (s.guardState && s.guardState.s > 0 && s.guardWindowStartedAt) return new Date(s.guardWindowStartedAt);
  return new Date(s.lastEvaluatedAt ?? s.stageStartedAt);
}

/** The earliest window any guard (overall or a critical class's) has open: where the re-review list's search for labelled decisions starts. */
export function evidenceWindowStart(s: SegmentState): Date {
  const overall = guardWindowStart(s);
  const classes = earliestClassWindow(s.classGuards);
  return classes && classes < overall ? classes : overall;
}

/** Where the threshold's calibration set starts: the window, or the last withdrawal by audits if later. */
export function calibrationFrom(s: SegmentState, rollout: RolloutConfig, now: Date): Date {
  const windowFrom = now.getTime() - rollout.thresholdWindowDays * 86_400_000;
  const previous = s.thresholdDetails as { calibrationFrom?: string | null } | null;
  return new Date(Math.max(windowFrom, previous?.calibrationFrom ? new Date(previous.calibrationFrom).getTime() : 0));
}

/** Arms a stage's guard on the blind evidence of the kind it will watch (domain/guard-arming.ts). */
function armFor(s: SegmentState, stage: GuardedStage, f: SegmentFacts): { params: GuardParams; baseline: GuardBaseline } {
  const r = f.rollout;
  if (stage === 'supervised') {
    return armGuard({ stage, measured: f.supervisedBaseline, target: r.gates.supervised.agreementTarget, guard: r.guard, at: f.now });
  }
  const d = s.thresholdDetails as { threshold?: number | null; nAbove?: number | null; correctAbove?: number | null } | null;
  const certified =
    s.thresholdSource === 'computed' &&
    s.threshold !== null &&
    d?.threshold === s.threshold &&
    !!d.nAbove &&
    d.correctAbove !== null &&
    d.correctAbove !== undefined;
  return armGuard({ stage, measured: certified ? { n: d!.nAbove!, agree: d!.correctAbove! } : null, target: r.accuracyTarget, guard: r.guard, at: f.now });
}

/** A fresh guard state whose watermark is the blind evidence its arm already has. */
function watermark(e: { blindN: number; blindAgree: number }): NonNullable<SegmentState['guardState']> {
  return { ...initialGuardState(), totalsN: e.blindN, totalsAgree: e.blindAgree };
}

interface MoveOptions {
  actor: Actor;
  action: string;
  reason: string;
  details: Record<string, unknown>;
  pause?: { kind: PauseKind; reason: string };
}

/**
 * Moves a segment to a split: the flag is written, the step restarts, and a new stage starts its
 * guard afresh — armed at once above shadow, whoever made the move. Returns the audit entry's index.
 */
function moveTo(t: Transition, to: SegmentSplit, f: SegmentFacts, o: MoveOptions): number {
  const s = t.state;
  const from = splitOf(s);
  const stageChanged = from.stage !== to.stage;
  const totals = stageChanged ? f.minuteTotals : f.stageTotals;
  const rangeStart = stageChanged ? f.now : new Date(s.stageStartedAt);
  // Stored first: routing obeys the stored stage at once; the flag write is owed until Unleash confirms it.
  t.effects.flagWrite = to;
  t.set({
    stage: to.stage,
    trafficPct: to.stage === 'shadow' ? 100 : to.trafficPct,
    stepStartedAt: f.now,
    stepBase: { ...totals, rangeStart: iso(rangeStart) },
    flagSplit: { ...to, pending: true },
    pendingStep: null,
    approvedStep: null,
    lastVerdict: null, // it judged the step that ended; the next cycle judges this one
  });
  let armed: Record<string, unknown> | null = null;
  if (stageChanged) {
    // The critical classes' guards are armed at the next look, watermarked on the new stage's evidence then.
    t.set({
      stageStartedAt: f.now,
      guardState: watermark(f.minuteEvidence[to.stage]),
      guardWindowStartedAt: null,
      guardParams: null,
      baseline: null,
      classGuards: null,
      guardrailState: null,
      driftMonitor: null,
      auditFactor: null,
    });
    if (to.stage !== 'shadow') {
      const g = armFor(t.state, to.stage, f);
      t.set({ guardParams: g.params, baseline: g.baseline });
      armed = { baseline: g.baseline, params: g.params };
    }
  }
  if (o.pause) t.set({ paused: true, pauseKind: o.pause.kind, pauseReason: o.pause.reason, pausedAt: f.now, pausedBy: o.actor.name });
  return t.audit(o.actor, o.action, o.reason, {
    from,
    to,
    fromText: describeSplit(from),
    toText: describeSplit(to),
    ...o.details,
    ...(armed ? { armedGuard: armed } : {}),
  });
}

/** The segment that pools the attribute values beyond the workflow's segment bound (ingest/domain/segment-cap.ts). */
function isOverflow(s: SegmentState, rollout: RolloutConfig): boolean {
  return s.segment === rollout.overflowSegment;
}

function overflowReason(rollout: RolloutConfig): string {
  return `the overflow segment pools the values beyond the workflow's ${rollout.maxSegments} segments and stays in shadow`;
}

// ---------------------------------------------------------------- people's actions

/** One step up on a program manager's word: only when the gate of this step holds (or awaits approval). */
export function promote(s: SegmentState, actor: Actor, reason: string, f: SegmentFacts): Decision {
  const current = splitOf(s);
  const target = nextStep(current, f.rollout.steps);
  if (!target) throw new DomainError(ErrorCode.InvalidTransition, `${s.segment} is already at the top (${describeSplit(current)})`);
  if (isOverflow(s, f.rollout)) throw new DomainError(ErrorCode.InvalidTransition, `${s.segment}: ${overflowReason(f.rollout)}`);
  if (s.paused) throw new DomainError(ErrorCode.InvalidTransition, `${s.segment} is paused (${s.pauseKind}): resume it first`, { pauseReason: s.pauseReason });
  const last = s.lastVerdict as { verdict?: string; summary?: string; criteria?: unknown; evaluatedAt?: string } | null;
  // A verdict from before the step (re)started judged other evidence: it does not count.
  const verdict = last?.evaluatedAt && new Date(last.evaluatedAt) >= new Date(s.stepStartedAt) ? last : null;
  if (!verdict || (verdict.verdict !== 'pass' && verdict.verdict !== 'awaiting-approval')) {
    throw new DomainError(
      ErrorCode.InvalidTransition,
      `the gate for ${describeSplit(target)} does not hold: ${verdict?.summary ?? 'not evaluated yet for this step'}`,
      {
        verdict: verdict?.verdict ?? null,
        criteria: verdict?.criteria ?? null,
      },
    );
  }
  const t = new Transition(s);
  moveTo(t, target, f, { actor, action: 'stage.promoted', reason, details: { gate: verdict, counts: since(f.stageTotals, s.stepBase), manual: true } });
  return t.done();
}

/** Approves the step the controller waits on; it is taken at the next cycle if the gate still holds. */
export function approve(s: SegmentState, actor: Actor, reason: string): Decision {
  if (!s.pendingStep) throw new DomainError(ErrorCode.InvalidTransition, `${s.segment} is not waiting for an approval`);
  const t = new Transition(s);
  t.set({ approvedStep: s.pendingStep });
  t.audit(actor, 'segment.approved', reason, { step: s.pendingStep, gate: s.lastVerdict });
  return t.done();
}

/** Stops promotion where the segment is; routing and the guard go on. */
export function hold(s: SegmentState, actor: Actor, reason: string, now: Date): Decision {
  if (s.paused) throw new DomainError(ErrorCode.Conflict, `${s.segment} is already paused (${s.pauseKind})`);
  const t = new Transition(s);
  t.set({ paused: true, pauseKind: 'hold', pauseReason: reason, pausedAt: now, pausedBy: actor.name });
  t.audit(actor, 'segment.held', reason, { kind: 'hold' });
  return t.done();
}

/** Lifts a pause; the step starts again so the gate judges fresh evidence, and the guard restarts from the stage's evidence. */
export function resume(s: SegmentState, actor: Actor, reason: string, f: SegmentFacts): Decision {
  if (!s.paused) throw new DomainError(ErrorCode.Conflict, `${s.segment} is not paused`);
  const t = new Transition(s);
  t.set({
    paused: false,
    pauseKind: null,
    pauseReason: null,
    pausedAt: null,
    pausedBy: null,
    stepStartedAt: f.now,
    lastVerdict: null,
    stepBase: { ...f.stageTotals, rangeStart: iso(s.stageStartedAt) },
    guardState: watermark(f.stageEvidence),
    guardWindowStartedAt: null,
    classGuards: null,
  });
  t.audit(actor, 'segment.resumed', reason, { was: { kind: s.pauseKind, reason: s.pauseReason } });
  return t.done();
}

/** Back one stage (or to shadow) now, held there until someone resumes; the stage it lands on is guarded. */
export function rollback(s: SegmentState, actor: Actor, reason: string, toShadow: boolean, f: SegmentFacts): Decision {
  if (s.stage === 'shadow') throw new DomainError(ErrorCode.InvalidTransition, `${s.segment} is already in shadow`);
  const to = revertTarget(splitOf(s), toShadow ? 'to-shadow' : 'one-stage');
  const t = new Transition(s);
  moveTo(t, to, f, { actor, action: 'stage.rolled-back', reason, details: {}, pause: { kind: 'hold', reason: `rolled back by ${actor.name}: ${reason}` } });
  t.alert({
    kind: 'stage.rolled-back',
    summary: `${s.workflow} / ${s.segment} rolled back to ${describeSplit(to)} by ${actor.name}: ${reason}`,
    details: { to, by: actor.name },
  });
  return t.done();
}

/** A fixed threshold set by a program manager, or null to return to the computed one. */
export function setThreshold(s: SegmentState, threshold: number | null, actor: Actor, reason: string, now: Date): Decision {
  if (threshold !== null && !(threshold >= 0 && threshold <= 1))
    throw new DomainError(ErrorCode.Validation, 'threshold must be between 0 and 1, or null for the computed one');
  const t = new Transition(s);
  t.set({ threshold, thresholdSource: threshold === null ? 'none' : 'fixed', thresholdUpdatedAt: now });
  t.audit(actor, 'threshold.changed', reason, {
    before: s.threshold,
    beforeSource: s.thresholdSource,
    after: threshold,
    source: threshold === null ? 'computed' : 'fixed',
  });
  return t.done();
}

// ---------------------------------------------------------------- operators in Unleash

/** The workflow's flag was switched in Unleash: recorded and alerted; the flag itself is the state. */
export function adoptWorkflowChange(workflow: string, c: Extract<FlagChange, { kind: 'workflow-enabled' }>): Effects {
  const reason = c.after
    ? `workflow flag enabled in Unleash by an operator: the rollout resumes`
    : `workflow flag disabled in Unleash by an operator: every item goes to humans only`;
  return {
    patch: {},
    audit: [{ actor: OPERATOR.name, actorKind: OPERATOR.kind, action: 'flag.operator-change', workflow, segment: null, reason, details: { change: c } }],
    alerts: [{ kind: 'flag.operator-change', workflow, summary: reason, details: { change: c } }],
    flagWrite: null,
    rereview: null,
  };
}

/**
 * An operator changed a segment's strategy in Unleash: the change becomes the segment's state,
 * never overwritten; promotion holds until a person resumes, and a new stage is guarded like any other.
 */
export function adoptOperatorChange(s: SegmentState, c: Exclude<FlagChange, { kind: 'workflow-enabled' }>, f: SegmentFacts): Decision {
  const t = new Transition(s);
  if (isOverflow(s, f.rollout) && c.kind === 'segment-split' && c.after.stage !== 'shadow') {
    // The one change not adopted: the overflow pools values nobody has judged one by one.
    const reason = `operator change not adopted: segment ${c.segment} set to ${describeSplit(c.after)} in Unleash, but ${overflowReason(f.rollout)}; shadow written back`;
    moveTo(t, { stage: 'shadow', trafficPct: 100 }, f, { actor: CONTROLLER, action: 'flag.operator-change-refused', reason, details: { change: c } });
    t.alert({ kind: 'flag.operator-change-refused', summary: reason, details: { change: c } });
    return t.done();
  }
  const after: SegmentSplit = c.kind === 'segment-split' ? c.after : { stage: 'shadow', trafficPct: 100 };
  const what =
    c.kind === 'segment-removed'
      ? `the strategy of segment ${c.segment} was removed in Unleash (its items fall back to shadow)`
      : `segment ${c.segment} set to ${describeSplit(c.after)} in Unleash${c.irregular ? ` (irregular: ${c.irregular})` : ''}`;
  const reason = `operator change adopted: ${what}; promotion is held until a person resumes`;
  if (c.kind === 'segment-removed') {
    // Writing shadow back gives the same routing as the fallback the operator left; it keeps the
    // contract (one strategy per segment) without undoing anything.
    moveTo(t, after, f, { actor: OPERATOR, action: 'flag.operator-change', reason, details: { change: c }, pause: { kind: 'operator', reason } });
  } else {
    const stageChanged = s.stage !== after.stage;
    const guard = stageChanged && after.stage !== 'shadow' ? armFor(s, after.stage, f) : null;
    t.set({
      stage: after.stage,
      trafficPct: after.stage === 'shadow' ? 100 : after.trafficPct,
      // The irregularity is remembered with the split, so the same operator change is adopted once.
      flagSplit: c.irregular ? { ...after, irregular: c.irregular } : after,
      stepStartedAt: f.now,
      lastVerdict: null,
      ...(stageChanged
        ? {
            stageStartedAt: f.now,
            guardParams: guard?.params ?? null,
            baseline: guard?.baseline ?? null,
            classGuards: null,
            guardrailState: null,
            driftMonitor: null,
            auditFactor: null,
          }
        : {}),
      stepBase: { ...(stageChanged ? f.minuteTotals : f.stageTotals), rangeStart: iso(stageChanged ? f.now : s.stageStartedAt) },
      guardState: watermark(stageChanged ? f.minuteEvidence[after.stage] : f.stageEvidence),
      guardWindowStartedAt: null,
      pendingStep: null,
      approvedStep: null,
      paused: true,
      pauseKind: 'operator',
      pauseReason: reason,
      pausedAt: f.now,
      pausedBy: OPERATOR.name,
    });
    t.audit(OPERATOR, 'flag.operator-change', reason, { change: c, ...(guard ? { guard } : {}) });
  }
  t.alert({ kind: 'flag.operator-change', summary: reason, details: { change: c } });
  return t.done();
}

// ---------------------------------------------------------------- the controller's cycle

/**
 * Keeps the computed threshold current (a fixed one is left alone) and returns the one in force.
 * It is certified on the calibration set with anytime-valid tests, withdrawn at once when blind
 * audits above it contradict it, raised at once, and lowered or regained only after a wait
 * (threshold-policy.ts). A confidence-routed guard is re-armed for a new threshold.
 */
function refreshThresholdStep(t: Transition, f: SegmentFacts): number | null {
  const s = t.state;
  if (s.thresholdSource === 'fixed') return s.threshold;
  const r = f.rollout;
  const previous = s.thresholdDetails as { calibrationFrom?: string | null } | null;
  const rec = recommendThreshold({
    n: f.calibration.n,
    correct: f.calibration.correct,
    target: r.accuracyTarget,
    delta: r.delta,
    minCount: r.minLabelsPerThreshold,
    test: 'anytime',
  });
  const move = nextThreshold({
    current: s.threshold,
    source: s.thresholdSource,
    lastChangedAt: s.thresholdUpdatedAt ? new Date(s.thresholdUpdatedAt) : null,
    certified: rec.status === 'certified' ? rec.threshold : null,
    auditsAbove: f.auditsAbove ?? { n: 0, agree: 0 },
    target: r.accuracyTarget,
    delta: r.delta,
    now: f.now,
  });
  // After audits contradicted a threshold, only labels of what the AI decided since count.
  const calibrationStart = move.kind === 'set' && move.withdrawnByAudits ? f.now.toISOString() : (previous?.calibrationFrom ?? null);
  const details = { ...rec, tested: rec.tested.slice(0, 20), calibrationFrom: calibrationStart, lastMove: move.reason } as unknown as Record<string, unknown>;
  if (move.kind !== 'set' || move.value === s.threshold) {
    t.set({ thresholdDetails: details });
    return s.threshold;
  }
  const before = s.threshold;
  t.set({
    threshold: move.value,
    thresholdSource: move.value === null ? 'none' : 'computed',
    thresholdDetails: details,
    thresholdUpdatedAt: f.now,
    // The confidence-routed guard defends the accuracy above the threshold: re-armed for the new one.
    ...(s.stage === 'confidence-routed' ? { guardParams: null } : {}),
  });
  t.audit(CONTROLLER, 'threshold.changed', move.value === null ? move.reason : `${move.reason}: ${rec.reason}`, {
    before,
    after: move.value,
    withdrawnByAudits: move.withdrawnByAudits,
    auditsAbove: f.auditsAbove,
    coverage: rec.coverage,
    accuracyAbove: rec.accuracyAbove,
    accuracyLower: rec.accuracyLower,
    nAbove: rec.nAbove,
    n: rec.n,
    target: rec.target,
    delta: rec.delta,
    test: rec.test,
  });
  if (move.withdrawnByAudits) {
    t.alert({ kind: 'threshold.withdrawn', summary: `${s.workflow} / ${s.segment}: ${move.reason}`, details: { auditsAbove: f.auditsAbove } });
  }
  return move.value;
}

/** Every stage above shadow is guarded, whoever put the segment there (and re-armed after a threshold move). */
function armIfNeeded(t: Transition, f: SegmentFacts): void {
  const s = t.state;
  if (needsArming(s.stage, s.guardParams, s.baseline)) {
    const g = armFor(s, s.stage, f);
    t.set({ guardParams: g.params, baseline: g.baseline });
    t.audit(CONTROLLER, 'guard.armed', `regression guard armed for ${s.stage}: ${g.baseline.detail}`, { baseline: g.baseline, params: g.params });
  }
  if (f.critical && classGuardsNeedArming(t.state.stage, f.critical.classes, t.state.classGuards)) {
    const entries = armClassGuards(f.critical.classes, t.state.stage, f.critical, f.rollout.guard, f.now);
    t.set({ classGuards: entries });
    const summary = Object.entries(entries)
      .map(([name, e]) => `${name} recall: ${e.baseline.recall.detail}; precision: ${e.baseline.precision.detail}`)
      .join(' · ');
    t.audit(CONTROLLER, 'guard.armed', `critical-class guards armed for ${t.state.stage}: ${summary}`, {
      classes: Object.fromEntries(Object.entries(entries).map(([name, e]) => [name, { baseline: e.baseline, params: e.params }])),
    });
  }
}

/** The critical classes' look: a breach is handled like the overall guard's, by the regression policy. */
function observeClassGuardsStep(t: Transition, f: SegmentFacts): ClassBreach | null {
  const s = t.state;
  if (s.stage === 'shadow' || !s.classGuards || !f.critical) return null;
  const look = observeClassGuards(s.classGuards, f.critical.stage, f.now);
  t.set({ classGuards: look.entries });
  return look.breach;
}

/**
 * The regression guard's look: blind evidence of the live arm (items the AI decided since the
 * stage began, counted as their labels arrive) beyond its watermark, against its baseline.
 * Returns the update when it breached (the caller applies the regression policy), or null.
 */
function observeGuardStep(t: Transition, f: SegmentFacts, windowStart: Date): GuardUpdate | null {
  const s = t.state;
  if (s.stage === 'shadow' || !s.guardParams) return null;
  const e = f.stageEvidence;
  const gs = s.guardState ?? watermark({ blindN: 0, blindAgree: 0 });
  const batch = { n: e.blindN - gs.totalsN, agree: e.blindAgree - gs.totalsAgree };
  if (batch.n < 0 || batch.agree < 0 || batch.agree > batch.n) {
    // A watermark from other counts (a state written before the evidence model): restart it here.
    t.set({ guardState: { ...gs, totalsN: e.blindN, totalsAgree: e.blindAgree } });
    return null;
  }
  if (batch.n === 0) return null;
  const update = updateGuard(gs, batch, s.guardParams);
  if (update.breached) return update;
  t.set({ guardState: { ...update.state, totalsN: e.blindN, totalsAgree: e.blindAgree }, guardWindowStartedAt: update.state.s > 0 ? windowStart : null });
  return null;
}

/** What breached, in words and numbers, and the window its evidence opened at. */
interface Breach {
  what: string;
  numbers: Record<string, unknown>;
  /** Where the re-review list starts on a revert (null: the breach is not about the AI's answers, nothing is re-reviewed). */
  windowStart: Date | null;
  policy: RegressionPolicy;
}

function agreementBreach(s: SegmentState, g: GuardUpdate, windowStart: Date, f: SegmentFacts): Breach {
  const rate = g.window.rate === null ? 'n/a' : g.window.rate.toFixed(3);
  return {
    what:
      `regression guard breached: agreement ${rate} over the last ${g.window.n} comparisons against a baseline of ` +
      `${g.baseline.toFixed(3)} (CUSUM ${g.statistic.toFixed(2)} ≥ ${g.threshold.toFixed(2)})`,
    numbers: {
      statistic: g.statistic,
      threshold: g.threshold,
      baseline: g.baseline,
      alternative: g.alternative,
      window: g.window,
      stageTotals: f.stageTotals,
      stageBaseline: s.baseline,
    },
    windowStart,
    policy: f.rollout.regressionPolicy,
  };
}

function classBreach(b: ClassBreach, f: SegmentFacts): Breach {
  const g = b.update[b.stream];
  const rate = g.window.rate === null ? 'n/a' : g.window.rate.toFixed(3);
  const over = b.stream === 'recall' ? `items people put in ${b.name}` : `items the AI put in ${b.name}`;
  return {
    what:
      `critical-class guard breached: ${b.stream} of ${b.name} ${rate} over the last ${g.window.n} blind ${over}, against a baseline of ` +
      `${g.baseline.toFixed(3)} (CUSUM ${g.statistic.toFixed(2)} ≥ ${g.threshold.toFixed(2)})`,
    numbers: {
      class: b.name,
      stream: b.stream,
      statistic: g.statistic,
      threshold: g.threshold,
      baseline: g.baseline,
      alternative: g.alternative,
      window: g.window,
    },
    windowStart: b.windowStartedAt,
    policy: f.rollout.regressionPolicy,
  };
}

function guardrailBreach(b: GuardrailBreach): Breach {
  return { what: `guardrail breached: ${b.reading.detail}`, numbers: { guardrail: b.name, reading: b.reading }, windowStart: null, policy: b.policy };
}

/**
 * A breach — of the overall guard or of a critical class's — handled as the workflow's regression
 * policy says (rollout.regressionPolicy):
 * - `revert`: one stage down (or to shadow), locked until a person resumes; every `auto` decision
 *   from the earliest AI decision the breaching evidence covers goes to re-review.
 * - `pause`: the stage and its routing stay; promotions hold until a person resumes; alerted.
 * - `alert`: an alert and an audit entry, nothing else.
 * Under `pause` and `alert` the AI keeps deciding, so the guard starts again from the evidence it
 * has (a drop that persists breaches again, each time with an alert); the re-review list is not
 * made — the window it would cover is in the audit entry for a person to act on.
 */
function breachStep(t: Transition, b: Breach, f: SegmentFacts): void {
  const s = t.state;
  const policy = b.policy;
  const from = splitOf(s);
  const to = revertTarget(from, f.rollout.revert);
  const outcome =
    policy === 'revert'
      ? `reverted to ${describeSplit(to)} and locked until a person resumes`
      : policy === 'pause'
        ? `kept at ${describeSplit(from)} with promotions held until a person resumes (regression policy: pause)`
        : `kept at ${describeSplit(from)} (regression policy: alert only)`;
  const reason = `${b.what}; ${outcome}`;
  // Labels arrive late: the window's evidence is about items the AI decided earlier than it opened.
  const rereviewStart = b.windowStart ? rereviewFrom(b.windowStart, f.earliestLabelledInWindow) : null;
  const numbers = {
    ...b.numbers,
    ...(b.windowStart ? { windowStartedAt: b.windowStart.toISOString(), rereviewFrom: rereviewStart!.toISOString() } : {}),
  };
  if (policy === 'revert') {
    const auditIndex = moveTo(t, to, f, { actor: CONTROLLER, action: 'stage.reverted', reason, details: { guard: numbers }, pause: { kind: 'guard', reason } });
    // Reverting the flag does not undo what the AI already decided on its own: those go to people.
    if (rereviewStart) t.effects.rereview = { from: rereviewStart, auditIndex };
    t.alert({
      kind: 'stage.reverted',
      summary: `${s.workflow} / ${s.segment}: ${reason}`,
      details: { from, to, guard: numbers },
      ...(rereviewStart ? { withRereview: true as const } : {}),
    });
    return;
  }
  if (policy === 'pause' && !s.paused) t.set({ paused: true, pauseKind: 'guard', pauseReason: reason, pausedAt: f.now, pausedBy: CONTROLLER.name });
  t.audit(CONTROLLER, 'guard.breached', reason, { policy, split: from, guard: numbers });
  t.alert({ kind: 'guard.breached', summary: `${s.workflow} / ${s.segment}: ${reason}`, details: { policy, split: from, guard: numbers } });
}

/** The guards' look: armed if they must be, the overall guard then the critical classes' observed; the breach handled, if any. */
function guardsStep(t: Transition, s: SegmentState, f: SegmentFacts): boolean {
  armIfNeeded(t, f);
  const breach = observeGuardStep(t, f, guardWindowStart(s));
  if (breach) {
    // Under pause and alert the AI keeps deciding: the overall guard starts again from here.
    if (f.rollout.regressionPolicy !== 'revert') t.set({ guardState: watermark(f.stageEvidence), guardWindowStartedAt: null });
    breachStep(t, agreementBreach(t.state, breach, guardWindowStart(s), f), f);
    return true;
  }
  const cls = observeClassGuardsStep(t, f);
  if (cls) {
    breachStep(t, classBreach(cls, f), f);
    return true;
  }
  const rail = guardrailsStep(t, f);
  if (rail) {
    breachStep(t, guardrailBreach(rail), f);
    return true;
  }
  return false;
}

/**
 * The label-free drift monitor's look (domain/drift-watch.ts): armed on the decisions before the
 * stage, fed the stage's decisions; an alarm is alerted, audited and raises the blind share, which
 * goes back once the blind labels since rule out the guard's drop.
 */
function driftStep(t: Transition, f: SegmentFacts): void {
  const s = t.state;
  const config = f.rollout.monitors;
  if (!f.drift || s.stage === 'shadow' || !config.enabled) {
    if (s.driftMonitor || s.auditFactor !== null) t.set({ driftMonitor: null, auditFactor: null });
    return;
  }
  const blind = { n: f.stageEvidence.blindN, agree: f.stageEvidence.blindAgree };
  if (driftNeedsArming(s.stage, s.driftMonitor, config)) {
    t.set({ driftMonitor: armDrift(s.stage, f.drift, blind, config), auditFactor: null });
    return;
  }
  const w = t.state.driftMonitor!;
  const base = s.stage === 'confidence-routed' ? f.rollout.auditShare : f.rollout.supervisedBlindShare;
  const policy = {
    baseShare: Math.max(base, 1e-9),
    factor: config.auditFactor,
    cap: Math.max(config.auditCap, base),
    clearConfidence: DEFAULT_AUDIT_POLICY.clearConfidence,
  };
  const look = lookDrift(w, f.drift, blind, s.guardParams, policy, config, f.now);
  t.set({ driftMonitor: look.watch, auditFactor: auditFactorOf(look.watch, config) });
  if (look.alarm) {
    const r = look.alarm;
    const leading = r.leading
      .slice(0, 3)
      .map((d) => `${d.name}: ${(100 * (d.recentShare ?? 0)).toFixed(1)} % recently against ${(100 * d.referenceShare).toFixed(1)} % in the reference`)
      .join('; ');
    const share = raisedShareText(base, look.watch.audit.raised ? config.auditFactor : null, config.auditCap);
    const reason =
      `label-free drift monitor alarmed after ${r.n} decisions (evidence ${r.statistic?.toFixed(1)} ≥ ${r.threshold.toFixed(1)} nats): ${leading}; ` +
      `blind share ${share} until the blind labels since rule out a drop`;
    const details = { statistic: r.statistic, threshold: r.threshold, n: r.n, leading: r.leading, auditFactor: t.state.auditFactor, blindShare: share };
    t.audit(CONTROLLER, 'monitor.alarm', reason, details);
    t.alert({ kind: 'monitor.alarm', summary: `${s.workflow} / ${s.segment}: ${reason}`, details });
  }
  if (look.cleared) {
    const c = look.cleared;
    const reason =
      `blind share back to ${(100 * base).toFixed(0)} %: ${c.agree}/${c.n} blind labels since the alarm put agreement at or above ` +
      `${c.lowerBound?.toFixed(3)} (the guard's drop is ${c.needed.toFixed(3)}); the monitor takes its reference again from the next decisions`;
    t.audit(CONTROLLER, 'monitor.all-clear', reason, { ...c });
  }
}

function raisedShareText(base: number, factor: number | null, cap: number): string {
  const share = raisedShare(base, factor, cap);
  if (share <= base) return `stays at ${(100 * base).toFixed(0)} % (already at or above the cap of ${(100 * cap).toFixed(0)} %)`;
  return `${(100 * base).toFixed(0)} % → ${(100 * share).toFixed(0)} %`;
}

/** The guardrails' look (error rate, p95 latency, cost per call): the first breach, its guardrail restarted. */
function guardrailsStep(t: Transition, f: SegmentFacts): GuardrailBreach | null {
  const e = guardrailEvaluation(t.state, f);
  if (!e || e.breaches.length === 0) return null;
  const b = e.breaches[0];
  // Under pause and alert the AI keeps calling the model: the guardrail counts from here.
  t.set({ guardrailState: restartGuardrail(t.state.guardrailState ?? {}, b.name, f.guardrailTotals!) });
  return b;
}

/** The guardrails' readings for this look, or null above shadow without any guardrail configured. */
export function guardrailEvaluation(s: SegmentState, f: SegmentFacts): GuardrailEvaluation | null {
  const g = f.rollout.guardrails;
  if (s.stage === 'shadow' || !f.guardrailTotals || !(g.errorRate || g.latencyP95Ms || g.costPerItemUsd)) return null;
  try {
    return evaluateGuardrails(g, f.guardrailTotals, s.guardrailState ?? {}, f.rollout.regressionPolicy);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    // Watermarks above the totals (minutes removed from the rollups since): count from the stage's start.
    return evaluateGuardrails(g, f.guardrailTotals, {}, f.rollout.regressionPolicy);
  }
}

/**
 * One controller look at a segment: its strategy written if Unleash has none, the threshold kept
 * current, the guard armed and observed (a breach is handled by the regression policy and ends the look), then the gate of the
 * next step judged on the blind evidence of the arm at the current stage — promoted when it passes
 * and nothing holds it, an approval asked when the step needs one.
 */
export function decideCycle(s: SegmentState, f: SegmentFacts, c: CycleContext): CycleDecision {
  const t = new Transition(s);
  if (s.version === null) t.set({ version: f.version });
  else if (s.version !== f.version) {
    resetForVersion(t, f);
    return { ...t.done(), evaluation: null };
  }
  const current = splitOf(s);
  if (c.live && !c.hasStrategy && c.live.exists) {
    // A segment seen for the first time: it gets its strategy (shadow) so ops see it in Unleash.
    t.effects.flagWrite = current;
    t.set({ flagSplit: { ...current, pending: true } });
    t.audit(CONTROLLER, s.flagSplit ? 'flag.written' : 'segment.discovered', `strategy written: ${describeSplit(current)}`, { split: current });
  }
  const rangeStart = iso(s.stageStartedAt);
  const stepBase = s.stepBase && s.stepBase.rangeStart === rangeStart ? s.stepBase : null;
  const step = since(f.stageTotals, stepBase);
  const threshold = refreshThresholdStep(t, f);
  // A segment's first step counts from the start of its range.
  t.set({ lastEvaluatedAt: f.now, ...(stepBase ? {} : { stepBase: { ...ZERO_COUNTS, rangeStart } }) });

  if (guardsStep(t, s, f)) return { ...t.done(), evaluation: null };
  driftStep(t, f);

  // The gate judges the arm at the current stage on items the AI decided during this step.
  const e = f.stepEvidence;
  const evidence: StepEvidence = {
    blind: { n: e.blindN, agree: e.blindAgree },
    anchored: { n: e.anchoredN, overridden: e.anchoredOverridden },
    aiCalls: step.aiCalls,
    aiFailures: step.aiFailures,
  };
  const ev = evaluateStep({
    current,
    evidence,
    dwellMs: f.now.getTime() - new Date(s.stepStartedAt).getTime(),
    rollout: f.rollout,
    budgetOk: c.budget.ok,
    approvedStep: s.approvedStep,
    threshold,
    parityPairs: f.parityPairs,
    crossSegment: c.crossSegment ?? null,
  });
  const holdReason = isOverflow(s, f.rollout)
    ? overflowReason(f.rollout)
    : s.paused
      ? `paused (${s.pauseKind}) by ${s.pausedBy}: ${s.pauseReason}`
      : !c.live
        ? 'Unleash did not answer: promotions wait (the guard, rollbacks and the kill switch work from PostgreSQL)'
        : !c.live.enabled
          ? 'the workflow flag is disabled in Unleash: humans only'
          : c.killSwitchOn
            ? 'the kill switch is on'
            : t.state.auditFactor !== null && f.rollout.monitors.holdPromotions
              ? 'a drift monitor alarmed: promotions wait until the blind labels since rule out a drop (rollout.monitors.holdPromotions)'
              : null;
  const counts = {
    arm: s.stage,
    n: e.blindN,
    agree: e.blindAgree,
    reviews: e.anchoredN,
    overridden: e.anchoredOverridden,
    anchoredAgree: e.anchoredAgree,
    aiCalls: step.aiCalls,
    aiFailures: step.aiFailures,
  };
  t.set({
    lastVerdict: {
      ...(ev.gate ?? {}),
      verdict: ev.verdict,
      target: ev.target,
      approvalRequired: ev.approvalRequired,
      holdReason,
      evaluatedAt: f.now.toISOString(),
      counts,
      budget: c.budget,
      guardrails: guardrailEvaluation(t.state, f)?.readings ?? null,
    },
  });

  if (!holdReason && ev.target && ev.verdict === 'pass') {
    moveTo(t, ev.target, f, {
      actor: CONTROLLER,
      action: 'stage.promoted',
      reason: ev.gate?.summary ?? 'gate passed',
      details: { gate: ev.gate, counts, approvedBy: s.approvedStep ? 'program manager' : null },
    });
  } else if (!holdReason && ev.target && ev.verdict === 'awaiting-approval' && !sameSplit(s.pendingStep, ev.target)) {
    t.set({ pendingStep: ev.target });
    t.audit(CONTROLLER, 'segment.awaiting-approval', `gate holds for ${describeSplit(ev.target)}; a program manager's approval is required`, {
      gate: ev.gate,
      counts,
    });
  }
  return { ...t.done(), evaluation: ev };
}

/**
 * A new champion version (model, prompt, anything) earns its stage: the segment goes back to
 * shadow, its computed threshold is dropped (the new model's confidence is not calibrated yet; a
 * fixed one is a person's and stays), and it climbs again on the new version's own evidence.
 */
function resetForVersion(t: Transition, f: SegmentFacts): void {
  const s = t.state;
  const was = s.version;
  const reason = `v${f.version} became the champion (the stage was earned by v${was}): it earns its own from shadow`;
  if (s.thresholdSource === 'computed') t.set({ threshold: null, thresholdSource: 'none', thresholdDetails: null, thresholdUpdatedAt: f.now });
  if (s.stage !== 'shadow') {
    moveTo(t, { stage: 'shadow', trafficPct: 100 }, f, {
      actor: CONTROLLER,
      action: 'stage.reset-for-version',
      reason,
      details: { fromVersion: was, toVersion: f.version },
    });
  } else {
    t.set({
      stepStartedAt: f.now,
      stepBase: { ...f.stageTotals, rangeStart: iso(s.stageStartedAt) },
      lastVerdict: null,
      pendingStep: null,
      approvedStep: null,
    });
    t.audit(CONTROLLER, 'stage.reset-for-version', reason, { fromVersion: was, toVersion: f.version });
  }
  t.set({ version: f.version });
  t.alert({ kind: 'stage.reset-for-version', summary: `${s.workflow} / ${s.segment}: ${reason}`, details: { fromVersion: was, toVersion: f.version } });
}

/** The threshold look alone (as in a cycle): the next state with the threshold in force. */
export function refreshThreshold(s: SegmentState, f: SegmentFacts): Decision & { inForce: number | null } {
  const t = new Transition(s);
  const inForce = refreshThresholdStep(t, f);
  return { ...t.done(), inForce };
}

/** The guard's look alone (as in a cycle): armed if it must be, observed, and a breach handled by the regression policy. */
export function observeGuard(s: SegmentState, f: SegmentFacts): Decision & { breached: boolean } {
  const t = new Transition(s);
  const breached = guardsStep(t, s, f);
  return { ...t.done(), breached };
}
