import { Client, type ClientConfig } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { AppConfig } from '../config/app-config';
import { ENTITIES } from './entities';
import { QueryLogger, QueryLogSink } from './query-logger';
import { grantRuntimeRole } from './runtime-role';

/** What a connection needs of the database configuration (the rest may come along). */
export type DatabaseConnection = Pick<AppConfig['database'], 'url' | 'poolSize'> & Partial<AppConfig['database']>;

/**
 * The pool's connection class: pg's Client with an 'error' listener for its whole life. pg emits
 * 'error' on a client whose connection dies while no query is running on it; pg-pool listens only
 * while the client is idle and TypeORM's query runner only until it hands the client back. A
 * connection terminated by the server (FATAL 57P01) while being given back emitted its error with
 * nobody listening, and Node ended the service: postgres-faults caught it on a busy machine. The
 * query that used the connection has failed already and the pool replaces the connection, so there
 * is nothing to do but say so.
 */
export function listeningClient(onError: (e: Error) => void): typeof Client {
  return class ListeningClient extends Client {
    constructor(config?: string | ClientConfig) {
      super(config);
      this.on('error', onError);
    }
  };
}

/** The one set of TypeORM options: schema only through migrations, never synchronize. */
export function dataSourceOptions(db: DatabaseConnection, applicationName = 'understudy', sink: QueryLogSink | null = null): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    // Through pino, without query parameters (they hold work items' personal data).
    logging: ['error', 'warn', 'migration'],
    logger: new QueryLogger(sink),
    extra: {
      Client: listeningClient((e) => sink?.warn({ error: e.message }, 'a database connection failed; the pool replaces it')),
      max: db.poolSize,
      application_name: applicationName,
      // A dropped connection must fail fast and be replaced, not hang a worker.
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    },
  };
}

export function createDataSource(db: DatabaseConnection, applicationName?: string): DataSource {
  return new DataSource(dataSourceOptions(db, applicationName));
}

export class PendingMigrationsError extends Error {
  constructor(readonly pending: string[]) {
    super(
      `The database schema is behind: ${pending.length} migration(s) not applied (${pending.join(', ')}). ` +
        'Run `npm run migrate` (or start with DATABASE_MIGRATIONS_CHECK=run).',
    );
    this.name = 'PendingMigrationsError';
  }
}

/** Names of migrations the database has not applied yet. */
export async function pendingMigrations(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  try {
    const exists = await runner.hasTable('schema_migrations');
    const applied = new Set<string>(exists ? (await runner.query('SELECT name FROM schema_migrations')).map((r: { name: string }) => r.name) : []);
    return ds.migrations.map((m) => m.name ?? m.constructor.name).filter((name) => !applied.has(name));
  } finally {
    await runner.release();
  }
}

/**
 * Applies pending migrations as the schema owner (DATABASE_MIGRATION_URL), then grants the runtime
 * role exactly what the service needs, tables a migration just made included. Instances and
 * `npm run migrate` starting together take turns on an advisory lock; each finds the work done.
 */
export async function migrateDatabase(db: AppConfig['database'], applicationName: string): Promise<{ applied: string[]; grantedTo: string | null }> {
  const ds = createDataSource({ ...db, url: db.migrationUrl, poolSize: 2 }, `${applicationName}:migrate`);
  await ds.initialize();
  const lock = ds.createQueryRunner();
  try {
    await lock.connect();
    await lock.query(`SELECT pg_advisory_lock(hashtextextended('understudy:migrations', 0))`);
    const applied = await ds.runMigrations({ transaction: 'each' });
    if (db.runtimeRole) await grantRuntimeRole(ds, db.runtimeRole);
    return { applied: applied.map((m) => m.name), grantedTo: db.runtimeRole };
  } finally {
    await lock.query(`SELECT pg_advisory_unlock(hashtextextended('understudy:migrations', 0))`).catch(() => undefined);
    await lock.release();
    await ds.destroy();
  }
}

/**
 * Applies pending migrations before anything else touches the database (DATABASE_MIGRATIONS_CHECK=run):
 * the service's modules read their tables as they start, so on an empty database they must exist first.
 */
export async function migrateBeforeStart(db: AppConfig['database'], applicationName: string): Promise<string[]> {
  return (await migrateDatabase(db, applicationName)).applied;
}

/**
 * The start-up check: refuse to run on an old schema. With `run` the migrations were applied before
 * the modules started (migrateBeforeStart, as the owner), so the service's own role only checks.
 */
export async function checkMigrations(ds: DataSource, mode: AppConfig['database']['migrationsCheck']): Promise<void> {
  if (mode === 'off') return;
  const pending = await pendingMigrations(ds);
  if (pending.length > 0) throw new PendingMigrationsError(pending);
}
