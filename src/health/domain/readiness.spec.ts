import { readiness } from './readiness';

describe('readiness', () => {
  it('is ready when PostgreSQL answers and the flags are loaded', () => {
    expect(readiness({ postgresError: null, flagsLoaded: true })).toEqual({ status: 'ready', reasons: [] });
  });

  it('is not ready without PostgreSQL, or before the flag state is known, and says why', () => {
    expect(readiness({ postgresError: 'connection refused', flagsLoaded: true })).toEqual({
      status: 'not-ready',
      reasons: ['PostgreSQL does not answer: connection refused'],
    });
    expect(readiness({ postgresError: null, flagsLoaded: false }).reasons).toEqual(['the flag state is not loaded yet (from Unleash or its backup file)']);
    expect(readiness({ postgresError: 'x', flagsLoaded: false }).reasons).toHaveLength(2);
  });
});
