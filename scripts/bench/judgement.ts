import { armOf, classifyLabel } from '../../src/comparison/domain/evidence';
import { crossSegmentControl, promotionCandidate } from '../../src/rollout/domain/cross-segment';
import { evaluateStep, StepEvidence } from '../../src/rollout/domain/evaluate-segment';
import { armGuard, rereviewFrom } from '../../src/rollout/domain/guard-arming';
import { nextThreshold } from '../../src/rollout/domain/threshold-policy';
import { confidenceBinIndex } from '../../src/stats/domain/calibration';
import { seededRandom, Random } from '../../src/stats/domain/random';
import { GuardParams, GuardState, guardThresholdFor, initialGuardState, updateGuard } from '../../src/stats/domain/regression-guard';
import { recommendThreshold } from '../../src/stats/domain/threshold';
import { wilsonInterval } from '../../src/stats/domain/wilson-interval';
import type { GuardConfig, RolloutConfig } from '../../src/workflows/domain/workflow-definition';
import { rolloutSchema } from '../../src/workflows/domain/workflow-definition';
import { quantile } from './stats';

/*
 * The judgement benchmark: do the rollout's decisions carry the risk they state? Every run goes
 * through the project's own decision code — classifyLabel/armOf (what a label is evidence of),
 * evaluateStep (the gate), recommendThreshold + nextThreshold (the threshold), armGuard +
 * updateGuard (the regression guard), rereviewFrom (the re-review window) — under the conditions
 * of production: reviewers who accept half of the wrong suggestions they are shown, labels that
 * arrive 0–6 hours after the AI decided, a look every controller cycle, and arms split by traffic.
 * Each figure has the rule it replaced beside it (the "naive" number), simulated on the same draws.
 */

export interface JudgementOptions {
  runs: number;
  seed: number;
  /** Comparisons a segment gets per day. */
  perDay: number;
  /** Simulated time between controller looks. */
  lookEveryMinutes: number;
  /** Labels arrive uniformly 0 … this many hours after the AI decided. */
  labelDelayHours: number;
  /** Share of wrong suggestions a reviewer accepts (anchoring). */
  acceptWrong: number;
}

export interface JudgementResult {
  options: JudgementOptions;
  gate: { target: number; scenarios: Array<{ scenario: string; passShare: number; naivePassShare: number }>; gatePassAtTarget: number };
  threshold: { target: number; delta: number; looks: number; thresholdViolations: number; naiveViolations: number; certifiedAtEnd: number };
  guard: {
    baseline: number;
    dropped: number;
    baselineLabels: number;
    guardDelayMedian: number | null;
    guardDelayP95: number | null;
    oracleDelayMedian: number | null;
    guardDelayRatio: number | null;
    oracleH: number;
    missedDrops: number;
    falseRevertsPer1000SegmentDays: number;
    naiveFalseRevertsPer1000SegmentDays: number;
    naiveDelayMedian: number | null;
  };
  rereview: { rereviewMissed: number; autoSinceDropMissed: number; reverts: number };
  manySegments: {
    families: number;
    segments: number;
    atTarget: number;
    above: number;
    aboveRate: number;
    /** Mean share of false promotions among the promotions of a family (FDR), per-segment gates vs e-BH. */
    falsePromotionSharePerSegment: number;
    falsePromotionShareEbh: number;
    /** Share of the segments above the target promoted within the horizon. */
    abovePromotedPerSegment: number;
    abovePromotedEbh: number;
  };
}

const GUARD: GuardConfig = { minDetectableDrop: 0.06, targetArl0: 500_000, baselineConfidence: 0.95 };

/** Items decided at a steady rate, each labelled after a uniform delay; returned in label-arrival order. */
function labelStream(
  random: Random,
  count: number,
  perDay: number,
  delayMs: number,
  startMs = 0,
): Array<{ index: number; decidedMs: number; labelMs: number }> {
  const spacing = 86_400_000 / perDay;
  const out = [];
  for (let i = 0; i < count; i++) {
    const decidedMs = startMs + i * spacing;
    out.push({ index: i, decidedMs, labelMs: decidedMs + random.next() * delayMs });
  }
  return out.sort((a, b) => a.labelMs - b.labelMs);
}

// ---------------------------------------------------------------------------------------------
// The gate: a segment whose true blind agreement equals the target must (almost) never pass.

function gateRollout(target: number): RolloutConfig {
  return rolloutSchema.parse({
    steps: [25, 50, 100],
    gates: {
      supervised: { minSample: 200, minDwellMinutes: 0, agreementTarget: target, confidence: 0.95, approval: false },
      'confidence-routed': { minSample: 200, minDwellMinutes: 0, agreementTarget: target, confidence: 0.95, approval: false },
    },
  });
}

interface GateScenario {
  name: string;
  stage: 'shadow' | 'supervised';
  trafficPct: number;
}

function simulateGate(o: JudgementOptions, target: number, sc: GateScenario, seed: number): { passShare: number; naivePassShare: number } {
  const random = seededRandom(seed);
  const rollout = gateRollout(target);
  const total = 20_000;
  const lookMs = o.lookEveryMinutes * 60_000;
  const blindShare = rollout.supervisedBlindShare;
  let passed = 0;
  let naivePassed = 0;
  for (let run = 0; run < o.runs; run++) {
    const labels = labelStream(random, total, o.perDay, o.labelDelayHours * 3_600_000);
    // Each item: its arm, how it was routed, and the label a person gave.
    const facts = labels.map(() => {
      const right = random.bernoulli(target);
      const atStage = sc.stage === 'supervised' && random.next() * 100 < sc.trafficPct;
      const routeStage = atStage ? 'supervised' : 'shadow';
      const routeAction = atStage ? (random.next() < blindShare ? 'audit' : 'suggest') : 'none';
      const shown = routeAction === 'suggest';
      const humanKind = shown ? ('review' as const) : ('independent' as const);
      // A reviewer shown a wrong answer accepts it half the time: the label then "agrees".
      const agree = right || (shown && random.bernoulli(o.acceptWrong));
      return { routeStage, routeAction, humanKind, agree, overridden: shown && !agree };
    });
    const judged = armOf(sc.stage);
    let ev: StepEvidence = { blind: { n: 0, agree: 0 }, anchored: { n: 0, overridden: 0 }, aiCalls: 0, aiFailures: 0 };
    let pooledN = 0;
    let pooledAgree = 0;
    let i = 0;
    let didPass = false;
    let naiveDidPass = false;
    for (let look = lookMs; i < labels.length && !(didPass && naiveDidPass); look += lookMs) {
      for (; i < labels.length && labels[i].labelMs <= look; i++) {
        const f = facts[i];
        pooledN++;
        pooledAgree += f.agree ? 1 : 0;
        if (armOf(f.routeStage) !== judged) continue;
        const kind = classifyLabel(f.humanKind, f.routeAction);
        if (kind === 'blind') ev = { ...ev, blind: { n: ev.blind.n + 1, agree: ev.blind.agree + (f.agree ? 1 : 0) } };
        else if (kind === 'anchored') ev = { ...ev, anchored: { n: ev.anchored.n + 1, overridden: ev.anchored.overridden + (f.overridden ? 1 : 0) } };
      }
      ev = { ...ev, aiCalls: pooledN };
      if (!didPass) {
        const e = evaluateStep({
          current: { stage: sc.stage, trafficPct: sc.stage === 'shadow' ? 100 : sc.trafficPct },
          evidence: ev,
          dwellMs: look,
          rollout,
          budgetOk: true,
          approvedStep: null,
          threshold: 0.8,
        });
        if (e.verdict === 'pass') didPass = true;
      }
      // The rule it replaced: a fixed-sample Wilson bound on every comparison of the segment, re-run every cycle.
      if (!naiveDidPass && pooledN >= 200 && wilsonInterval(pooledAgree, pooledN, 0.95).lower >= target) naiveDidPass = true;
    }
    if (didPass) passed++;
    if (naiveDidPass) naivePassed++;
  }
  return { passShare: passed / o.runs, naivePassShare: naivePassed / o.runs };
}

// ---------------------------------------------------------------------------------------------
// The threshold: recomputed every look on blind labels; a run violates when the threshold in force
// at any look has a true accuracy above it below the target.

function simulateThreshold(o: JudgementOptions, seed: number): JudgementResult['threshold'] {
  const random = seededRandom(seed);
  const bins = 20;
  const target = 0.9;
  const delta = 0.1;
  const looks = 100;
  const labelsPerLook = 100;
  // P(correct | confidence c) = 0.55 + 0.43c with c ~ U(0, 1): the true accuracy above λ is
  // 0.55 + 0.43(1 + λ)/2, below the target for λ ≤ 0.6.
  const trueAbove = (lambda: number) => 0.55 + (0.43 * (1 + lambda)) / 2;
  let violations = 0;
  let naiveViolations = 0;
  let certifiedAtEnd = 0;
  for (let run = 0; run < o.runs; run++) {
    const n = new Array<number>(bins).fill(0);
    const correct = new Array<number>(bins).fill(0);
    // The rule it replaced: every comparison (reviews included, half the wrong ones accepted) and a one-look test every cycle.
    const naiveN = new Array<number>(bins).fill(0);
    const naiveCorrect = new Array<number>(bins).fill(0);
    let current: number | null = null;
    let changedAt: Date | null = null;
    let violated = false;
    let naiveViolated = false;
    for (let look = 1; look <= looks; look++) {
      for (let k = 0; k < labelsPerLook; k++) {
        const c = random.next();
        const bin = confidenceBinIndex(c, bins);
        const right = random.bernoulli(0.55 + 0.43 * c);
        // Half the items are shown to a reviewer (anchored: not calibration labels), half decided blind.
        const shown = random.next() < 0.5;
        const label = right || (shown && random.bernoulli(o.acceptWrong));
        naiveN[bin]++;
        if (label) naiveCorrect[bin]++;
        if (classifyLabel(shown ? 'review' : 'independent', shown ? 'review' : 'none') !== 'blind') continue;
        n[bin]++;
        if (right) correct[bin]++;
      }
      const now = new Date(look * o.lookEveryMinutes * 60_000);
      const rec = recommendThreshold({ n, correct, target, delta, minCount: 100, test: 'anytime' });
      const move = nextThreshold({
        current,
        source: current === null ? 'none' : 'computed',
        lastChangedAt: changedAt,
        certified: rec.threshold,
        auditsAbove: { n: 0, agree: 0 },
        target,
        delta,
        now,
      });
      if (move.kind === 'set') {
        current = move.value;
        changedAt = now;
      }
      if (current !== null && trueAbove(current) < target) violated = true;
      const naive = recommendThreshold({ n: naiveN, correct: naiveCorrect, target, delta, minCount: 100, test: 'fixed-sample' }).threshold;
      if (naive !== null && trueAbove(naive) < target) naiveViolated = true;
    }
    if (violated) violations++;
    if (naiveViolated) naiveViolations++;
    if (current !== null) certifiedAtEnd++;
  }
  return { target, delta, looks, thresholdViolations: violations / o.runs, naiveViolations: naiveViolations / o.runs, certifiedAtEnd: certifiedAtEnd / o.runs };
}

// ---------------------------------------------------------------------------------------------
// The regression guard: armed on an estimated blind baseline, fed blind labels in arrival order
// one look at a time; against the best possible detector on the same labels.

interface ArmedGuard {
  params: GuardParams;
}

/**
 * The guard the controller arms on a baseline of n0 blind labels of which agree0 agreed. The
 * estimate is rounded to 0.001 first: arming takes ~2 s (the Markov-chain ARL), and within 0.001
 * its threshold moves by less than its own 0.01 rounding.
 */
function guardFor(cache: Map<number, ArmedGuard>, n0: number, agree0: number): ArmedGuard {
  const key = Math.round((agree0 / n0) * 1000);
  let g = cache.get(key);
  if (!g) {
    g = {
      params: armGuard({ stage: 'supervised', measured: { n: n0, agree: Math.round((key / 1000) * n0) }, target: 0.85, guard: GUARD, at: new Date(0) }).params,
    };
    cache.set(key, g);
  }
  return g;
}

function simulateGuardRuns(o: JudgementOptions, seed: number): JudgementResult['guard'] {
  const random = seededRandom(seed);
  const baseline = 0.92;
  const dropped = baseline - GUARD.minDetectableDrop;
  // The controller's baseline at supervised: a week (thresholdWindowDays) of blind labels, 2,000 a day in shadow.
  const baselineLabels = 14_000;
  const cache = new Map<number, ArmedGuard>();
  // The best possible detector: a CUSUM that knows 0.92 and 0.86, with its threshold set for 5 false
  // reverts per 1,000 segment-days of 2,000 comparisons (ARL₀ = 2,000 / 0.005).
  const oracle: GuardParams = { p0: baseline, p1: dropped, h: guardThresholdFor(baseline, dropped, o.perDay / 0.005) };
  const lookMs = o.lookEveryMinutes * 60_000;
  const delayMs = o.labelDelayHours * 3_600_000;
  const warmup = 500;
  const delays: number[] = [];
  const oracleDelays: number[] = [];
  const naiveDelays: number[] = [];
  let missed = 0;
  for (let run = 0; run < o.runs; run++) {
    const g = guardFor(cache, baselineLabels, random.binomial(baselineLabels, baseline));
    const count = warmup + 6000;
    const labels = labelStream(random, count, o.perDay, delayMs);
    const right = new Array<boolean>(count);
    for (let i = 0; i < count; i++) right[i] = random.bernoulli(i < warmup ? baseline : dropped);
    // The service's guard: one batch per look.
    let s: GuardState = initialGuardState();
    let postDrop = 0;
    let i = 0;
    let caught: number | null = null;
    for (let look = lookMs; i < labels.length && caught === null; look += lookMs) {
      let n = 0;
      let agree = 0;
      for (; i < labels.length && labels[i].labelMs <= look; i++) {
        n++;
        if (right[labels[i].index]) agree++;
        if (labels[i].index >= warmup) postDrop++;
      }
      if (n === 0) continue;
      const u = updateGuard(s, { n, agree }, g.params);
      s = u.state;
      if (u.breached) caught = postDrop;
    }
    if (caught === null) missed++;
    else delays.push(caught);
    // The oracle, one comparison at a time on the same arrival order.
    let so: GuardState = initialGuardState();
    let post = 0;
    for (const l of labels) {
      if (l.index >= warmup) post++;
      const u = updateGuard(so, { n: 1, agree: right[l.index] ? 1 : 0 }, oracle);
      so = u.state;
      if (u.breached) {
        oracleDelays.push(post);
        break;
      }
    }
    // The rule it replaced, for scale: a one-sided z-test of each 100 arrivals against the estimate, at 5 %.
    let post2 = 0;
    let windowAgree = 0;
    let windowN = 0;
    for (const l of labels) {
      if (l.index >= warmup) post2++;
      windowN++;
      if (right[l.index]) windowAgree++;
      if (windowN === 100) {
        const z = (windowAgree / 100 - g.params.p0) / Math.sqrt((g.params.p0 * (1 - g.params.p0)) / 100);
        if (z < -1.645) {
          if (post2 > 0) naiveDelays.push(post2);
          break;
        }
        windowN = 0;
        windowAgree = 0;
      }
    }
  }
  // Healthy segment-days: 2,000 blind comparisons at the baseline, the guard armed on its own estimate.
  let falseReverts = 0;
  let naiveFalse = 0;
  for (let day = 0; day < o.runs; day++) {
    const g = guardFor(cache, baselineLabels, random.binomial(baselineLabels, baseline));
    const perLook = Math.max(1, Math.round((o.perDay * o.lookEveryMinutes) / 1440));
    let s: GuardState = initialGuardState();
    let reverted = false;
    let naiveReverted = false;
    for (let seen = 0; seen < o.perDay; seen += perLook) {
      const n = Math.min(perLook, o.perDay - seen);
      const agree = random.binomial(n, baseline);
      const u = updateGuard(s, { n, agree }, g.params);
      s = u.state;
      if (u.breached) reverted = true;
    }
    for (let w = 0; w < o.perDay / 100 && !naiveReverted; w++) {
      const a = random.binomial(100, baseline);
      if ((a / 100 - g.params.p0) / Math.sqrt((g.params.p0 * (1 - g.params.p0)) / 100) < -1.645) naiveReverted = true;
    }
    if (reverted) falseReverts++;
    if (naiveReverted) naiveFalse++;
  }
  const median = quantile(delays, 0.5);
  const oracleMedian = quantile(oracleDelays, 0.5);
  return {
    baseline,
    dropped,
    baselineLabels,
    guardDelayMedian: median,
    guardDelayP95: quantile(delays, 0.95),
    oracleDelayMedian: oracleMedian,
    guardDelayRatio: median !== null && oracleMedian ? median / oracleMedian : null,
    oracleH: oracle.h,
    missedDrops: missed,
    falseRevertsPer1000SegmentDays: (falseReverts / o.runs) * 1000,
    naiveFalseRevertsPer1000SegmentDays: (naiveFalse / o.runs) * 1000,
    naiveDelayMedian: quantile(naiveDelays, 0.5),
  };
}

// ---------------------------------------------------------------------------------------------
// The re-review list after a revert at confidence-routed: every `auto` decision whose AI decision
// falls in the guard's evidence window (labels arrive late) must be on it.

function simulateRereview(o: JudgementOptions, seed: number): JudgementResult['rereview'] {
  const random = seededRandom(seed);
  const baseline = 0.92;
  const dropped = 0.8;
  const params = armGuard({ stage: 'confidence-routed', measured: { n: 14_000, agree: 12_880 }, target: 0.9, guard: GUARD, at: new Date(0) }).params;
  const lookMs = o.lookEveryMinutes * 60_000;
  const spacing = 86_400_000 / o.perDay;
  const auditShare = 0.2;
  let missed = 0;
  let sinceDropMissed = 0;
  let reverts = 0;
  for (let run = 0; run < o.runs; run++) {
    const count = 8000;
    const dropAt = 2000;
    // Items at confidence-routed: audited (blind, labelled late) or auto (no label).
    const items = Array.from({ length: count }, (_, i) => ({
      decidedMs: i * spacing,
      audit: random.next() < auditShare,
      right: random.bernoulli(i < dropAt ? baseline : dropped),
      labelMs: 0,
    }));
    for (const it of items) it.labelMs = it.decidedMs + random.next() * o.labelDelayHours * 3_600_000;
    const audits = items.filter((it) => it.audit).sort((a, b) => a.labelMs - b.labelMs);
    let s: GuardState = initialGuardState();
    let windowStartedMs: number | null = null;
    let lastLookMs = 0;
    let j = 0;
    // Per window: the label times and AI-decision minutes of the labels it took in.
    let labelled: Array<{ labelMs: number; decidedMinuteMs: number }> = [];
    for (let look = lookMs; j < audits.length; look += lookMs) {
      let n = 0;
      let agree = 0;
      const batch: typeof labelled = [];
      for (; j < audits.length && audits[j].labelMs <= look; j++) {
        n++;
        if (audits[j].right) agree++;
        batch.push({ labelMs: audits[j].labelMs, decidedMinuteMs: Math.floor(audits[j].decidedMs / 60_000) * 60_000 });
      }
      if (n > 0) {
        const u = updateGuard(s, { n, agree }, params);
        if (s.s === 0 && u.state.s > 0) {
          windowStartedMs = lastLookMs;
          labelled = [];
        }
        if (u.state.s === 0) windowStartedMs = null;
        labelled.push(...batch);
        s = u.state;
        if (u.breached && windowStartedMs !== null) {
          reverts++;
          const windowStart = new Date(windowStartedMs);
          // What evidence_minute answers: the earliest AI-decision minute labelled since the window opened.
          const inWindow = labelled.filter((l) => l.labelMs >= windowStartedMs!);
          const earliest = inWindow.length ? new Date(Math.min(...inWindow.map((l) => l.decidedMinuteMs))) : null;
          const from = rereviewFrom(windowStart, earliest).getTime();
          // The regressed window as its evidence shows it: from the earliest AI decision among the window's labels.
          const evidenceFrom = inWindow.length ? Math.min(...inWindow.map((l) => l.decidedMinuteMs)) : windowStartedMs;
          for (const it of items) {
            if (it.audit || it.decidedMs > look) continue;
            const listed = it.decidedMs >= from;
            if (!listed && it.decidedMs >= evidenceFrom) missed++;
            if (!listed && it.decidedMs >= dropAt * spacing) sinceDropMissed++;
          }
          break;
        }
      }
      lastLookMs = look;
    }
  }
  return { rereviewMissed: missed, autoSinceDropMissed: sinceDropMissed, reverts };
}

// ---------------------------------------------------------------------------------------------
// Many segments: a workflow of 100 segments in shadow, 90 exactly at the target and 10 above it,
// looked at every 100 blind labels each up to 20,000. Per-segment gates bound each segment's chance
// of a false promotion; e-BH (falsePromotionControl: e-bh) bounds their share among promotions.

export function simulateManySegments(o: JudgementOptions, target: number, seed: number): JudgementResult['manySegments'] {
  const random = seededRandom(seed);
  const rollout = gateRollout(target);
  const families = Math.max(20, Math.round(o.runs / 10));
  const segments = 100;
  const above = 10;
  const aboveRate = target + 0.04;
  const perLook = 100;
  const looks = 200;
  const gateAlone = (n: number, agree: number) => evaluateStep(gateAloneInput(n, agree, rollout));
  let fdpPer = 0;
  let fdpEbh = 0;
  let abovePer = 0;
  let aboveEbh = 0;
  for (let f = 0; f < families; f++) {
    const segs = Array.from({ length: segments }, (_, i) => ({
      state: { segment: `s${i}`, stage: 'shadow', trafficPct: 100 } as Parameters<typeof promotionCandidate>[0],
      good: i < above,
      n: 0,
      agree: 0,
      per: false,
      ebh: false,
    }));
    for (let look = 0; look < looks; look++) {
      for (const s of segs) {
        s.agree += random.binomial(perLook, s.good ? aboveRate : target);
        s.n += perLook;
      }
      // Per-segment: each gate alone (its agreement criterion is the e-value reaching 1/α, so only those are judged in full).
      for (const s of segs) {
        if (s.per) continue;
        if (promotionCandidate(s.state, { n: s.n, agree: s.agree }, rollout)!.eValue >= 20 && gateAlone(s.n, s.agree).verdict === 'pass') s.per = true;
      }
      // e-BH: the segments still in shadow form the family of this look.
      const waiting = segs.filter((s) => !s.ebh);
      const control = crossSegmentControl(
        waiting.map((s) => promotionCandidate(s.state, { n: s.n, agree: s.agree }, rollout)!),
        rollout,
      );
      for (const s of waiting) {
        const c = control.get(s.state.segment)!;
        if (!c.promoted) continue;
        const e = evaluateStep({ ...gateAloneInput(s.n, s.agree, rollout), crossSegment: c });
        if (e.verdict === 'pass') s.ebh = true;
      }
    }
    const fdp = (k: 'per' | 'ebh') => {
      const promoted = segs.filter((s) => s[k]);
      return promoted.length === 0 ? 0 : promoted.filter((s) => !s.good).length / promoted.length;
    };
    fdpPer += fdp('per');
    fdpEbh += fdp('ebh');
    abovePer += segs.filter((s) => s.good && s.per).length;
    aboveEbh += segs.filter((s) => s.good && s.ebh).length;
  }
  return {
    families,
    segments,
    atTarget: segments - above,
    above,
    aboveRate,
    falsePromotionSharePerSegment: fdpPer / families,
    falsePromotionShareEbh: fdpEbh / families,
    abovePromotedPerSegment: abovePer / (families * above),
    abovePromotedEbh: aboveEbh / (families * above),
  };
}

function gateAloneInput(n: number, agree: number, rollout: RolloutConfig): Parameters<typeof evaluateStep>[0] {
  return {
    current: { stage: 'shadow', trafficPct: 100 },
    evidence: { blind: { n, agree }, anchored: { n: 0, overridden: 0 }, aiCalls: n, aiFailures: 0 },
    dwellMs: 1e9,
    rollout,
    budgetOk: true,
    approvedStep: null,
    threshold: null,
  };
}

export function simulateJudgement(o: JudgementOptions, log: (line: string) => void = () => undefined): JudgementResult {
  const target = 0.9;
  const scenarios: GateScenario[] = [
    { name: 'shadow → supervised (every item blind)', stage: 'shadow', trafficPct: 100 },
    { name: 'supervised 25 % → 50 % (split arms, anchored reviews)', stage: 'supervised', trafficPct: 25 },
  ];
  const timed = <T>(name: string, fn: () => T): T => {
    const t = Date.now();
    const r = fn();
    log(`   ${name}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return r;
  };
  const gate = timed('gate', () => scenarios.map((sc, k) => ({ scenario: sc.name, ...simulateGate(o, target, sc, o.seed + k) })));
  return {
    options: o,
    gate: { target, scenarios: gate, gatePassAtTarget: Math.max(...gate.map((g) => g.passShare)) },
    threshold: timed('threshold', () => simulateThreshold(o, o.seed + 10)),
    guard: timed('guard', () => simulateGuardRuns(o, o.seed + 20)),
    rereview: timed('re-review', () => simulateRereview(o, o.seed + 30)),
    manySegments: timed('many segments', () => simulateManySegments(o, target, o.seed + 40)),
  };
}

/** The figure keys of benchmarks.json that this section owns. */
export function judgementFigures(r: JudgementResult): Record<string, number | null> {
  return {
    gatePassAtTarget: r.gate.gatePassAtTarget,
    thresholdViolations: r.threshold.thresholdViolations,
    guardDelayMedian: r.guard.guardDelayMedian,
    guardDelayRatio: r.guard.guardDelayRatio,
    falseRevertsPer1000SegmentDays: r.guard.falseRevertsPer1000SegmentDays,
    rereviewMissed: r.rereview.rereviewMissed,
    falsePromotionShareEbh: r.manySegments.falsePromotionShareEbh,
    falsePromotionSharePerSegment: r.manySegments.falsePromotionSharePerSegment,
  };
}
