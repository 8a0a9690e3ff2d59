import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Unleash } from 'unleash-client';
import { ITEM_ID_CONTEXT_FIELD, SEGMENT_CONTEXT_FIELD, WORKFLOW_CONTEXT_FIELD } from './domain/unleash-strategy';
import { isStage } from './domain/stage';
import { KILL_SWITCH_FLAG, workflowFlagName } from './flag-gateway';
import { FlagReader, StageDecision } from './flag-reader';

export interface FlagReaderLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface UnleashFlagReaderOptions {
  /** Unleash base URL, e.g. http://127.0.0.1:4242 (`/api` is appended; a trailing /api is tolerated). */
  url: string;
  /** A client API token for the configured project and environment. */
  clientToken: string;
  appName?: string;
  instanceId?: string;
  /** Static context only; the client token decides which environment's flags are served. */
  environment?: string;
  refreshIntervalMs?: number;
  metricsIntervalMs?: number;
  disableMetrics?: boolean;
  /** Directory for unleash-client's backup file (`unleash-backup-<appName>.json`). */
  backupPath?: string;
  /** How long start() waits for the first state before running on "unknown" (shadow). */
  startTimeoutMs?: number;
  logger?: FlagReaderLogger;
  /** Name of the global kill switch flag (default understudy.kill-switch; tests use their own). */
  killSwitchFlag?: string;
}

const UNKNOWN: StageDecision = { stage: 'shadow', reason: 'unknown-state' };
const ERROR_LOG_EVERY_MS = 60_000;

const consoleLogger: FlagReaderLogger = {
  info: (m) => console.info(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

/**
 * FlagReader over unleash-client: polls Unleash with the client token and evaluates locally.
 * Unreachable Unleash → the last state it had (kept in memory, and on disk in the backup file, so a
 * restart without Unleash still knows it); no state at all → every item in shadow.
 */
export class UnleashFlagReader implements FlagReader {
  private readonly client: Unleash;
  private readonly log: FlagReaderLogger;
  private readonly startTimeoutMs: number;
  private hasState = false;
  private synchronized = false;
  private lastErrorLoggedAt = 0;
  private failing = false;
  private closed = false;
  private readonly killSwitchFlag: string;

  constructor(opts: UnleashFlagReaderOptions) {
    this.log = opts.logger ?? consoleLogger;
    this.killSwitchFlag = opts.killSwitchFlag ?? KILL_SWITCH_FLAG;
    this.startTimeoutMs = opts.startTimeoutMs ?? 10_000;
    const backupPath = opts.backupPath ?? tmpdir();
    mkdirSync(backupPath, { recursive: true });
    const base = opts.url.replace(/\/+$/, '').replace(/\/api$/, '');
    this.client = new Unleash({
      url: `${base}/api/`,
      appName: opts.appName ?? 'understudy',
      instanceId: opts.instanceId,
      environment: opts.environment ?? 'development',
      customHeaders: { Authorization: opts.clientToken },
      refreshInterval: opts.refreshIntervalMs ?? 5_000,
      metricsInterval: opts.metricsIntervalMs ?? 60_000,
      disableMetrics: opts.disableMetrics ?? false,
      backupPath,
      disableAutoStart: true,
      // Several readers in one process (tests, several workers) are expected.
      skipInstanceCountWarning: true,
    });
    this.client.on('ready', () => {
      this.hasState = true;
    });
    this.client.on('synchronized', () => {
      this.hasState = true;
      this.synchronized = true;
    });
    this.client.on('changed', () => this.recovered());
    this.client.on('unchanged', () => this.recovered());
    this.client.on('warn', (msg: unknown) => this.log.warn(`unleash-client: ${String(msg)}`));
    this.client.on('error', (err: unknown) => this.failed(err));
  }

  /**
   * Starts polling and waits for the first state (from Unleash or the backup file) at most
   * startTimeoutMs. Never throws for an unreachable Unleash: it then runs on unknown state (shadow)
   * and keeps polling.
   */
  async start(): Promise<void> {
    const gotState = new Promise<'state'>((resolve) => {
      if (this.hasState) return resolve('state');
      this.client.once('ready', () => resolve('state'));
      this.client.once('synchronized', () => resolve('state'));
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.startTimeoutMs);
    });
    this.client.start().catch((e: unknown) => this.failed(e));
    const outcome = await Promise.race([gotState, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.log.warn(`Unleash flags: no state after ${this.startTimeoutMs} ms (Unleash unreachable and no backup); every item is in shadow until flags arrive`);
    } else if (!this.synchronized) {
      this.log.warn('Unleash flags: running on the backup file (last known state); Unleash not reached yet');
    }
  }

  ready(): boolean {
    return this.hasState;
  }

  /** True once flags came from Unleash itself at least once (not only from the backup). */
  isSynchronized(): boolean {
    return this.synchronized;
  }

  stageFor(workflow: string, segment: string, itemId: string): StageDecision {
    const flagName = workflowFlagName(workflow);
    const definition = this.client.getFeatureToggleDefinition(flagName);
    if (!definition) return UNKNOWN;
    if (!definition.enabled) return { stage: null, reason: 'flag-disabled' };
    const variant = this.client.getVariant(flagName, {
      properties: {
        [SEGMENT_CONTEXT_FIELD]: segment,
        [ITEM_ID_CONTEXT_FIELD]: itemId,
        [WORKFLOW_CONTEXT_FIELD]: workflow,
      },
    });
    if (!variant.feature_enabled) return { stage: 'shadow', reason: 'no-strategy' };
    if (!variant.enabled) return { stage: 'shadow', reason: 'irregular-variant' };
    if (isStage(variant.name)) return { stage: variant.name, reason: 'variant', variant: variant.name };
    return { stage: 'shadow', reason: 'irregular-variant', variant: variant.name };
  }

  workflowEnabled(workflow: string): boolean | null {
    const definition = this.client.getFeatureToggleDefinition(workflowFlagName(workflow));
    return definition ? definition.enabled === true : null;
  }

  killSwitch(): boolean {
    return this.client.getFeatureToggleDefinition(this.killSwitchFlag)?.enabled === true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // destroy(), not destroyWithFlush(): shutting down must not wait on an unreachable Unleash.
    this.client.destroy();
    // unleash-client 6.12 removes its repository's listeners on destroy but lets a fetch already in
    // flight finish; when that fetch fails it emits 'error' on a repository with no listener, which
    // throws as an unhandled rejection after the reader is closed (and would end a process shutting
    // down). Keep one quiet listener there: nothing fetched after close matters.
    (this.client as unknown as { repository?: { on?: (event: string, listener: () => void) => void } }).repository?.on?.('error', () => undefined);
  }

  private failed(err: unknown): void {
    const now = Date.now();
    if (!this.failing || now - this.lastErrorLoggedAt >= ERROR_LOG_EVERY_MS) {
      this.lastErrorLoggedAt = now;
      const state = this.hasState ? 'keeping the last known flag state' : 'no flag state: every item in shadow';
      this.log.error(`Unleash flags: ${err instanceof Error ? err.message : String(err)} (${state})`);
    }
    this.failing = true;
  }

  private recovered(): void {
    if (this.failing) {
      this.failing = false;
      this.log.info('Unleash flags: reachable again');
    }
  }
}
