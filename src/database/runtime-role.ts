/**
 * The privileges of the role the service runs as, granted by the schema owner after migrating.
 * The owner keeps every DDL right; the runtime role reads and writes rows and nothing else: it
 * cannot drop, alter or disable a trigger, so the audit log's append-only and hash-chain triggers
 * hold against the service's own credentials. On the audit log it may only read and append.
 */

/** What granting needs of a connection: a TypeORM DataSource or QueryRunner (rows come back as an array). */
export interface SqlQueryable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- TypeORM's query() is typed so; callers annotate the rows they read
  query(sql: string, parameters?: unknown[]): Promise<any>;
}

/** Tables the runtime role may only read and append to (their triggers refuse the rest as well). */
export const APPEND_ONLY_TABLES = ['audit_events'];
/** Tables the runtime role may only read. */
export const READ_ONLY_TABLES = ['schema_migrations'];

export class RuntimeRoleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeRoleError';
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The privilege statements for a role on the tables of a schema (idempotent: REVOKE ALL, then exactly these). */
export function runtimeGrantStatements(schema: string, role: string, tables: string[]): string[] {
  const s = quoteIdent(schema);
  const r = quoteIdent(role);
  const statements = [`GRANT USAGE ON SCHEMA ${s} TO ${r}`, `REVOKE CREATE ON SCHEMA ${s} FROM ${r}`];
  for (const table of tables) {
    const privileges = READ_ONLY_TABLES.includes(table) ? 'SELECT' : APPEND_ONLY_TABLES.includes(table) ? 'SELECT, INSERT' : 'SELECT, INSERT, UPDATE, DELETE';
    statements.push(`REVOKE ALL ON TABLE ${s}.${quoteIdent(table)} FROM ${r}`, `GRANT ${privileges} ON TABLE ${s}.${quoteIdent(table)} TO ${r}`);
  }
  statements.push(
    `REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${s} FROM ${r}`,
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`,
    // Tables a later migration creates are usable at once, even when it is run by another tool;
    // the next grant (after every migration) narrows the append-only and read-only ones again.
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE, SELECT ON SEQUENCES TO ${r}`,
  );
  return statements;
}

/**
 * Grants the runtime role exactly what the service needs on every table of the current schema,
 * as the connected owner. Refuses a role that could undo it: a superuser, or a member of the
 * role owning the audit log. The role itself is the operator's to create (with its password).
 */
export async function grantRuntimeRole(db: SqlQueryable, role: string): Promise<{ schema: string; tables: number }> {
  const found: Array<{ superuser: boolean; owner: boolean; ownerName: string }> = await db.query(
    `SELECT r.rolsuper AS superuser, pg_has_role(r.oid, c.relowner, 'MEMBER') AS owner, pg_get_userbyid(c.relowner) AS "ownerName"
       FROM pg_roles r, pg_class c WHERE r.rolname = $1 AND c.oid = 'audit_events'::regclass`,
    [role],
  );
  if (found.length === 0) {
    throw new RuntimeRoleError(
      `the runtime role "${role}" does not exist: create it first (CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '…'), then migrate again`,
    );
  }
  if (found[0].superuser)
    throw new RuntimeRoleError(`the runtime role "${role}" is a superuser: it could alter the schema and the audit log; give the service an ordinary role`);
  if (found[0].owner) {
    throw new RuntimeRoleError(
      `the runtime role "${role}" is, or is a member of, "${found[0].ownerName}", which owns the schema: it could drop the audit log's triggers; give the service a role of its own`,
    );
  }
  const [{ schema }]: Array<{ schema: string }> = await db.query(`SELECT current_schema() AS schema`);
  const tables: Array<{ name: string }> = await db.query(
    `SELECT c.relname AS name FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1`,
  );
  // One multi-statement query is one transaction: the role never holds half of its privileges.
  await db.query(
    runtimeGrantStatements(
      schema,
      role,
      tables.map((t) => t.name),
    ).join(';\n'),
  );
  return { schema, tables: tables.length };
}
