import { ConfigError, loadConfig, loadDatabaseConfig } from './app-config';

const minimal = {
  DATABASE_URL: 'postgres://understudy@db:5432/understudy',
  KAFKA_BROKERS: '127.0.0.1:9092',
  UNLEASH_URL: 'http://127.0.0.1:4242/',
  UNLEASH_CLIENT_TOKEN: 'default:development.abc',
  UNLEASH_ADMIN_TOKEN: '*:*.abc',
  MODEL_BASE_URL: 'http://127.0.0.1:4010/v1',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('the database roles', () => {
  it('are one user for a simple install: it migrates and runs, and nothing is granted', () => {
    expect(loadConfig(minimal).database).toEqual({
      url: 'postgres://understudy@db:5432/understudy',
      poolSize: 20,
      migrationsCheck: 'fail',
      migrationUrl: 'postgres://understudy@db:5432/understudy',
      runtimeRole: null,
    });
  });

  it("migrate as the owner and run as DATABASE_URL's user, who is granted what the service needs", () => {
    const db = loadConfig({
      ...minimal,
      DATABASE_URL: 'postgres://understudy_app:pw@db/understudy',
      DATABASE_MIGRATION_URL: 'postgres://understudy_owner:pw@db/understudy',
    }).database;
    expect(db).toMatchObject({
      url: 'postgres://understudy_app:pw@db/understudy',
      migrationUrl: 'postgres://understudy_owner:pw@db/understudy',
      runtimeRole: 'understudy_app',
    });
  });

  it('grant to a named role instead, e.g. a group the login user belongs to', () => {
    const db = loadConfig({
      ...minimal,
      DATABASE_URL: 'postgres://app-7@db/understudy',
      DATABASE_MIGRATION_URL: 'postgres://owner@db/understudy',
      DATABASE_RUNTIME_ROLE: 'understudy_runtime',
    }).database;
    expect(db.runtimeRole).toBe('understudy_runtime');
  });

  it('refuse a runtime role that is the owner itself', () => {
    expect(problemsOf({ ...minimal, DATABASE_RUNTIME_ROLE: 'understudy' })).toEqual([
      expect.stringMatching(/^DATABASE_RUNTIME_ROLE: must not be the schema owner, the user of DATABASE_URL/),
    ]);
    expect(problemsOf({ ...minimal, DATABASE_MIGRATION_URL: 'postgres://owner@db/understudy', DATABASE_RUNTIME_ROLE: 'owner' })).toEqual([
      expect.stringMatching(/the user of DATABASE_MIGRATION_URL/),
    ]);
  });

  it('refuse a migration URL that is not postgres', () => {
    expect(problemsOf({ ...minimal, DATABASE_MIGRATION_URL: 'mysql://x' })[0]).toMatch(/^DATABASE_MIGRATION_URL: a postgres:\/\/ URL/);
  });

  it('are read the same way by the command-line tools', () => {
    expect(loadDatabaseConfig({ DATABASE_URL: 'postgres://app@db/u', DATABASE_MIGRATION_URL: 'postgres://owner@db/u' })).toMatchObject({
      url: 'postgres://app@db/u',
      migrationUrl: 'postgres://owner@db/u',
      runtimeRole: 'app',
    });
  });
});
