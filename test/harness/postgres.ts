import { Client } from 'pg';
import { createHash, randomBytes } from 'node:crypto';
import { MIGRATIONS } from '../../migrations';
import { createDataSource } from '../../src/database/data-source';
import { grantRuntimeRole, runtimeGrantStatements } from '../../src/database/runtime-role';
import { processAlive } from './process-alive';

/** The local PostgreSQL the harness uses (trust auth on 127.0.0.1, as on every node-svc machine). */
export const PG_BASE_URL = 'postgres://postgres@127.0.0.1:5432';
/**
 * The role test services run as, as in production: granted reads and writes by the owner (postgres,
 * who migrates), no DDL. A role is the cluster's, shared by every run; it is never dropped.
 */
export const RUNTIME_ROLE = 'understudy_runtime';
/**
 * The template's name carries a fingerprint of the migrations' code and of the runtime role's grants,
 * so that concurrent test runs share one template and a change of either makes a new one instead of
 * altering one in use.
 */
export const TEMPLATE_DB = `understudy_tpl_${createHash('sha256')
  .update(MIGRATIONS.map((m) => `${m.name}:${m.prototype.up.toString()}`).join(','))
  .update(`${RUNTIME_ROLE}:${grantRuntimeRole.toString()}:${runtimeGrantStatements.toString()}`)
  .digest('hex')
  .slice(0, 12)}`;

export function databaseUrl(name: string, base = PG_BASE_URL): string {
  return `${base}/${name}`;
}

/** The same database, connected as the runtime role. */
export function runtimeUrl(ownerUrl: string): string {
  const u = new URL(ownerUrl);
  u.username = RUNTIME_ROLE;
  u.password = '';
  return u.toString();
}

async function withAdmin<T>(fn: (c: Client) => Promise<T>, base = PG_BASE_URL): Promise<T> {
  const c = new Client({ connectionString: databaseUrl('postgres', base) });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function assertPostgresUp(base = PG_BASE_URL): Promise<void> {
  try {
    await withAdmin(async (c) => c.query('SELECT 1'), base);
  } catch (e) {
    throw new Error(
      `PostgreSQL does not answer at ${base} (${(e as Error).message}). Start it with: ` +
        'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    );
  }
}

/** Creates the runtime role once for the cluster (trust auth: no password). */
export async function ensureRuntimeRole(base = PG_BASE_URL): Promise<void> {
  await withAdmin(async (c) => {
    const { rowCount } = await c.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [RUNTIME_ROLE]);
    if (rowCount) return;
    try {
      await c.query(`CREATE ROLE ${RUNTIME_ROLE} LOGIN`);
    } catch (e) {
      // Another run made it at the same moment.
      if ((e as { code?: string }).code !== '42710' && (e as { code?: string }).code !== '23505') throw e;
    }
  }, base);
}

export async function dropDatabase(name: string, base = PG_BASE_URL): Promise<void> {
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`), base);
}

/** Creates a database, applies every migration to it and grants the runtime role its privileges. */
export async function createMigratedDatabase(name: string, base = PG_BASE_URL): Promise<string> {
  await dropDatabase(name, base);
  await ensureRuntimeRole(base);
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`), base);
  const url = databaseUrl(name, base);
  const ds = createDataSource({ url, poolSize: 2, migrationsCheck: 'off' }, 'understudy-harness');
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
    await grantRuntimeRole(ds, RUNTIME_ROLE);
  } finally {
    await ds.destroy();
  }
  return url;
}

/** The migrated template every test database is cloned from (fast: a file copy). */
export async function prepareTemplate(base = PG_BASE_URL): Promise<void> {
  await ensureRuntimeRole(base);
  await withAdmin(async (c) => {
    // Only one run creates the template; the others wait for it.
    await c.query(`SELECT pg_advisory_lock(hashtextextended('understudy:test-template', 0))`);
    try {
      const { rows } = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE 'understudy\\_t\\_%' OR datname LIKE 'understudy\\_tpl\\_%'`);
      for (const r of rows as Array<{ datname: string }>) {
        // Test databases are named after the run (pid) that made them: drop those of runs that are gone.
        const owner = /^understudy_t_(\d+)_/.exec(r.datname)?.[1];
        const stale = r.datname.startsWith('understudy_tpl_') ? r.datname !== TEMPLATE_DB : !owner || !processAlive(Number(owner));
        if (stale) await c.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
      }
      if (!rows.some((r: { datname: string }) => r.datname === TEMPLATE_DB)) {
        await createMigratedDatabase(`${TEMPLATE_DB}_tmp`, base);
        await c.query(`ALTER DATABASE "${TEMPLATE_DB}_tmp" RENAME TO "${TEMPLATE_DB}"`);
      }
    } finally {
      await c.query(`SELECT pg_advisory_unlock(hashtextextended('understudy:test-template', 0))`);
    }
  }, base);
}

/** A fresh, migrated database of a test's own. */
export async function createTestDatabase(base = PG_BASE_URL): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const owner = process.env.US_RUN_PID ?? String(process.pid);
  const name = `understudy_t_${owner}_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DB}"`), base);
  return { name, url: databaseUrl(name, base), drop: () => dropDatabase(name, base) };
}
