import { maskValues, QueryLogger, QueryLogSink } from './query-logger';

describe('logging a failed query', () => {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const sink: QueryLogSink = {
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
  };

  it('logs the SQLSTATE, the statement and the masked message, never the parameters', () => {
    const error = Object.assign(new Error('invalid input syntax for type integer: "jane.doe@example.com"'), { code: '22P02' });
    new QueryLogger(sink).logQueryError(error, 'INSERT INTO work_items (item_id, input)\n   VALUES ($1, $2)', [
      'item-1',
      { email: 'jane.doe@example.com', iban: 'DE89370400440532013000' },
    ]);
    expect(lines).toEqual([
      {
        level: 'error',
        obj: { code: '22P02', error: 'invalid input syntax for type integer: "…"', sql: 'INSERT INTO work_items (item_id, input) VALUES ($1, $2)' },
        msg: 'database query failed',
      },
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/jane|DE89/);
  });

  it('masks single- and double-quoted values and keeps the rest', () => {
    expect(maskValues(`duplicate key value violates unique constraint "items_pkey"`)).toBe('duplicate key value violates unique constraint "…"');
    expect(maskValues(`value 'secret' is out of range`)).toBe("value '…' is out of range");
  });

  it('is silent without a sink (command-line tools report errors themselves)', () => {
    expect(() => new QueryLogger(null).logQueryError(new Error('x'), 'SELECT 1')).not.toThrow();
  });
});
