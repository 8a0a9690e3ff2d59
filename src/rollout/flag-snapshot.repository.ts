import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/sql';

/** What the controller last wrote to, or adopted from, a flag's environment switch. */
@Injectable()
export class FlagSnapshotRepository {
  async get(tx: Tx, flagName: string): Promise<{ enabled: boolean } | null> {
    const rows = await tx.query(`SELECT state FROM flag_snapshots WHERE flag_name = $1`, [flagName]);
    return rows[0]?.state ?? null;
  }

  async set(tx: Tx, flagName: string, state: { enabled: boolean }): Promise<void> {
    await tx.query(
      `INSERT INTO flag_snapshots (flag_name, state) VALUES ($1, $2)
       ON CONFLICT (flag_name) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
      [flagName, state],
    );
  }
}
