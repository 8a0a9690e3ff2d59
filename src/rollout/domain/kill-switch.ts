import { OPERATOR } from './segment-machine';

/**
 * A flag's environment switch as known in PostgreSQL: `pending` while a write is owed to Unleash
 * (the stored value is already in force), `writtenAt` once Unleash confirmed it.
 */
export interface KnownSwitch {
  enabled: boolean;
  pending?: boolean;
  writtenAt?: string;
}

export interface KillSwitchLook {
  /** What PostgreSQL holds (null: never set). */
  known: KnownSwitch | null;
  /** What Unleash said, or null when it did not answer. */
  live: boolean | null;
  /** When Unleash was read: a state stored at or after it is newer than the read. */
  readAt: Date;
}

export interface KillSwitchVerdict {
  /** Whether the kill switch is on for this cycle. */
  on: boolean;
  /** An operator changed it in Unleash: the change to record and alert on. */
  adopted: { before: boolean; after: boolean } | null;
  /** What to store, or null to leave the stored state alone. */
  store: KnownSwitch | null;
}

/**
 * The kill switch after reading Unleash. It is on when either side says so until they agree. The
 * state in Unleash is adopted — an operator's change recorded — unless it cannot be trusted: Unleash
 * did not answer, a write to it is still owed, or the stored state was written after the flag was
 * read (the read is stale). A first reading is stored without being called a change.
 */
export function reconcileKillSwitch({ known, live, readAt }: KillSwitchLook): KillSwitchVerdict {
  const either = (known?.enabled ?? false) || live === true;
  if (live === null || known?.pending || (known?.writtenAt && new Date(known.writtenAt) >= readAt)) {
    return { on: either, adopted: null, store: null };
  }
  const changed = !known || known.enabled !== live;
  return { on: live, adopted: known && changed ? { before: known.enabled, after: live } : null, store: changed ? { enabled: live } : null };
}

/** The audit entry and alert of an operator's change of the kill switch in Unleash. */
export function killSwitchAdoption(flag: string, change: { before: boolean; after: boolean }) {
  const { before, after } = change;
  return {
    audit: {
      actor: OPERATOR.name,
      actorKind: OPERATOR.kind,
      action: 'kill-switch.changed',
      reason: `kill switch turned ${after ? 'ON' : 'off'} in Unleash by an operator`,
      details: { flag, before, after },
    },
    alert: {
      kind: 'kill-switch.changed',
      summary: `Kill switch ${after ? 'ON: nothing leaves Understudy' : 'off'}`,
      details: { before, after, by: 'operator' },
    },
  };
}
