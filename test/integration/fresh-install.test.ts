import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Client } from 'pg';
import { writeTestWorkflows } from '../factories/workflows';
import { findRepoRoot } from '../harness/kafka-cluster';
import { databaseUrl, dropDatabase, PG_BASE_URL } from '../harness/postgres';
import { api, createToken, createTopics, startService, stopTogether, TestService, TestTopics, uniqueSuffix } from '../harness/test-env';

/**
 * A new user's first start, as README describes it: an empty database, DATABASE_MIGRATIONS_CHECK=run,
 * two instances starting at once. Both come up healthy on the migrated schema, and the first admin
 * token can be made; before the schema exists the token command says what to do.
 */
jest.setTimeout(180_000);

describe('a fresh install', () => {
  const suffix = uniqueSuffix();
  const name = `understudy_fresh_${suffix}`;
  const url = databaseUrl(name);
  const wf = writeTestWorkflows({ suffix });
  let topics: TestTopics;
  const services: TestService[] = [];

  beforeAll(async () => {
    const admin = new Client({ connectionString: `${PG_BASE_URL}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    topics = await createTopics(suffix, 2);
  });

  afterAll(async () => {
    await stopTogether(services);
    await dropDatabase(name);
  });

  it('tells what to do when a token is asked for before the schema exists', () => {
    const root = findRepoRoot(__dirname);
    let message = '';
    try {
      execFileSync(process.execPath, [path.join(root, 'dist', 'src', 'cli', 'create-token.js'), '--name', 'too early', '--role', 'admin'], {
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: url },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      message = String((e as { stderr?: string }).stderr);
    }
    expect(message).toMatch(/the database schema is behind .*run `npm run migrate` first/);
  });

  it('starts two instances at once on an empty database with DATABASE_MIGRATIONS_CHECK=run', async () => {
    const env = { DATABASE_MIGRATIONS_CHECK: 'run' };
    services.push(...(await Promise.all([0, 1].map(() => startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: url, env })))));
    for (const s of services) expect((await api(s.url, 'GET', '/health')).status).toBe(200);
    const db = new Client({ connectionString: url });
    await db.connect();
    const applied = (await db.query(`SELECT count(*)::int n FROM schema_migrations`)).rows[0].n as number;
    const stored = (await db.query(`SELECT count(*)::int n FROM workflow_versions`)).rows[0].n as number;
    await db.end();
    expect(applied).toBeGreaterThanOrEqual(7);
    expect(stored).toBe(2);
    const token = createToken(url, 'admin', 'first admin');
    expect(token).toMatch(/^us_[A-Za-z0-9_-]+$/);
    expect((await api(services[0].url, 'GET', '/api/me', { token })).body.role).toBe('admin');
  });
});
