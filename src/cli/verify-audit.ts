import { AuditRepository } from '../audit/audit.repository';
import { AuditChainVerifier, ChainAnchor, parseChainAnchor } from '../audit/domain/audit-chain';
import { loadDatabaseConfig } from '../config/app-config';
import { createDataSource, pendingMigrations } from '../database/data-source';

/**
 * `npm run audit:verify [-- --anchor <id>:<hash> ...]` — recomputes the audit log's hash chain from
 * the first entry to the last. Prints the number of entries and the last entry's id and hash (keep
 * them outside the database and pass them as --anchor next time: that catches a log rewritten as a
 * whole by someone who holds the schema owner's rights). Exit 0: intact; 1: broken, naming the
 * first entry that does not hold and why; 2: could not check. Reads only (DATABASE_URL).
 */
const PAGE = 5000;

function anchors(): ChainAnchor[] {
  const found: ChainAnchor[] = [];
  process.argv.forEach((a, i) => {
    if (a === '--anchor') {
      const value = process.argv[i + 1];
      if (!value) throw new Error('--anchor needs <entry id>:<hash>, as this command printed it');
      found.push(parseChainAnchor(value));
    }
  });
  return found;
}

async function main(): Promise<number> {
  const verifier = new AuditChainVerifier(anchors());
  const ds = createDataSource(loadDatabaseConfig(process.env), 'understudy-audit-verify');
  await ds.initialize();
  try {
    const pending = await pendingMigrations(ds);
    if (pending.length) throw new Error(`the database schema is behind (${pending.join(', ')}): run \`npm run migrate\` first`);
    const audit = new AuditRepository(ds);
    let after: string | null = null;
    for (;;) {
      const page = await audit.chainPage(after, PAGE);
      if (page.length === 0) break;
      if (!page.every((e) => verifier.next(e))) break;
      after = page[page.length - 1].id;
    }
  } finally {
    await ds.destroy();
  }
  const verdict = verifier.result();
  if (verdict.ok) {
    process.stdout.write(
      verdict.lastId === null
        ? 'audit log OK: 0 entries\n'
        : `audit log OK: ${verdict.count} entries, last entry ${verdict.lastId} hash ${verdict.lastHash}\nanchor for the next check: --anchor ${verdict.lastId}:${verdict.lastHash}\n`,
    );
    return 0;
  }
  process.stderr.write(`audit log BROKEN at entry ${verdict.broken.id}: ${verdict.broken.reason} (${verdict.count} entries checked)\n`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`audit log not checked: ${e instanceof Error ? e.message : e}`);
    process.exit(2);
  },
);
