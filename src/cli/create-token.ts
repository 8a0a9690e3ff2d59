import { AuditRepository } from '../audit/audit.repository';
import { TokenRepository } from '../auth/token.repository';
import { loadDatabaseConfig } from '../config/app-config';
import { createDataSource, pendingMigrations } from '../database/data-source';
import { expiryOf, generateToken, isRole, ROLES } from '../auth/domain/token';
import { parseWorkflowScope } from '../auth/domain/workflow-scope';

/**
 * `npm run token -- --name <name> --role <role> [--expires-in 90d]` — creates an API token directly in the database,
 * e.g. the first admin token of a fresh install (admins create the others through the API).
 * Prints the secret once on stdout; only its hash is stored. `--workflows a,b` scopes the token to those
 * workflows (without it: every workflow).
 */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const name = arg('name') ?? 'first admin';
  const role = arg('role') ?? 'admin';
  if (!isRole(role)) throw new Error(`--role must be one of ${ROLES.join(', ')}; got "${role}"`);
  if (name.length < 1 || name.length > 100) throw new Error('--name must be 1 to 100 characters');
  const expiresIn = arg('expires-in');
  if (process.argv.includes('--expires-in') && !expiresIn) throw new Error('--expires-in needs a lifetime, e.g. 90d');
  const expiresAt = expiryOf(expiresIn, new Date());
  const workflowsArg = arg('workflows');
  if (process.argv.includes('--workflows') && (!workflowsArg || workflowsArg.startsWith('--')))
    throw new Error('--workflows needs a comma-separated list of workflows, e.g. support-triage,invoice-intake');
  const workflows = workflowsArg === undefined ? null : parseWorkflowScope(workflowsArg, role);
  const ds = createDataSource(loadDatabaseConfig(process.env), 'understudy-token');
  await ds.initialize();
  try {
    const pending = await pendingMigrations(ds);
    if (pending.length) throw new Error(`the database schema is behind (${pending.join(', ')}): run \`npm run migrate\` first`);
    const { token, hash, prefix } = generateToken();
    const tokens = new TokenRepository(ds);
    const audit = new AuditRepository(ds);
    await ds.transaction(async (tx) => {
      const { id } = await tokens.create(name, role, hash, prefix, 'cli', expiresAt, workflows, tx);
      await audit.append(
        {
          actor: 'cli',
          actorKind: 'system',
          action: 'token.created',
          reason: `token "${name}" for role ${role}${workflows ? ` of workflows ${workflows.join(', ')}` : ''} created from the command line${expiresAt ? `, expires ${expiresAt.toISOString()}` : ''}`,
          details: { tokenId: id, name, role, prefix, expiresAt: expiresAt?.toISOString() ?? null, workflows },
        },
        tx,
      );
    });
    process.stdout.write(`${token}\n`);
  } finally {
    await ds.destroy();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
