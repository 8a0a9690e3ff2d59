import type { SegmentFacts } from '../../src/rollout/domain/segment-machine';
import type { SegmentState } from '../../src/rollout/domain/segment-state';
import { ZERO_COUNTS } from '../../src/rollout/domain/segment-counts';
import { rolloutSchema } from '../../src/workflows/domain/workflow-definition';

/** Builders for the segment state machine's specs: a segment row and the facts loaded beside it. */

export const T0 = new Date('2026-11-30T10:00:00.000Z');
export const minutesAfter = (m: number, from = T0): Date => new Date(from.getTime() + m * 60_000);

export const testRollout = rolloutSchema.parse({
  steps: [50, 100],
  gates: {
    supervised: { minSample: 100, minDwellMinutes: 10, agreementTarget: 0.85, approval: false },
    'confidence-routed': { minSample: 100, minDwellMinutes: 10, agreementTarget: 0.85, maxOverrideRate: 0.2, approval: true },
  },
});

export function segmentState(over: Partial<SegmentState> = {}): SegmentState {
  return {
    workflow: 'triage',
    segment: 'email|eu',
    version: 1,
    stage: 'shadow',
    trafficPct: 100,
    stageStartedAt: T0,
    stepStartedAt: T0,
    paused: false,
    pauseKind: null,
    pauseReason: null,
    pausedAt: null,
    pausedBy: null,
    flagSplit: { stage: over.stage ?? 'shadow', trafficPct: over.trafficPct ?? 100 },
    stepBase: { ...ZERO_COUNTS, rangeStart: (over.stageStartedAt ?? T0).toISOString() },
    pendingStep: null,
    approvedStep: null,
    lastVerdict: null,
    lastEvaluatedAt: null,
    baseline: null,
    guardState: null,
    guardParams: null,
    guardWindowStartedAt: null,
    threshold: null,
    thresholdSource: 'none',
    thresholdDetails: null,
    thresholdUpdatedAt: null,
    classGuards: null,
    guardrailState: null,
    driftMonitor: null,
    auditFactor: null,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

export const evidence = (blindN = 0, blindAgree = 0, anchoredN = 0, anchoredOverridden = 0) => ({
  blindN,
  blindAgree,
  anchoredN,
  anchoredAgree: anchoredN - anchoredOverridden,
  anchoredOverridden,
});

/** Calibration bins (20 of them) whose top half is always right and bottom half right half the time. */
export function calibration(perBin: number): SegmentFacts['calibration'] {
  const n = new Array(20).fill(perBin);
  return { n, correct: n.map((x: number, i: number) => (i >= 10 ? x : Math.floor(x / 2))) };
}

export function segmentFacts(over: Partial<SegmentFacts> = {}): SegmentFacts {
  return {
    now: minutesAfter(60),
    version: 1,
    rollout: testRollout,
    stageTotals: { ...ZERO_COUNTS },
    minuteTotals: { ...ZERO_COUNTS },
    stageEvidence: evidence(),
    stepEvidence: evidence(),
    minuteEvidence: { shadow: { blindN: 0, blindAgree: 0 }, supervised: { blindN: 0, blindAgree: 0 }, 'confidence-routed': { blindN: 0, blindAgree: 0 } },
    supervisedBaseline: { n: 0, agree: 0 },
    earliestLabelledInWindow: null,
    calibration: { n: new Array(20).fill(0), correct: new Array(20).fill(0) },
    auditsAbove: null,
    parityPairs: null,
    critical: null,
    guardrailTotals: null,
    drift: null,
    ...over,
  };
}
