import type { SegmentSplit } from '../../flags/domain/segment-split';
import { nextStage, previousStage, Stage } from '../../flags/domain/stage';

/**
 * The promotion ladder: shadow, then each traffic step of supervised, then each step of
 * confidence-routed. One rung at a time; a revert goes down a whole stage.
 */
export function nextStep(current: SegmentSplit, steps: readonly number[]): SegmentSplit | null {
  if (current.stage !== 'shadow') {
    const higher = steps.find((s) => s > current.trafficPct + 1e-9);
    if (higher !== undefined) return { stage: current.stage, trafficPct: higher };
  }
  const up = nextStage(current.stage);
  return up ? { stage: up, trafficPct: steps[0] } : null;
}

/** Where a revert lands: the stage below at 100 % (one-stage), or shadow. */
export function revertTarget(current: SegmentSplit, mode: 'one-stage' | 'to-shadow'): SegmentSplit {
  if (mode === 'to-shadow') return { stage: 'shadow', trafficPct: 100 };
  // Part-way into a stage, the stage below still carries the rest: back to it, whole.
  const below: Stage = previousStage(current.stage) ?? 'shadow';
  return { stage: below, trafficPct: 100 };
}

/** Whether a step enters a new stage (approval, when required, is asked for these only). */
export function entersStage(from: SegmentSplit, to: SegmentSplit): boolean {
  return from.stage !== to.stage;
}

export function sameSplit(a: SegmentSplit | null | undefined, b: SegmentSplit | null | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.stage !== b.stage) return false;
  return a.stage === 'shadow' || Math.abs(a.trafficPct - b.trafficPct) < 0.05;
}

export function describeSplit(s: SegmentSplit): string {
  return s.stage === 'shadow' ? 'shadow' : `${s.stage} ${s.trafficPct} %`;
}
