import { createHash } from 'node:crypto';
import type { StageDecision } from '../../flags/flag-reader';
import { Stage, stageIndex } from '../../flags/domain/stage';

export type RouteAction = 'suggest' | 'auto' | 'review' | 'audit' | 'double-label' | 'none';

export interface RouteInput {
  flag: StageDecision;
  killSwitch: boolean;
  valid: boolean;
  confidence: number | null;
  threshold: number | null;
  auditShare: number;
  /** Share of the supervised arm decided blind (routed `audit`, no suggestion shown). */
  supervisedBlindShare: number;
  doubleLabelShare: number;
  /** The decision came after the routing deadline: people have already picked the item up. */
  stale: boolean;
  /** Uniform draws in [0, 1) for the audit and double-label samples. */
  auditDraw: number;
  doubleLabelDraw: number;
}

export interface Route {
  action: RouteAction;
  stage: Stage | null;
  reason: string;
}

/**
 * The stage an item is routed at: the lower of what the flag says for it and the segment's stage
 * stored in PostgreSQL. A rollback, a revert or a hold is written to PostgreSQL first, so it takes
 * effect on every instance from the database alone, whatever the state of Unleash; an operator's
 * move down in Unleash takes effect from the flag. Null stored: a segment the database does not know yet.
 */
export function conservativeStage(flag: StageDecision, stored: Stage | null): StageDecision {
  if (flag.stage === null || stored === null || stageIndex(stored) >= stageIndex(flag.stage)) return flag;
  return { stage: stored, reason: 'stored-state', flagStage: flag.stage };
}

/**
 * The stage a segment's stored state allows a decision of `version`: its stage when that version
 * earned it, shadow when another version did (a new champion earns its own stage; the controller
 * moves the segment back at its next look, routing does not wait for it).
 */
export function storedStageFor(stored: { stage: Stage | null; version: number | null }, version: number): Stage | null {
  if (stored.stage === null) return null;
  return stored.version !== null && stored.version !== version ? 'shadow' : stored.stage;
}

/**
 * What leaves Understudy for one AI decision — the stage table of the design, as a function.
 * Anything uncertain (kill switch, disabled flag, unknown flag state, invalid or late decision)
 * sends nothing: the item stays with people, as it is today.
 */
export function decideRoute(i: RouteInput): Route {
  const stage = i.flag.stage;
  if (i.killSwitch) return { action: 'none', stage, reason: 'kill switch on: nothing leaves Understudy' };
  if (stage === null) return { action: 'none', stage, reason: 'workflow flag disabled: humans only' };
  if (!i.valid) return { action: 'none', stage, reason: 'no valid AI decision: humans handle the item' };
  if (i.stale) return { action: 'none', stage, reason: 'AI decision came after the routing deadline' };
  switch (stage) {
    case 'shadow':
      if (i.flag.reason === 'unknown-state') return { action: 'none', stage, reason: 'flag state unknown: shadow' };
      if (i.doubleLabelDraw < i.doubleLabelShare) {
        return { action: 'double-label', stage, reason: 'sampled for a second independent human decision (human-vs-human baseline)' };
      }
      if (i.flag.reason === 'stored-state')
        return { action: 'none', stage, reason: `shadow: the segment's stored stage (the flag still says ${i.flag.flagStage})` };
      return { action: 'none', stage, reason: i.flag.reason === 'variant' ? 'shadow' : `shadow (${i.flag.reason})` };
    case 'supervised':
      if (i.auditDraw < i.supervisedBlindShare) {
        return { action: 'audit', stage, reason: 'supervised, drawn into the blind sample: a person decides without the suggestion' };
      }
      return { action: 'suggest', stage, reason: 'supervised: suggestion for a person to accept or override' };
    case 'confidence-routed': {
      if (i.threshold === null) {
        // Without a threshold the audit sample is drawn from every item: blind labels at every
        // confidence, the only honest way to certify one (reviews are anchored).
        if (i.auditDraw < i.auditShare) return { action: 'audit', stage, reason: 'no certified confidence threshold yet: drawn into the blind audit sample' };
        return { action: 'review', stage, reason: 'no certified confidence threshold yet' };
      }
      if (i.confidence === null) return { action: 'review', stage, reason: 'the decision has no confidence' };
      if (i.confidence + 1e-9 < i.threshold) {
        return { action: 'review', stage, reason: `confidence ${i.confidence.toFixed(3)} below threshold ${i.threshold.toFixed(3)}` };
      }
      if (i.auditDraw < i.auditShare) {
        return { action: 'audit', stage, reason: 'auto-eligible, drawn into the blind audit sample' };
      }
      return { action: 'auto', stage, reason: `confidence ${i.confidence.toFixed(3)} at or above threshold ${i.threshold.toFixed(3)}` };
    }
  }
}

/**
 * A uniform draw in [0, 1) fixed by the item and the purpose, so a sample is reproducible and
 * independent between purposes (audit vs double-label).
 */
export function stableDraw(itemId: string, purpose: string): number {
  const h = createHash('sha256').update(`${purpose}\u0000${itemId}`).digest();
  return h.readUInt32BE(0) / 0x1_0000_0000;
}
