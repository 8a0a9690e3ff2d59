import type { Logger as TypeOrmLogger } from 'typeorm';

/** What the query logger needs of pino. */
export interface QueryLogSink {
  error(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
}

/** At most this much of a failed query's SQL is logged (the statement, never its parameters). */
const MAX_SQL = 300;

/**
 * TypeORM's logging through pino, without the data: a failed query is logged with its SQLSTATE,
 * its statement (shortened) and the driver's message with quoted values masked — never its
 * parameters, which hold work items' personal data (TypeORM's own logger prints up to thousands of
 * them). Without a sink (command-line tools) errors go nowhere: the caller reports them.
 */
export class QueryLogger implements TypeOrmLogger {
  constructor(private readonly sink: QueryLogSink | null) {}

  logQuery(): void {}

  logQueryError(error: string | Error, query: string, _parameters?: unknown[]): void {
    const e = typeof error === 'string' ? { message: error } : (error as Error & { code?: string });
    this.sink?.error(
      { code: (e as { code?: string }).code ?? null, error: maskValues(e.message), sql: query.replace(/\s+/g, ' ').slice(0, MAX_SQL) },
      'database query failed',
    );
  }

  logQuerySlow(time: number, query: string): void {
    this.sink?.warn({ ms: time, sql: query.replace(/\s+/g, ' ').slice(0, MAX_SQL) }, 'slow database query');
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.sink?.info({}, message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.sink?.warn({ message: maskValues(String(message)) }, 'database');
  }
}

/** A driver message with its quoted values masked ("invalid input syntax for type integer: \"…\""). */
export function maskValues(message: string): string {
  return message.replace(/"[^"]*"/g, '"…"').replace(/'[^']*'/g, "'…'");
}
