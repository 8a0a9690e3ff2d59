import { loadDatabaseConfig } from '../config/app-config';
import { createDataSource, migrateDatabase, pendingMigrations } from '../database/data-source';

/**
 * `npm run migrate` — applies pending migrations (`up`) as the schema owner (DATABASE_MIGRATION_URL,
 * default DATABASE_URL) and grants the runtime role (DATABASE_RUNTIME_ROLE) what the service needs;
 * with `down` reverts the last one, with `status` lists what is pending.
 */
async function main(): Promise<void> {
  const command = process.argv[2] ?? 'up';
  const db = loadDatabaseConfig(process.env);
  if (command === 'up') {
    const { applied, grantedTo } = await migrateDatabase(db, 'understudy-migrate');
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
    console.log(
      grantedTo
        ? `runtime role "${grantedTo}": granted reads and writes, on audit_events reads and appends only`
        : 'no runtime role configured: the owner runs the service (see README, "Database roles")',
    );
    return;
  }
  const ds = createDataSource({ ...db, url: db.migrationUrl }, 'understudy-migrate');
  await ds.initialize();
  try {
    if (command === 'down') {
      await ds.undoLastMigration({ transaction: 'each' });
      console.log('reverted the last migration');
    } else if (command === 'status') {
      const pending = await pendingMigrations(ds);
      console.log(pending.length ? `pending: ${pending.join(', ')}` : 'schema is up to date');
    } else {
      throw new Error(`unknown command "${command}": use up, down or status`);
    }
  } finally {
    await ds.destroy();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
