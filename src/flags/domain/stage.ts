/**
 * The rollout stages of a workflow × segment, lowest first. The order is the contract:
 * promotion moves one step right, a revert one step left.
 */
export const STAGES = ['shadow', 'supervised', 'confidence-routed'] as const;
export type Stage = (typeof STAGES)[number];

export function isStage(value: unknown): value is Stage {
  return typeof value === 'string' && (STAGES as readonly string[]).includes(value);
}

/** 0 for shadow, 1 for supervised, 2 for confidence-routed; throws on anything else. */
export function stageIndex(stage: Stage): number {
  const i = STAGES.indexOf(stage);
  if (i < 0) throw new RangeError(`not a stage: ${JSON.stringify(stage)}`);
  return i;
}

/** The stage one step up, or null at the top. */
export function nextStage(stage: Stage): Stage | null {
  return STAGES[stageIndex(stage) + 1] ?? null;
}

/** The stage one step down, or null at shadow. */
export function previousStage(stage: Stage): Stage | null {
  const i = stageIndex(stage);
  return i === 0 ? null : STAGES[i - 1];
}
