import type { SegmentSplit } from '../../flags/domain/segment-split';
import type { WorkflowFlagState } from '../../flags/flag-gateway';
import type { KnownSplit } from './segment-state';
import { sameSplit } from './steps';

/** What an operator changed in Unleash since the controller last wrote or adopted the flag. */
export type FlagChange =
  | { kind: 'workflow-enabled'; before: boolean | null; after: boolean }
  | { kind: 'segment-split'; segment: string; before: SegmentSplit; after: SegmentSplit; irregular?: string }
  | { kind: 'segment-removed'; segment: string; before: SegmentSplit };

export interface KnownSegment {
  segment: string;
  /** What the controller last wrote or adopted for it (with the irregularity it adopted, if any); null if it never wrote it. */
  flagSplit: KnownSplit | null;
  /** The segment's own stage and split, as the controller holds it. */
  state: SegmentSplit;
}

/**
 * Compares the live flag with what the controller knows it wrote. Everything else is an
 * operator's change: listed here, so it can be audited and adopted — never overwritten. A segment
 * whose write is still owed to Unleash, or was written after the flag was read (`readAt`), is
 * not compared: the flag read does not show it yet.
 */
export function detectOperatorChanges(live: WorkflowFlagState, knownEnabled: boolean | null, segments: KnownSegment[], readAt?: Date): FlagChange[] {
  const changes: FlagChange[] = [];
  if (knownEnabled !== null && live.exists && live.enabled !== knownEnabled) {
    changes.push({ kind: 'workflow-enabled', before: knownEnabled, after: live.enabled });
  }
  const liveBySegment = new Map(live.segments.map((s) => [s.segment, s]));
  for (const s of segments) {
    if (s.flagSplit?.pending || (readAt && s.flagSplit?.writtenAt && new Date(s.flagSplit.writtenAt) >= readAt)) continue;
    const l = liveBySegment.get(s.segment);
    if (!s.flagSplit) {
      // Never written by the controller, yet Unleash has a strategy for it (set by an operator, or
      // left by an earlier installation): that split is the truth, to be adopted.
      if (l && (!sameSplit(l.split, s.state) || l.irregular)) {
        changes.push({ kind: 'segment-split', segment: s.segment, before: s.state, after: l.split, ...(l.irregular ? { irregular: l.irregular } : {}) });
      }
      continue;
    }
    if (!l) {
      if (live.exists) changes.push({ kind: 'segment-removed', segment: s.segment, before: s.flagSplit });
      continue;
    }
    if (!sameSplit(l.split, s.flagSplit) || (l.irregular ?? null) !== (s.flagSplit.irregular ?? null)) {
      const before: SegmentSplit = { stage: s.flagSplit.stage, trafficPct: s.flagSplit.trafficPct };
      changes.push({ kind: 'segment-split', segment: s.segment, before, after: l.split, ...(l.irregular ? { irregular: l.irregular } : {}) });
    }
  }
  return changes;
}
