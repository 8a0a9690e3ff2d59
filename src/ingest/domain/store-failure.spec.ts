import { storeFailure } from './store-failure';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('why storing a batch failed', () => {
  it('blames the data for SQLSTATE classes 22 and 23', () => {
    expect(storeFailure(pgError('22P02'))).toBe('data');
    expect(storeFailure(pgError('23505'))).toBe('data');
  });

  it('waits for a database or Kafka that cannot be reached, is overloaded or shutting down', () => {
    for (const code of ['08006', '53300', '57P01', '40001', '40P01', '55P03', 'ECONNREFUSED', 'ECONNRESET'])
      expect(storeFailure(pgError(code))).toBe('unavailable');
    expect(storeFailure(new Error('Connection terminated unexpectedly'))).toBe('unavailable');
    expect(storeFailure(pgError('55000'))).toBe('unavailable');
    expect(storeFailure(new Error('database "x" is not currently accepting connections'))).toBe('unavailable');
    expect(
      storeFailure(
        Object.assign(new Error('Database connection provided by a query runner was already released'), { name: 'QueryRunnerAlreadyReleasedError' }),
      ),
    ).toBe('unavailable');
    expect(storeFailure(Object.assign(new Error('broker gone'), { name: 'KafkaJSConnectionError' }))).toBe('unavailable');
  });

  it('calls anything else other: retried a few times, then isolated', () => {
    expect(storeFailure(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe('other');
    expect(storeFailure(pgError('42703'))).toBe('other'); // undefined column
    expect(storeFailure(pgError('54000'))).toBe('other'); // program limit exceeded
    expect(storeFailure('a string')).toBe('other');
    expect(storeFailure(null)).toBe('other');
  });
});
