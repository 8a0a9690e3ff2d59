import { runtimeGrantStatements } from './runtime-role';

describe("the runtime role's privileges", () => {
  const statements = runtimeGrantStatements('public', 'understudy_app', ['ai_jobs', 'audit_events', 'schema_migrations']);

  it('read and append only on the audit log, read only on the migrations table, read and write elsewhere', () => {
    expect(statements).toContain('GRANT SELECT, INSERT ON TABLE "public"."audit_events" TO "understudy_app"');
    expect(statements).toContain('GRANT SELECT ON TABLE "public"."schema_migrations" TO "understudy_app"');
    expect(statements).toContain('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."ai_jobs" TO "understudy_app"');
  });

  it('are exactly these: anything granted before is revoked first', () => {
    expect(statements.indexOf('REVOKE ALL ON TABLE "public"."audit_events" FROM "understudy_app"')).toBe(
      statements.indexOf('GRANT SELECT, INSERT ON TABLE "public"."audit_events" TO "understudy_app"') - 1,
    );
    expect(statements).toContain('REVOKE CREATE ON SCHEMA "public" FROM "understudy_app"');
    expect(statements.join('\n')).not.toMatch(/TRUNCATE|TRIGGER|REFERENCES|GRANT ALL|GRANT CREATE/);
  });

  it('cover sequences and the tables later migrations create', () => {
    expect(statements).toContain('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "public" TO "understudy_app"');
    expect(statements).toContain('ALTER DEFAULT PRIVILEGES IN SCHEMA "public" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "understudy_app"');
  });

  it('quote names, so no role or table name can smuggle SQL in', () => {
    expect(runtimeGrantStatements('public', 'app"; DROP TABLE x; --', ['t'])[0]).toBe('GRANT USAGE ON SCHEMA "public" TO "app""; DROP TABLE x; --"');
  });
});
