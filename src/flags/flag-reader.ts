import type { Stage } from './domain/stage';

/**
 * What the flags say about one work item. Read it by `stage` first:
 *
 *  - `stage: null` (reason 'flag-disabled') — HUMANS ONLY. The workflow's flag is disabled in the
 *    environment (ops' rollback, possibly from Unleash's UI): nothing the AI produced leaves
 *    Understudy for this item, not even a suggestion. The AI may keep running in shadow.
 *  - `stage: 'shadow'` — the AI runs, nothing leaves. Reasons:
 *      'unknown-state'     no flag state at all (Unleash never reached and no backup, or the flag
 *                          does not exist) — the design's "none at all → shadow";
 *      'no-strategy'       the flag is enabled but no strategy matched this item's segment;
 *      'irregular-variant' a strategy matched but gave a variant that is not a stage (or none):
 *                          `variant` names it, so the controller can report it;
 *      'variant'           the segment's split put this item in shadow.
 *  - `stage: 'supervised' | 'confidence-routed'` with reason 'variant' — the item's bucket.
 *  - reason 'stored-state' — not from the flag: routing lowered the flag's stage to the segment's
 *    stored one (`flagStage` is what the flag said), see routing/domain/decide-route.ts.
 *
 * The kill switch is separate (`killSwitch()`): callers check it before acting on any stage.
 */
export type StageDecision =
  | { stage: null; reason: 'flag-disabled' }
  | { stage: Stage; reason: 'variant'; variant: Stage }
  | { stage: 'shadow'; reason: 'no-strategy' | 'unknown-state' }
  | { stage: 'shadow'; reason: 'irregular-variant'; variant?: string }
  /** Routing caps the flag at the segment's stored stage (a rollback or revert Unleash has not caught up with). */
  | { stage: Stage; reason: 'stored-state'; flagStage: Stage };

export type StageReason = StageDecision['reason'];

/** Marker for readability at call sites: `decision.stage === HUMANS_ONLY`. */
export const HUMANS_ONLY = null;

export interface FlagReader {
  /** True once flag state is known: synchronised with Unleash, or loaded from the backup file. */
  ready(): boolean;
  /** Never throws and never blocks: evaluates the last known flag state locally. */
  stageFor(workflow: string, segment: string, itemId: string): StageDecision;
  /** The workflow flag's environment switch; null when its state is unknown. */
  workflowEnabled(workflow: string): boolean | null;
  /** True when `understudy.kill-switch` is enabled: nothing leaves Understudy. False when unknown. */
  killSwitch(): boolean;
  close(): Promise<void>;
}
