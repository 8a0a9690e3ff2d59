import { ManualClock } from '../../src/common/clock';
import type { SegmentSplit } from '../../src/flags/domain/segment-split';
import type { FlagGateway, WorkflowFlagState } from '../../src/flags/flag-gateway';
import { workflowFlagName } from '../../src/flags/flag-gateway';
import { createFlagWriter } from '../../src/rollout/domain/flag-write';
import type { KnownSwitch } from '../../src/rollout/domain/kill-switch';
import { AuditAppend, createRolloutCycle, RolloutCyclePorts } from '../../src/rollout/domain/rollout-cycle';
import { createSegmentEffects } from '../../src/rollout/domain/segment-effects';
import type { AlertDraft, SegmentFacts } from '../../src/rollout/domain/segment-machine';
import type { SegmentState } from '../../src/rollout/domain/segment-state';
import { sameSplit } from '../../src/rollout/domain/steps';
import type { WorkflowDefinition, WorkflowVersion } from '../../src/workflows/domain/workflow-definition';
import { segmentFacts, testRollout } from './segments';

/**
 * In-memory fakes of the rollout controller's ports (PostgreSQL's segments, flag snapshots, audit
 * log and alerts; Unleash), for specs of the pure cores in src/rollout/domain. They keep what the
 * real adapters keep, and write what happens, in order, to one shared `events` list.
 */

/** The transaction handle the fakes pass around: nothing to roll back in memory. */
export type FakeTx = { readonly fake: 'tx' };
const TX: FakeTx = { fake: 'tx' };

export class FakeEvents {
  readonly list: string[] = [];
  add(e: string): void {
    this.list.push(e);
  }
}

/** The segments table. */
export class FakeSegmentStore {
  private readonly rows = new Map<string, SegmentState>();
  /** How many `auto` decisions a revert puts on the re-review list. */
  rereviewItems = 0;

  constructor(private readonly events: FakeEvents) {}

  put(s: SegmentState): void {
    this.rows.set(`${s.workflow}|${s.segment}`, { ...s });
  }

  get(workflow: string, segment: string): SegmentState {
    const s = this.rows.get(`${workflow}|${segment}`);
    if (!s) throw new Error(`no segment ${workflow}|${segment}`);
    return s;
  }

  async lockWorkflow(_tx: FakeTx, workflow: string): Promise<SegmentState[]> {
    this.events.add(`lock ${workflow}`);
    return this.list(workflow);
  }

  async list(workflow: string, _tx?: FakeTx): Promise<SegmentState[]> {
    return [...this.rows.values()].filter((s) => s.workflow === workflow).map((s) => ({ ...s }));
  }

  async owingFlagWrites(workflow: string): Promise<SegmentState[]> {
    return (await this.list(workflow)).filter((s) => s.flagSplit?.pending === true);
  }

  async update(_tx: FakeTx, workflow: string, segment: string, patch: Partial<SegmentState>): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    this.put({ ...this.get(workflow, segment), ...patch });
  }

  async listForRereview(): Promise<number> {
    return this.rereviewItems;
  }

  /** As the repository's UPDATE: only a still-owed write of that split is confirmed. */
  async confirmFlagWritten(workflow: string, segment: string, split: SegmentSplit, at: Date): Promise<void> {
    const s = this.get(workflow, segment);
    if (!s.flagSplit?.pending || !sameSplit(s.flagSplit, split)) return;
    const { pending: _pending, ...rest } = s.flagSplit;
    this.put({ ...s, flagSplit: { ...rest, writtenAt: at.toISOString() } });
  }
}

/** The flag_snapshots table. */
export class FakeSwitchStore {
  readonly states = new Map<string, KnownSwitch>();

  async get(flagName: string): Promise<KnownSwitch | null> {
    return this.states.get(flagName) ?? null;
  }

  async set(_tx: FakeTx, flagName: string, state: KnownSwitch): Promise<void> {
    this.states.set(flagName, { ...state });
  }

  async confirmWritten(_tx: FakeTx, flagName: string, enabled: boolean, at: Date): Promise<void> {
    const s = this.states.get(flagName);
    if (s?.pending && s.enabled === enabled) this.states.set(flagName, { enabled, writtenAt: at.toISOString() });
  }
}

/** Unleash: the workflow flags with one strategy per segment, and the kill switch. `down` makes every call fail. */
export class FakeFlagGateway implements FlagGateway {
  readonly workflows = new Map<string, { enabled: boolean; segments: Map<string, SegmentSplit> }>();
  killSwitch = false;
  down = false;
  /** Only writes of splits fail (reads answer). */
  refuseWrites = false;

  constructor(private readonly events: FakeEvents) {}

  private answer(): void {
    if (this.down) throw new Error('Unleash did not answer');
  }

  private flag(workflow: string) {
    const f = this.workflows.get(workflow);
    if (!f) throw new Error(`no flag ${workflowFlagName(workflow)}`);
    return f;
  }

  async ensureSetup(): Promise<void> {
    this.answer();
  }

  async ensureWorkflowFlag(workflow: string): Promise<void> {
    this.answer();
    if (!this.workflows.has(workflow)) this.workflows.set(workflow, { enabled: true, segments: new Map() });
  }

  async readWorkflowFlag(workflow: string): Promise<WorkflowFlagState> {
    this.answer();
    const f = this.workflows.get(workflow);
    return {
      flagName: workflowFlagName(workflow),
      exists: !!f,
      enabled: f?.enabled ?? false,
      segments: [...(f?.segments ?? new Map<string, SegmentSplit>()).entries()].map(([segment, split]) => ({ segment, strategyId: `s-${segment}`, split })),
    };
  }

  async writeSegmentSplit(workflow: string, segment: string, split: SegmentSplit): Promise<void> {
    this.answer();
    if (this.refuseWrites) throw new Error('Unleash refused the write');
    this.flag(workflow).segments.set(segment, split);
    this.events.add(`unleash ${segment} ${split.stage} ${split.trafficPct}`);
  }

  async setWorkflowEnabled(workflow: string, enabled: boolean): Promise<void> {
    this.answer();
    this.flag(workflow).enabled = enabled;
  }

  async readKillSwitch(): Promise<boolean> {
    this.answer();
    return this.killSwitch;
  }

  async setKillSwitch(enabled: boolean): Promise<void> {
    this.answer();
    this.killSwitch = enabled;
    this.events.add(`unleash kill-switch ${enabled}`);
  }
}

/** The audit log. */
export class FakeAudit {
  readonly entries: AuditAppend[] = [];

  async append(entry: AuditAppend): Promise<{ id: string }> {
    this.entries.push(entry);
    return { id: String(this.entries.length) };
  }

  actions(): string[] {
    return this.entries.map((e) => e.action);
  }
}

/** Alerts: raised in a transaction, sent when it commits. */
export class FakeAlerts {
  readonly raised: Array<Omit<AlertDraft, 'withRereview'>> = [];
  commits = 0;

  async raise(_tx: FakeTx, alert: Omit<AlertDraft, 'withRereview'>): Promise<void> {
    this.raised.push(alert);
  }

  committed(): void {
    this.commits++;
  }
}

export function champion(workflow = 'triage', version = 1): WorkflowVersion {
  return {
    workflow,
    version,
    role: 'champion',
    definition: { name: workflow, rollout: testRollout } as unknown as WorkflowDefinition,
    definitionHash: `h${version}`,
  };
}

export class FakeLog {
  readonly lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  debug(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'debug', message, fields });
  }
  warn(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'error', message, fields });
  }
}

/**
 * A controller cycle on fakes. `facts` gives each segment's facts (the evidence loaded beside it);
 * by default nothing has happened yet, at the clock's time.
 */
export function fakeRolloutCycle(over: { facts?: (s: SegmentState, now: Date) => Partial<SegmentFacts> } = {}) {
  const events = new FakeEvents();
  const segments = new FakeSegmentStore(events);
  const switches = new FakeSwitchStore();
  const flags = new FakeFlagGateway(events);
  const audit = new FakeAudit();
  const alerts = new FakeAlerts();
  const clock = new ManualClock(new Date('2026-11-30T11:00:00.000Z'));
  const log = new FakeLog();
  const budget = { ok: true };
  const limits: Array<{ lockTimeoutMs: number; statementTimeoutMs: number } | undefined> = [];
  const killSwitchFlag = 'understudy.kill-switch';
  const ports: RolloutCyclePorts<FakeTx> = {
    transactions: {
      run: async (fn, l) => {
        limits.push(l);
        events.add('begin');
        const r = await fn(TX);
        events.add('commit');
        return r;
      },
    },
    segments,
    switches,
    facts: async (_tx, c, s, now) => segmentFacts({ now, version: c.version, ...(over.facts?.(s, now) ?? {}) }),
    effects: createSegmentEffects<FakeTx>({ segments, audit, alerts }),
    flagWriter: createFlagWriter({ flags, segments, clock, log }),
    flags,
    audit,
    alerts,
    budget: { healthy: async () => budget },
    clock,
    log,
    killSwitchFlag,
  };
  return { cycle: createRolloutCycle(ports), events, segments, switches, flags, audit, alerts, clock, log, budget, limits, killSwitchFlag };
}
