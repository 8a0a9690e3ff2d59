import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The controller's last cycle as ops see it (one row): who leads, when it last ran, how long, and how it ended. */
@Injectable()
export class ControllerStatusRepository {
  constructor(private readonly dataSource: DataSource) {}

  async recordCycle(leader: string, leaderSince: Date | null, ms: number, error: string | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE controller_status SET leader = $1, leader_since = $2, last_cycle_at = now(), last_cycle_ms = $3, last_error = $4, cycles = cycles + 1 WHERE id = 1`,
      [leader, leaderSince, ms, error],
    );
  }
}
