import { errorMessage } from '../../common/domain-error';
import type { SegmentSplit } from '../../flags/domain/segment-split';
import type { FlagGateway } from '../../flags/flag-gateway';
import { stageIndex } from '../../flags/domain/stage';
import type { KnownSplit } from './segment-state';
import { sameSplit } from './steps';

/** A split owed to a segment's strategy in Unleash, and what the strategy was known to hold before. */
export interface OwedFlagWrite {
  workflow: string;
  segment: string;
  split: SegmentSplit;
  before: KnownSplit | null;
}

/** Whether `after` lets the AI decide more than `before`: a later stage, or a larger share of the same one. */
export function isMoveUp(before: SegmentSplit, after: SegmentSplit): boolean {
  const rank = (s: SegmentSplit) => stageIndex(s.stage) * 1000 + (s.stage === 'shadow' ? 0 : s.trafficPct);
  return rank(after) > rank(before);
}

/**
 * Whether an owed write must first check what the strategy holds now: a move up is written only
 * over what was known before it. A move down (a revert, a rollback) is written whatever the flag holds.
 */
export function checksBeforeWriting(w: OwedFlagWrite): boolean {
  return !!w.before && isMoveUp(w.before, w.split);
}

/**
 * Whether an operator changed the segment's strategy since the controller last knew it: then the
 * owed move up is not written and the operator's change is adopted at the next cycle instead.
 * A strategy that is gone is no operator's split to keep.
 */
export function changedInUnleash(w: OwedFlagWrite, live: SegmentSplit | null): boolean {
  return !!live && !sameSplit(live, w.before);
}

/** The segment store a flag write confirms into (SegmentRepository in production). */
export interface FlagWriteStore {
  confirmFlagWritten(workflow: string, segment: string, split: SegmentSplit, at: Date): Promise<void>;
}

export interface FlagWriterLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * Writes the splits owed to Unleash after the moves that owe them committed, and marks each
 * confirmed. A write Unleash does not take stays owed: the controller retries it every cycle.
 */
export class FlagWriter {
  constructor(
    private readonly flags: Pick<FlagGateway, 'readWorkflowFlag' | 'writeSegmentSplit'>,
    private readonly segments: FlagWriteStore,
    private readonly clock: { now(): Date },
    private readonly log: FlagWriterLog,
  ) {}

  /** True when the write was made (or given up for an operator's change); false when it stays owed. */
  async write(w: OwedFlagWrite): Promise<boolean> {
    try {
      if (checksBeforeWriting(w)) {
        const live = (await this.flags.readWorkflowFlag(w.workflow)).segments.find((s) => s.segment === w.segment);
        if (changedInUnleash(w, live?.split ?? null)) {
          this.log.warn(
            { workflow: w.workflow, segment: w.segment, live: live!.split, expected: w.before },
            "the strategy changed in Unleash since it was read: the move is not written, the operator's change is adopted next",
          );
          // Confirmed as of the epoch, so the next flag read compares the operator's split and adopts it.
          await this.segments.confirmFlagWritten(w.workflow, w.segment, w.split, new Date(0));
          return true;
        }
      }
      await this.flags.writeSegmentSplit(w.workflow, w.segment, w.split);
    } catch (e) {
      this.log.warn(
        { err: errorMessage(e), workflow: w.workflow, segment: w.segment, split: w.split },
        'writing the split to Unleash failed; the stored stage holds and the write is retried',
      );
      return false;
    }
    await this.segments.confirmFlagWritten(w.workflow, w.segment, w.split, this.clock.now());
    return true;
  }
}

export function createFlagWriter(ports: {
  flags: Pick<FlagGateway, 'readWorkflowFlag' | 'writeSegmentSplit'>;
  segments: FlagWriteStore;
  clock: { now(): Date };
  log: FlagWriterLog;
}): FlagWriter {
  return new FlagWriter(ports.flags, ports.segments, ports.clock, ports.log);
}
