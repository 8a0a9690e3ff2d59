import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/sql';

const PURGE_LOCK = `hashtextextended('understudy:retention', 0)`;

/**
 * What retention itself owns: its transactions and the lock that keeps the purge on one instance.
 * The rows it removes content from belong to other features, whose repositories hold that SQL
 * (IngestRepository, JobRepository, OutboxRepository); the rules are in domain/retention.ts.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /**
   * Runs `fn` while this instance holds the purge's session advisory lock (on a connection of its
   * own, released when `fn` ends or the connection dies); `undefined` when another instance holds it.
   */
  async whileHoldingPurgeLock<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ ok }] = await runner.query(`SELECT pg_try_advisory_lock(${PURGE_LOCK}) AS ok`);
      if (!ok) return undefined;
      try {
        return await fn();
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(${PURGE_LOCK})`);
      }
    } finally {
      await runner.release();
    }
  }
}
