import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';

/**
 * A flag's environment switch as known in PostgreSQL: `pending` while a write is owed to Unleash
 * (the stored value is already in force), `writtenAt` once Unleash confirmed it.
 */
export interface FlagSnapshot {
  enabled: boolean;
  pending?: boolean;
  writtenAt?: string;
}

/** What was last set through the API, written to, or adopted from a flag's environment switch. */
@Injectable()
export class FlagSnapshotRepository {
  constructor(private readonly dataSource: DataSource) {}

  async get(tx: Tx, flagName: string): Promise<FlagSnapshot | null> {
    const rows = await tx.query(`SELECT state FROM flag_snapshots WHERE flag_name = $1`, [flagName]);
    return rows[0]?.state ?? null;
  }

  /** Marks an owed write confirmed, unless the state changed meanwhile. */
  async confirmWritten(tx: Tx, flagName: string, enabled: boolean, at: Date): Promise<void> {
    await tx.query(
      `UPDATE flag_snapshots SET state = $2, updated_at = now()
       WHERE flag_name = $1 AND (state->>'pending')::boolean IS TRUE AND (state->>'enabled')::boolean = $3`,
      [flagName, { enabled, writtenAt: at.toISOString() }, enabled],
    );
  }

  async set(tx: Tx, flagName: string, state: FlagSnapshot): Promise<void> {
    await tx.query(
      `INSERT INTO flag_snapshots (flag_name, state) VALUES ($1, $2)
       ON CONFLICT (flag_name) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
      [flagName, state],
    );
  }

  /** Whether a flag's environment switch is stored as enabled (false when nothing is stored). */
  async isEnabled(flagName: string, tx?: Tx): Promise<boolean> {
    const [row]: Array<{ enabled: boolean | null }> = await (tx ?? this.dataSource.manager).query(
      `SELECT (state->>'enabled')::boolean AS enabled FROM flag_snapshots WHERE flag_name = $1`,
      [flagName],
    );
    return row?.enabled === true;
  }
}
