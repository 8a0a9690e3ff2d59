import type { OwedFlagWrite } from './flag-write';
import type { AlertDraft, AuditDraft, Effects } from './segment-machine';
import type { KnownSplit, SegmentState } from './segment-state';

/** Where a decision's effects land, in the caller's transaction `Tx` (SegmentRepository, AuditRepository, AlertService in production). */
export interface EffectStores<Tx> {
  segments: {
    update(tx: Tx, workflow: string, segment: string, patch: Partial<SegmentState>): Promise<void>;
    /** Puts the `auto` decisions of a segment from a time on to re-review, tied to the revert's audit entry; returns how many. */
    listForRereview(tx: Tx, workflow: string, segment: string, since: Date, revertAuditId: string): Promise<number>;
  };
  audit: { append(entry: AuditDraft, tx: Tx): Promise<{ id: string }> };
  /** Raised in the transaction; they go out once it commits. */
  alerts: { raise(tx: Tx, alert: Omit<AlertDraft, 'withRereview'>): Promise<void> };
}

/** Which segment (or, with segment null, which workflow) a decision is about, and what its strategy was known to hold. */
export interface EffectTarget {
  workflow: string;
  segment: string | null;
  flagSplit?: KnownSplit | null;
}

/**
 * Applies a segment decision's effects once (domain/segment-machine.ts decides them): the row's
 * patch, the audit entries in order, the re-review list tied to the revert's entry, and the
 * alerts — a revert's alert carrying how many decisions went to re-review. The flag write is
 * returned, owed: the caller hands it to FlagWriter after the commit, so no row lock is held while
 * Unleash is called and a move holds from PostgreSQL alone if Unleash does not answer.
 */
export class SegmentEffects<Tx> {
  constructor(private readonly stores: EffectStores<Tx>) {}

  async apply(tx: Tx, at: EffectTarget, e: Effects): Promise<OwedFlagWrite | null> {
    const { segments, audit, alerts } = this.stores;
    if (at.segment) await segments.update(tx, at.workflow, at.segment, e.patch);
    const ids: string[] = [];
    for (const entry of e.audit) ids.push((await audit.append(entry, tx)).id);
    let rereview: { rereviewItems: number; auditId: string } | null = null;
    if (e.rereview && at.segment) {
      const auditId = ids[e.rereview.auditIndex];
      rereview = { rereviewItems: await segments.listForRereview(tx, at.workflow, at.segment, e.rereview.from, auditId), auditId };
    }
    for (const { withRereview, ...alert } of e.alerts) {
      await alerts.raise(tx, withRereview && rereview ? { ...alert, details: { ...alert.details, ...rereview } } : alert);
    }
    if (!e.flagWrite || !at.segment) return null;
    return { workflow: at.workflow, segment: at.segment, split: e.flagWrite, before: at.flagSplit ?? null };
  }
}

export function createSegmentEffects<Tx>(stores: EffectStores<Tx>): SegmentEffects<Tx> {
  return new SegmentEffects(stores);
}
