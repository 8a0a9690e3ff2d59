import { createHash } from 'node:crypto';

/**
 * The hash chain over the audit log. Each entry stores the hash of the previous entry's hash and
 * its own canonical content, so changing, removing or reordering an entry breaks every hash after
 * it. PostgreSQL computes the hashes as entries are appended (trigger `audit_events_chain`, function
 * `understudy_audit_hash`); this is the same rule in TypeScript, by which `npm run audit:verify`
 * recomputes the chain independently of the database's own function.
 *
 * Canonical form: every field as `<UTF-8 byte length>:<text>`, or `-` for null, concatenated in a
 * fixed order — unambiguous without escaping. Fields are the texts PostgreSQL renders: the id in
 * decimal, the time in UTC with microseconds (`2026-11-30T12:00:00.123456Z`), and the details as
 * jsonb's own rendering (keys in jsonb's order, `", "` and `": "` separators), which depends only on
 * the stored value.
 */

/** One audit entry's content as the database renders it (the inputs of the hash). */
export interface AuditEntryContent {
  id: string;
  at: string;
  actor: string;
  actorKind: string;
  action: string;
  workflow: string | null;
  segment: string | null;
  reason: string | null;
  /** `details::text`. */
  details: string;
}

/** A stored entry: its content and the two hashes the database wrote beside it. */
export interface StoredAuditEntry extends AuditEntryContent {
  prevHash: string | null;
  hash: string | null;
}

function field(value: string | null): string {
  return value === null ? '-' : `${Buffer.byteLength(value, 'utf8')}:${value}`;
}

export function canonicalAuditContent(e: AuditEntryContent): string {
  return [e.id, e.at, e.actor, e.actorKind, e.action, e.workflow, e.segment, e.reason, e.details].map(field).join('');
}

/** sha256 (hex) of the previous entry's hash (null for the first entry) followed by this entry's canonical content. */
export function auditEntryHash(prevHash: string | null, e: AuditEntryContent): string {
  return createHash('sha256')
    .update(field(prevHash) + canonicalAuditContent(e), 'utf8')
    .digest('hex');
}

/** Where and why the chain is broken. */
export interface ChainBreak {
  id: string;
  reason: string;
}

/** An entry an operator recorded earlier (its id and hash), which must still be in the chain unchanged. */
export interface ChainAnchor {
  id: string;
  hash: string;
}

export type ChainVerdict = { ok: true; count: number; lastId: string | null; lastHash: string | null } | { ok: false; count: number; broken: ChainBreak };

/**
 * Walks the chain entry by entry, in id order, so a log of any size is checked in pages. Stops at
 * the first break: every later hash depends on it, so later breaks say nothing new.
 */
export class AuditChainVerifier {
  private count = 0;
  private last: StoredAuditEntry | null = null;
  private broken: ChainBreak | null = null;
  private readonly anchors: Map<string, string>;

  constructor(anchors: ChainAnchor[] = []) {
    this.anchors = new Map(anchors.map((a) => [a.id, a.hash.toLowerCase()]));
  }

  /** Checks the next entry; false once the chain is broken (feeding more changes nothing). */
  next(e: StoredAuditEntry): boolean {
    if (this.broken) return false;
    if (this.last !== null && BigInt(e.id) <= BigInt(this.last.id)) {
      return this.fail(e.id, `entries are not in id order (after entry ${this.last.id})`);
    }
    const expectedPrev = this.last?.hash ?? null;
    this.count++;
    if (e.hash === null) return this.fail(e.id, 'the entry has no hash (written without the chain trigger)');
    if (e.prevHash !== expectedPrev) {
      return this.fail(
        e.id,
        this.last === null
          ? `it is the first entry but names a previous hash ${e.prevHash} (entries before it were removed)`
          : `its previous hash ${e.prevHash ?? 'null'} is not the hash of entry ${this.last.id} (${expectedPrev}): an entry between them was removed or inserted, or the chain was rewritten from here`,
      );
    }
    const computed = auditEntryHash(expectedPrev, e);
    if (computed !== e.hash) return this.fail(e.id, `its content does not match its hash (stored ${e.hash}, computed ${computed}): the entry was changed`);
    const anchored = this.anchors.get(e.id);
    if (anchored !== undefined && anchored !== e.hash) {
      return this.fail(e.id, `its hash ${e.hash} is not the recorded ${anchored}: the chain was rewritten up to or past this entry`);
    }
    this.anchors.delete(e.id);
    this.last = e;
    return true;
  }

  result(): ChainVerdict {
    if (this.broken) return { ok: false, count: this.count, broken: this.broken };
    const missing = [...this.anchors.keys()][0];
    if (missing !== undefined) {
      return {
        ok: false,
        count: this.count,
        broken: { id: missing, reason: `the recorded entry ${missing} is no longer in the log (removed, or the log was cut)` },
      };
    }
    return { ok: true, count: this.count, lastId: this.last?.id ?? null, lastHash: this.last?.hash ?? null };
  }

  private fail(id: string, reason: string): false {
    this.broken = { id, reason };
    return false;
  }
}

/** Parses `<id>:<sha256 hex>` as printed by the verify command. */
export function parseChainAnchor(text: string): ChainAnchor {
  const m = /^(\d+):([0-9a-fA-F]{64})$/.exec(text.trim());
  if (!m) throw new Error(`an anchor is <entry id>:<64 hex digits>, as the verify command prints it; got "${text}"`);
  return { id: String(BigInt(m[1])), hash: m[2].toLowerCase() };
}
