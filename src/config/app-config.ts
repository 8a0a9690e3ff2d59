import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The one typed configuration object, built once at boot from the environment.
 * Nothing else in the service reads process.env: a missing or bad variable stops
 * the start with a message that names it (see loadConfig).
 */

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const csv = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  )
  .pipe(z.array(z.string().min(1)).min(1));
const url = z.url({ protocol: /^https?$/ });
const topic = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'a Kafka topic name (letters, digits, . _ -)');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  INSTANCE_ID: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: int(0, 65535).default(3000),
  /** Proxies in front of the service whose X-Forwarded-For is believed (the rate limit's address of a caller). */
  HTTP_TRUST_PROXY_HOPS: int(0, 10).default(0),
  /** Requests a minute to /api per token, per instance; 0 turns it off. */
  API_RATE_LIMIT_PER_MINUTE: int(0).default(600),
  /** Requests a minute to /api per address without a valid token, per instance; 0 turns it off. */
  API_RATE_LIMIT_ANONYMOUS_PER_MINUTE: int(0).default(120),

  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
  DATABASE_POOL_SIZE: int(2, 200).default(20),
  DATABASE_MIGRATIONS_CHECK: z.enum(['fail', 'run', 'off']).default('fail'),
  /** The schema owner's connection, used only to migrate; default DATABASE_URL (one user owns and runs everything). */
  DATABASE_MIGRATION_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional(),
  /** The role the service runs as, granted what it needs after every migration; default DATABASE_URL's user when DATABASE_MIGRATION_URL names another. */
  DATABASE_RUNTIME_ROLE: z.string().min(1).max(63).optional(),

  KAFKA_BROKERS: csv,
  KAFKA_CLIENT_ID: z.string().min(1).default('understudy'),
  KAFKA_GROUP_ID: z.string().min(1).default('understudy'),
  KAFKA_SESSION_TIMEOUT_MS: int(1000).default(30000),
  KAFKA_HEARTBEAT_MS: int(100).default(3000),
  KAFKA_MAX_WAIT_MS: int(1, 10000).default(100),
  /** TLS to the brokers; implied by any KAFKA_SSL_*_FILE. */
  KAFKA_SSL: bool.default(false),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  KAFKA_SSL_REJECT_UNAUTHORIZED: bool.default(true),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  TOPIC_WORK_ITEMS: topic.default('work.items'),
  TOPIC_WORK_DECISIONS: topic.default('work.decisions'),
  TOPIC_ROUTING: topic.default('ai.routing'),
  TOPIC_DLQ: topic.default('understudy.dlq'),
  TOPIC_ALERTS: topic.default('understudy.alerts'),
  INGEST_MAX_MESSAGE_BYTES: int(1024).default(1_000_000),

  UNLEASH_URL: url,
  UNLEASH_CLIENT_TOKEN: z.string().min(1),
  UNLEASH_ADMIN_TOKEN: z.string().min(1),
  UNLEASH_PROJECT: z.string().min(1).default('default'),
  UNLEASH_ENVIRONMENT: z.string().min(1).default('development'),
  UNLEASH_REFRESH_MS: int(100).default(5000),
  UNLEASH_BACKUP_PATH: z.string().min(1).optional(),
  UNLEASH_KILL_SWITCH_FLAG: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .default('understudy.kill-switch'),

  MODEL_BASE_URL: url,
  MODEL_API_KEY: z.string().min(1).default('not-needed-for-the-simulator'),
  MODEL_TIMEOUT_MS: int(100).default(30000),
  MODEL_CONCURRENCY: int(1, 10000).default(64),
  MODEL_MAX_ATTEMPTS: int(1, 20).default(4),
  MODEL_BACKOFF_BASE_MS: int(1).default(500),
  MODEL_BACKOFF_MAX_MS: int(1).default(30000),
  MODEL_CIRCUIT_ERROR_PERCENT: int(1, 100).default(50),
  MODEL_CIRCUIT_MIN_CALLS: int(1).default(20),
  MODEL_CIRCUIT_RESET_MS: int(100).default(30000),
  MODEL_PRICES_JSON: z.string().optional(),
  JOB_LEASE_MS: int(1000).default(120000),
  /** A job claimed this many times without an outcome is failed rather than run again. */
  JOB_MAX_CLAIMS: int(1, 100).default(5),

  WORKFLOWS_FILE: z.string().min(1).default('config/workflows.yaml'),

  CONTROLLER_ENABLED: bool.default(true),
  CONTROLLER_INTERVAL_MS: int(100).default(10000),
  ALERT_WEBHOOK_URL: url.optional(),
  /** The HMAC-SHA256 key alert webhooks are signed with; required with ALERT_WEBHOOK_URL. */
  ALERT_WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  ALERT_WEBHOOK_BACKOFF_BASE_MS: int(1).default(1000),
  ALERT_WEBHOOK_BACKOFF_MAX_MS: int(1).default(300000),

  RUN_INGEST: bool.default(true),
  RUN_RUNNER: bool.default(true),
  RUN_RELAY: bool.default(true),
  ROUTING_MAX_DELAY_MS: int(0).default(300000),
  /** A graceful stop (SIGTERM, SIGINT) exits within this long, whatever Kafka does; set it below the orchestrator's grace period. */
  SHUTDOWN_TIMEOUT_MS: int(1000, 600_000).default(20_000),

  /** Days work-item inputs and people's free text are kept (fractions allowed); 0 keeps them for ever. */
  RETENTION_INPUT_DAYS: z.coerce.number().min(0).max(36500).default(90),
  /** Days the model's free text (raw answers, uncompared decision fields) is kept; 0 keeps it for ever. */
  RETENTION_MODEL_OUTPUT_DAYS: z.coerce.number().min(0).max(36500).default(90),
  /** How often the purge runs (on one instance at a time). */
  RETENTION_INTERVAL_MS: int(100).default(3_600_000),
  /** Rows changed per purge transaction. */
  RETENTION_BATCH_SIZE: int(1, 10_000).default(200),
  /** Batches per run and kind of row; the next run goes on where this one stopped. */
  RETENTION_MAX_BATCHES_PER_RUN: int(1).default(50),
});

export type Env = z.infer<typeof envSchema>;

/** Price per million tokens, USD. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

const pricesSchema = z.record(z.string(), z.object({ inputPerMillion: z.number().min(0), outputPerMillion: z.number().min(0) }));

export interface AppConfig {
  env: Env['NODE_ENV'];
  instanceId: string;
  logLevel: Env['LOG_LEVEL'];
  http: { host: string; port: number; trustProxyHops: number; rateLimit: { perTokenPerMinute: number; anonymousPerMinute: number } };
  database: {
    url: string;
    poolSize: number;
    migrationsCheck: Env['DATABASE_MIGRATIONS_CHECK'];
    /** Migrations run through this connection (the schema owner). */
    migrationUrl: string;
    /** Granted DML (SELECT and INSERT only on append-only tables) after migrating; null: the owner runs the service. */
    runtimeRole: string | null;
  };
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    sessionTimeoutMs: number;
    heartbeatMs: number;
    maxWaitMs: number;
    maxMessageBytes: number;
    topics: { workItems: string; workDecisions: string; routing: string; dlq: string; alerts: string };
    /** TLS options for kafkajs (file contents read at start), or false for plaintext. */
    ssl: false | { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
    sasl: null | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  };
  unleash: {
    url: string;
    clientToken: string;
    adminToken: string;
    project: string;
    environment: string;
    refreshMs: number;
    backupPath?: string;
    killSwitchFlag: string;
  };
  model: {
    baseUrl: string;
    apiKey: string;
    timeoutMs: number;
    concurrency: number;
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    circuit: { errorPercent: number; minCalls: number; resetMs: number };
    prices: Record<string, ModelPrice>;
    jobLeaseMs: number;
    jobMaxClaims: number;
  };
  workflowsFile: string;
  controller: {
    enabled: boolean;
    intervalMs: number;
    alertWebhookUrl?: string;
    /** Signs every webhook body (HMAC-SHA256); set whenever alertWebhookUrl is. */
    alertWebhookSecret?: string;
    alertWebhookBackoff: { baseMs: number; maxMs: number };
  };
  roles: { ingest: boolean; runner: boolean; relay: boolean };
  routing: { maxDelayMs: number };
  /** The whole of a graceful stop, in ms (split among its steps by shutdown/domain/shutdown-plan.ts). */
  shutdown: { timeoutMs: number };
  /** Retention of personal content; null days: kept for ever. */
  retention: { inputDays: number | null; modelOutputDays: number | null; intervalMs: number; batchSize: number; maxBatchesPerRun: number };
}

/** Default prices (USD per million tokens); MODEL_PRICES_JSON overrides or extends them. */
export const DEFAULT_MODEL_PRICES: Record<string, ModelPrice> = {
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Builds the typed configuration from an environment map; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): AppConfig {
  // Empty strings count as unset, so `FOO=` in a .env file falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(environment)';
        const given = cleaned[name];
        return given === undefined
          ? `${name}: ${issue.code === 'invalid_type' ? 'is required' : issue.message}`
          : `${name}: ${issue.message} (got ${JSON.stringify(given.length > 80 ? `${given.slice(0, 80)}…` : given)})`;
      }),
    );
  }
  const e = parsed.data;
  let prices = { ...DEFAULT_MODEL_PRICES };
  if (e.MODEL_PRICES_JSON) {
    let raw: unknown;
    try {
      raw = JSON.parse(e.MODEL_PRICES_JSON);
    } catch {
      throw new ConfigError(['MODEL_PRICES_JSON: is not valid JSON']);
    }
    const p = pricesSchema.safeParse(raw);
    if (!p.success) {
      throw new ConfigError(p.error.issues.map((i) => `MODEL_PRICES_JSON.${i.path.join('.')}: ${i.message}`));
    }
    prices = { ...prices, ...p.data };
  }
  if (e.JOB_LEASE_MS <= e.MODEL_TIMEOUT_MS) {
    throw new ConfigError([
      `JOB_LEASE_MS: must exceed MODEL_TIMEOUT_MS (${e.MODEL_TIMEOUT_MS}), or a call still running loses its job to another instance (got ${e.JOB_LEASE_MS})`,
    ]);
  }
  if (e.ALERT_WEBHOOK_URL && !e.ALERT_WEBHOOK_SECRET) {
    throw new ConfigError(['ALERT_WEBHOOK_SECRET: is required with ALERT_WEBHOOK_URL (webhooks are signed so the receiver can tell them from forgeries)']);
  }
  const { ssl, sasl } = kafkaSecurity(e, readFile);
  return {
    env: e.NODE_ENV,
    instanceId: e.INSTANCE_ID ?? `understudy-${process.pid}`,
    logLevel: e.LOG_LEVEL,
    http: {
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      trustProxyHops: e.HTTP_TRUST_PROXY_HOPS,
      rateLimit: { perTokenPerMinute: e.API_RATE_LIMIT_PER_MINUTE, anonymousPerMinute: e.API_RATE_LIMIT_ANONYMOUS_PER_MINUTE },
    },
    database: databaseConfig(e),
    kafka: {
      brokers: e.KAFKA_BROKERS,
      clientId: e.KAFKA_CLIENT_ID,
      groupId: e.KAFKA_GROUP_ID,
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatMs: e.KAFKA_HEARTBEAT_MS,
      maxWaitMs: e.KAFKA_MAX_WAIT_MS,
      maxMessageBytes: e.INGEST_MAX_MESSAGE_BYTES,
      ssl,
      sasl,
      topics: {
        workItems: e.TOPIC_WORK_ITEMS,
        workDecisions: e.TOPIC_WORK_DECISIONS,
        routing: e.TOPIC_ROUTING,
        dlq: e.TOPIC_DLQ,
        alerts: e.TOPIC_ALERTS,
      },
    },
    unleash: {
      url: e.UNLEASH_URL.replace(/\/+$/, ''),
      clientToken: e.UNLEASH_CLIENT_TOKEN,
      adminToken: e.UNLEASH_ADMIN_TOKEN,
      project: e.UNLEASH_PROJECT,
      environment: e.UNLEASH_ENVIRONMENT,
      refreshMs: e.UNLEASH_REFRESH_MS,
      backupPath: e.UNLEASH_BACKUP_PATH,
      killSwitchFlag: e.UNLEASH_KILL_SWITCH_FLAG,
    },
    model: {
      baseUrl: e.MODEL_BASE_URL,
      apiKey: e.MODEL_API_KEY,
      timeoutMs: e.MODEL_TIMEOUT_MS,
      concurrency: e.MODEL_CONCURRENCY,
      maxAttempts: e.MODEL_MAX_ATTEMPTS,
      backoffBaseMs: e.MODEL_BACKOFF_BASE_MS,
      backoffMaxMs: e.MODEL_BACKOFF_MAX_MS,
      circuit: {
        errorPercent: e.MODEL_CIRCUIT_ERROR_PERCENT,
        minCalls: e.MODEL_CIRCUIT_MIN_CALLS,
        resetMs: e.MODEL_CIRCUIT_RESET_MS,
      },
      prices,
      jobLeaseMs: e.JOB_LEASE_MS,
      jobMaxClaims: e.JOB_MAX_CLAIMS,
    },
    workflowsFile: e.WORKFLOWS_FILE,
    controller: {
      enabled: e.CONTROLLER_ENABLED,
      intervalMs: e.CONTROLLER_INTERVAL_MS,
      alertWebhookUrl: e.ALERT_WEBHOOK_URL,
      alertWebhookSecret: e.ALERT_WEBHOOK_SECRET,
      alertWebhookBackoff: { baseMs: e.ALERT_WEBHOOK_BACKOFF_BASE_MS, maxMs: e.ALERT_WEBHOOK_BACKOFF_MAX_MS },
    },
    roles: { ingest: e.RUN_INGEST, runner: e.RUN_RUNNER, relay: e.RUN_RELAY },
    routing: { maxDelayMs: e.ROUTING_MAX_DELAY_MS },
    shutdown: { timeoutMs: e.SHUTDOWN_TIMEOUT_MS },
    retention: {
      inputDays: e.RETENTION_INPUT_DAYS > 0 ? e.RETENTION_INPUT_DAYS : null,
      modelOutputDays: e.RETENTION_MODEL_OUTPUT_DAYS > 0 ? e.RETENTION_MODEL_OUTPUT_DAYS : null,
      intervalMs: e.RETENTION_INTERVAL_MS,
      batchSize: e.RETENTION_BATCH_SIZE,
      maxBatchesPerRun: e.RETENTION_MAX_BATCHES_PER_RUN,
    },
  };
}

/**
 * TLS and SASL to the brokers, as managed Kafka services require: a CA, a client certificate and
 * key (both or neither), and a SASL mechanism with its username and password (all or none). Files
 * are read here, so a path that cannot be read stops the start with its variable's name.
 */
function kafkaSecurity(e: Env, readFile: (path: string) => string): Pick<AppConfig['kafka'], 'ssl' | 'sasl'> {
  const problems: string[] = [];
  const read = (name: 'KAFKA_SSL_CA_FILE' | 'KAFKA_SSL_CERT_FILE' | 'KAFKA_SSL_KEY_FILE'): string | undefined => {
    const path = e[name];
    if (!path) return undefined;
    try {
      return readFile(path);
    } catch (err) {
      problems.push(`${name}: cannot read ${path} (${(err as Error).message})`);
      return undefined;
    }
  };
  if (!!e.KAFKA_SSL_CERT_FILE !== !!e.KAFKA_SSL_KEY_FILE)
    problems.push('KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: a client certificate needs its key, and a key its certificate');
  const files = { ca: read('KAFKA_SSL_CA_FILE'), cert: read('KAFKA_SSL_CERT_FILE'), key: read('KAFKA_SSL_KEY_FILE') };
  const useSsl = e.KAFKA_SSL || !!(e.KAFKA_SSL_CA_FILE || e.KAFKA_SSL_CERT_FILE || e.KAFKA_SSL_KEY_FILE);
  const saslGiven = [e.KAFKA_SASL_MECHANISM, e.KAFKA_SASL_USERNAME, e.KAFKA_SASL_PASSWORD].filter((v) => v !== undefined).length;
  if (saslGiven > 0 && saslGiven < 3) problems.push('KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: set all three, or none');
  if (problems.length > 0) throw new ConfigError(problems);
  const ssl = useSsl
    ? {
        ...(files.ca ? { ca: files.ca } : {}),
        ...(files.cert ? { cert: files.cert, key: files.key } : {}),
        rejectUnauthorized: e.KAFKA_SSL_REJECT_UNAUTHORIZED,
      }
    : (false as const);
  const sasl = saslGiven === 3 ? { mechanism: e.KAFKA_SASL_MECHANISM!, username: e.KAFKA_SASL_USERNAME!, password: e.KAFKA_SASL_PASSWORD! } : null;
  return { ssl, sasl };
}

/** The documented variables, for the README's configuration table and `--help`. */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape);

const databaseEnvSchema = envSchema.pick({
  DATABASE_URL: true,
  DATABASE_POOL_SIZE: true,
  DATABASE_MIGRATIONS_CHECK: true,
  DATABASE_MIGRATION_URL: true,
  DATABASE_RUNTIME_ROLE: true,
});

function userOf(url: string): string | null {
  try {
    return decodeURIComponent(new URL(url).username) || null;
  } catch {
    return null;
  }
}

/**
 * The owner migrates, the service runs as a role that may not alter the schema (so it cannot turn
 * off the audit log's triggers). Without a second URL one user does both, as a simple install does.
 */
function databaseConfig(e: z.infer<typeof databaseEnvSchema>): AppConfig['database'] {
  const migrationUrl = e.DATABASE_MIGRATION_URL ?? e.DATABASE_URL;
  const owner = userOf(migrationUrl);
  const serviceUser = userOf(e.DATABASE_URL);
  const runtimeRole = e.DATABASE_RUNTIME_ROLE ?? (owner && serviceUser && serviceUser !== owner ? serviceUser : null);
  if (runtimeRole !== null && runtimeRole === owner) {
    throw new ConfigError([
      `DATABASE_RUNTIME_ROLE: must not be the schema owner, the user of ${e.DATABASE_MIGRATION_URL ? 'DATABASE_MIGRATION_URL' : 'DATABASE_URL'} (got "${runtimeRole}")`,
    ]);
  }
  return { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, migrationsCheck: e.DATABASE_MIGRATIONS_CHECK, migrationUrl, runtimeRole };
}

/** Only the database part, for commands that need nothing else (migrations, token creation). */
export function loadDatabaseConfig(env: Record<string, string | undefined>): AppConfig['database'] {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = databaseEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.code === 'invalid_type' ? 'is required' : i.message}`));
  }
  return databaseConfig(parsed.data);
}
