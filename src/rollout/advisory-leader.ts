import { Client } from 'pg';
import { Logger } from 'pino';
import { errorMessage } from '../common/domain-error';

/**
 * One leader among all instances: the holder of a PostgreSQL session advisory lock, on a
 * connection of its own. If that connection dies (instance killed, backend terminated), the lock
 * is released by the server and another instance takes over at its next try.
 */
export class AdvisoryLeader {
  private client: Client | null = null;
  private leading = false;
  private since: Date | null = null;
  private readonly log: Logger;

  constructor(
    private readonly config: { databaseUrl: string; instanceId: string },
    logger: Logger,
  ) {
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
    let client = this.client;
    try {
      if (!client) {
        client = new Client({ connectionString: this.config.databaseUrl, application_name: `${this.config.instanceId}:leader` });
        // A late event of a connection already replaced must not drop its successor.
        const own = client;
        own.on('error', (e) => this.lose(`leader connection failed: ${errorMessage(e)}`, own));
        own.on('end', () => this.lose('leader connection ended', own));
        this.client = own;
        await own.connect();
      }
      if (this.leading) {
        await client.query('SELECT 1'); // still connected means still holding the lock
        return true;
      }
      const { rows } = await client.query(`SELECT pg_try_advisory_lock(hashtextextended('understudy:controller', 0)) AS ok`);
      if (rows[0]?.ok === true) {
        this.leading = true;
        this.since = new Date();
        this.log.info({ instance: this.config.instanceId }, 'this instance is now the controller leader');
      }
      return this.leading;
    } catch (e) {
      this.lose(`leadership check failed: ${errorMessage(e)}`, client);
      return false;
    }
  }

  /** Gives up the leadership held on `client` and closes it; a connection already replaced is only closed. */
  private lose(why: string, client: Client | null): void {
    if (client !== this.client) {
      client?.end().catch(() => undefined);
      return;
    }
    if (this.leading) this.log.warn({ why }, 'controller leadership lost');
    this.leading = false;
    this.since = null;
    const c = this.client;
    this.client = null;
    c?.end().catch(() => undefined);
  }

  /** Closes the connection, and with it the leadership. */
  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    this.leading = false;
    await c?.end().catch(() => undefined);
  }
}
