import { loadDatabaseConfig } from '../config/app-config';
import { createDataSource, pendingMigrations } from '../database/data-source';

/**
 * `npm run migrate` — applies pending migrations (`up`), or with `down` reverts the last one,
 * or with `status` lists what is pending. Reads only DATABASE_URL.
 */
async function main(): Promise<void> {
  const command = process.argv[2] ?? 'up';
  const ds = createDataSource(loadDatabaseConfig(process.env), 'understudy-migrate');
  await ds.initialize();
  try {
    if (command === 'up') {
      const done = await ds.runMigrations({ transaction: 'each' });
      console.log(done.length ? `applied: ${done.map((m) => m.name).join(', ')}` : 'schema is up to date');
    } else if (command === 'down') {
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
