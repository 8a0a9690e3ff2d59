import { ConfigError, loadConfig } from './app-config';

const minimal = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/understudy',
  KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
  UNLEASH_URL: 'http://127.0.0.1:4242/',
  UNLEASH_CLIENT_TOKEN: 'default:development.abc',
  UNLEASH_ADMIN_TOKEN: '*:*.abc',
  MODEL_BASE_URL: 'http://127.0.0.1:4010/v1',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('builds a typed object with defaults from a minimal environment', () => {
    const c = loadConfig(minimal);
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(c.kafka.topics).toEqual({
      workItems: 'work.items',
      workDecisions: 'work.decisions',
      routing: 'ai.routing',
      dlq: 'understudy.dlq',
      alerts: 'understudy.alerts',
    });
    expect(c.unleash.url).toBe('http://127.0.0.1:4242');
    expect(c.http.port).toBe(3000);
    expect(c.model.maxAttempts).toBe(4);
    expect(c.roles).toEqual({ ingest: true, runner: true, relay: true });
    expect(c.model.prices['gpt-4o-mini']).toEqual({ inputPerMillion: 0.15, outputPerMillion: 0.6 });
  });

  it('keeps inputs and model output 90 days by default, hourly in batches, and turns either off at 0', () => {
    expect(loadConfig(minimal).retention).toEqual({ inputDays: 90, modelOutputDays: 90, intervalMs: 3_600_000, batchSize: 200, maxBatchesPerRun: 50 });
    expect(loadConfig({ ...minimal, RETENTION_INPUT_DAYS: '0', RETENTION_MODEL_OUTPUT_DAYS: '0.5' }).retention).toMatchObject({
      inputDays: null,
      modelOutputDays: 0.5,
    });
    expect(problemsOf({ ...minimal, RETENTION_INPUT_DAYS: '-1' })[0]).toMatch(/^RETENTION_INPUT_DAYS: /);
  });

  it('names every missing required variable', () => {
    const problems = problemsOf({});
    for (const name of ['DATABASE_URL', 'KAFKA_BROKERS', 'UNLEASH_URL', 'UNLEASH_CLIENT_TOKEN', 'UNLEASH_ADMIN_TOKEN', 'MODEL_BASE_URL']) {
      expect(problems.some((p) => p.startsWith(`${name}: is required`))).toBe(true);
    }
  });

  it('names a bad value and shows what was given', () => {
    const problems = problemsOf({ ...minimal, HTTP_PORT: 'eighty', CONTROLLER_ENABLED: 'maybe' });
    expect(problems).toHaveLength(2);
    expect(problems.find((p) => p.startsWith('HTTP_PORT:'))).toContain('"eighty"');
    expect(problems.find((p) => p.startsWith('CONTROLLER_ENABLED:'))).toContain('"maybe"');
  });

  it('refuses a database URL that is not postgres', () => {
    expect(problemsOf({ ...minimal, DATABASE_URL: 'mysql://x' })[0]).toMatch(/^DATABASE_URL: a postgres:\/\/ URL/);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ ...minimal, HTTP_PORT: '' }).http.port).toBe(3000);
  });

  it('merges a price table and names a bad entry', () => {
    const c = loadConfig({ ...minimal, MODEL_PRICES_JSON: '{"sim-model":{"inputPerMillion":1,"outputPerMillion":2}}' });
    expect(c.model.prices['sim-model']).toEqual({ inputPerMillion: 1, outputPerMillion: 2 });
    expect(problemsOf({ ...minimal, MODEL_PRICES_JSON: '{"x":{"inputPerMillion":-1,"outputPerMillion":2}}' })[0]).toMatch(
      /^MODEL_PRICES_JSON\.x\.inputPerMillion:/,
    );
    expect(problemsOf({ ...minimal, MODEL_PRICES_JSON: 'nope' })).toEqual(['MODEL_PRICES_JSON: is not valid JSON']);
  });

  it('refuses a job lease no longer than the model timeout (a call still running would lose its job)', () => {
    expect(problemsOf({ ...minimal, JOB_LEASE_MS: '30000', MODEL_TIMEOUT_MS: '30000' })).toEqual([
      'JOB_LEASE_MS: must exceed MODEL_TIMEOUT_MS (30000), or a call still running loses its job to another instance (got 30000)',
    ]);
    expect(loadConfig({ ...minimal, JOB_LEASE_MS: '3000', MODEL_TIMEOUT_MS: '2000' }).model).toMatchObject({ jobLeaseMs: 3000, jobMaxClaims: 5 });
  });

  it('limits the API per token and per anonymous address by default, and lets either be turned off', () => {
    expect(loadConfig(minimal).http.rateLimit).toEqual({ perTokenPerMinute: 600, anonymousPerMinute: 120 });
    expect(loadConfig({ ...minimal, API_RATE_LIMIT_PER_MINUTE: '0' }).http.rateLimit.perTokenPerMinute).toBe(0);
  });

  it('bounds a graceful stop at 20 s by default, under the usual 30 s grace of an orchestrator', () => {
    expect(loadConfig(minimal).shutdown).toEqual({ timeoutMs: 20_000 });
    expect(loadConfig({ ...minimal, SHUTDOWN_TIMEOUT_MS: '5000' }).shutdown.timeoutMs).toBe(5000);
    expect(problemsOf({ ...minimal, SHUTDOWN_TIMEOUT_MS: '500' })[0]).toMatch(/^SHUTDOWN_TIMEOUT_MS: /);
  });

  it('refuses an alert webhook without a signing secret', () => {
    expect(problemsOf({ ...minimal, ALERT_WEBHOOK_URL: 'https://hooks.example.org/x' })[0]).toMatch(
      /^ALERT_WEBHOOK_SECRET: is required with ALERT_WEBHOOK_URL/,
    );
    expect(problemsOf({ ...minimal, ALERT_WEBHOOK_URL: 'https://hooks.example.org/x', ALERT_WEBHOOK_SECRET: 'short' })[0]).toMatch(
      /^ALERT_WEBHOOK_SECRET: at least 16/,
    );
    const c = loadConfig({ ...minimal, ALERT_WEBHOOK_URL: 'https://hooks.example.org/x', ALERT_WEBHOOK_SECRET: 'a-secret-of-some-length' });
    expect(c.controller).toMatchObject({ alertWebhookSecret: 'a-secret-of-some-length', alertWebhookBackoff: { baseMs: 1000, maxMs: 300000 } });
  });

  describe('Kafka security', () => {
    const files: Record<string, string> = { '/etc/kafka/ca.pem': 'CA', '/etc/kafka/client.pem': 'CERT', '/etc/kafka/client.key': 'KEY' };
    const read = (p: string) => {
      if (!(p in files)) throw new Error('ENOENT: no such file');
      return files[p];
    };
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...minimal, ...env }, read);
      } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
      }
      throw new Error('expected a ConfigError');
    };

    it('is plaintext without SASL by default', () => {
      expect(loadConfig(minimal, read).kafka).toMatchObject({ ssl: false, sasl: null });
    });

    it('reads the CA, client certificate and key, and takes a SASL mechanism with its credentials (a managed Kafka)', () => {
      const c = loadConfig(
        {
          ...minimal,
          KAFKA_SSL_CA_FILE: '/etc/kafka/ca.pem',
          KAFKA_SSL_CERT_FILE: '/etc/kafka/client.pem',
          KAFKA_SSL_KEY_FILE: '/etc/kafka/client.key',
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'understudy',
          KAFKA_SASL_PASSWORD: 's3cret',
        },
        read,
      );
      expect(c.kafka.ssl).toEqual({ ca: 'CA', cert: 'CERT', key: 'KEY', rejectUnauthorized: true });
      expect(c.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'understudy', password: 's3cret' });
      expect(loadConfig({ ...minimal, KAFKA_SSL: 'true' }, read).kafka.ssl).toEqual({ rejectUnauthorized: true });
    });

    it('names what is missing or unreadable', () => {
      expect(problems({ KAFKA_SSL_CA_FILE: '/nope.pem' })).toEqual(['KAFKA_SSL_CA_FILE: cannot read /nope.pem (ENOENT: no such file)']);
      expect(problems({ KAFKA_SSL_CERT_FILE: '/etc/kafka/client.pem' })).toEqual([
        'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: a client certificate needs its key, and a key its certificate',
      ]);
      expect(problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' })).toEqual([
        'KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: set all three, or none',
      ]);
      expect(problems({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })[0]).toMatch(/^KAFKA_SASL_MECHANISM: /);
    });
  });
});
