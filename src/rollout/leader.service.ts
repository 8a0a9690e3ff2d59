import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Client } from 'pg';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { errorMessage } from '../common/domain-error';
import { LOGGER } from '../common/logger';

/**
 * One leader among all instances: the holder of a PostgreSQL session advisory lock, on a
 * connection of its own. If that connection dies (instance killed, backend terminated), the lock
 * is released by the server and another instance takes over at its next try.
 */
@Injectable()
export class LeaderService implements OnModuleDestroy {
  private client: Client | null = null;
  private leading = false;
  private since: Date | null = null;
  private readonly log: Logger;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig, @Inject(LOGGER) logger: Logger) {
    this.log = logger.child({ component: 'leader' });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get leaderSince(): Date | null {
    return this.since;
  }

  /** True when this instance holds (or has just taken) the leadership. */
  async tryLead(): Promise<boolean> {
    try {
      if (!this.client) {
        const client = new Client({ connectionString: this.config.database.url, application_name: `${this.config.instanceId}:leader` });
        client.on('error', (e) => this.lose(`leader connection failed: ${errorMessage(e)}`));
        client.on('end', () => this.lose('leader connection ended'));
        await client.connect();
        this.client = client;
      }
      if (this.leading) {
        await this.client.query('SELECT 1'); // still connected means still holding the lock
        return true;
      }
      const { rows } = await this.client.query(`SELECT pg_try_advisory_lock(hashtextextended('understudy:controller', 0)) AS ok`);
      if (rows[0]?.ok === true) {
        this.leading = true;
        this.since = new Date();
        this.log.info({ instance: this.config.instanceId }, 'this instance is now the controller leader');
      }
      return this.leading;
    } catch (e) {
      this.lose(`leadership check failed: ${errorMessage(e)}`);
      return false;
    }
  }

  private lose(why: string): void {
    if (this.leading) this.log.warn({ why }, 'controller leadership lost');
    this.leading = false;
    this.since = null;
    const c = this.client;
    this.client = null;
    c?.end().catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    const c = this.client;
    this.client = null;
    this.leading = false;
    await c?.end().catch(() => undefined);
  }
}
