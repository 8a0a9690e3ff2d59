import type { StackInfo } from './stack';

/** The five topics a service instance reads and writes. */
export interface ServiceTopics {
  workItems: string;
  workDecisions: string;
  routing: string;
  dlq: string;
  alerts: string;
}

/** What differs between the service instances run on the local stack (a test's, the demo's). */
export interface LocalServiceOptions {
  stack: StackInfo;
  instanceId: string;
  port: number;
  /** The database as the service connects to it. */
  databaseUrl: string;
  topics: ServiceTopics;
  groupId: string;
  killSwitchFlag: string;
  /** Where the service keeps its copy of the last flag state read from Unleash. */
  unleashBackupPath: string;
  workflowsFile: string;
  nodeEnv: 'test' | 'production';
  logLevel?: string;
  unleashRefreshMs?: number;
  controllerIntervalMs?: number;
  /** The model's settings; the local simulator's by default. */
  model?: Record<string, string>;
}

/** The simulator's model settings: short timeouts and backoff, many calls at once (it answers at once). */
export function simulatorModel(stack: StackInfo): Record<string, string> {
  return { MODEL_BASE_URL: stack.simulator.url, MODEL_TIMEOUT_MS: '5000', MODEL_CONCURRENCY: '32', MODEL_BACKOFF_BASE_MS: '100', MODEL_BACKOFF_MAX_MS: '2000' };
}

/**
 * The environment of a service instance on the local stack (PostgreSQL, the Kafka mock cluster, the
 * real Unleash server, the model simulator): one place for what the tests and the demo both start
 * the compiled service with.
 */
export function localServiceEnvironment(o: LocalServiceOptions): Record<string, string> {
  return {
    NODE_ENV: o.nodeEnv,
    LOG_LEVEL: o.logLevel ?? 'info',
    INSTANCE_ID: o.instanceId,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(o.port),
    DATABASE_URL: o.databaseUrl,
    DATABASE_POOL_SIZE: '10',
    KAFKA_BROKERS: o.stack.kafka.brokers.join(','),
    KAFKA_GROUP_ID: o.groupId,
    // The mock's coordinator holds every rebalance after the first join open for the session
    // timeout minus 1 s: 6 s keeps a rebalance near 5 s and still outlasts a busy machine's pauses.
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_MS: '500',
    TOPIC_WORK_ITEMS: o.topics.workItems,
    TOPIC_WORK_DECISIONS: o.topics.workDecisions,
    TOPIC_ROUTING: o.topics.routing,
    TOPIC_DLQ: o.topics.dlq,
    TOPIC_ALERTS: o.topics.alerts,
    UNLEASH_URL: o.stack.unleash.url,
    UNLEASH_CLIENT_TOKEN: o.stack.unleash.clientToken,
    UNLEASH_ADMIN_TOKEN: o.stack.unleash.adminToken,
    UNLEASH_REFRESH_MS: String(o.unleashRefreshMs ?? 500),
    UNLEASH_KILL_SWITCH_FLAG: o.killSwitchFlag,
    UNLEASH_BACKUP_PATH: o.unleashBackupPath,
    ...(o.model ?? simulatorModel(o.stack)),
    WORKFLOWS_FILE: o.workflowsFile,
    CONTROLLER_INTERVAL_MS: String(o.controllerIntervalMs ?? 1000),
  };
}
