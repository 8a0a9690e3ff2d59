import type { ActorKind } from '../../audit/domain/actor';
import { errorMessage } from '../../common/domain-error';
import type { FlagGateway, WorkflowFlagState } from '../../flags/flag-gateway';
import { workflowFlagName } from '../../flags/flag-gateway';
import type { WorkflowDefinition, WorkflowVersion } from '../../workflows/domain/workflow-definition';
import { crossSegmentControl, promotionCandidate } from './cross-segment';
import type { OwedFlagWrite } from './flag-write';
import { KnownSwitch, killSwitchAdoption, reconcileKillSwitch } from './kill-switch';
import { detectOperatorChanges } from './reconcile';
import type { EffectTarget } from './segment-effects';
import { adoptOperatorChange, adoptWorkflowChange, AlertDraft, CycleDecision, decideCycle, Effects, SegmentFacts } from './segment-machine';
import type { SegmentState } from './segment-state';

/** The controller waits this long for a row a person's action holds, and gives up the cycle for that workflow. */
export const CONTROLLER_LOCK_TIMEOUT_MS = 5_000;
export const CONTROLLER_STATEMENT_TIMEOUT_MS = 30_000;

/** Runs work in one transaction `Tx`, its row-lock waits and statements bounded when limits are given. */
export interface Transactions<Tx> {
  run<T>(fn: (tx: Tx) => Promise<T>, limits?: { lockTimeoutMs: number; statementTimeoutMs: number }): Promise<T>;
}

/** The segments as the cycle reads them (SegmentRepository). */
export interface CycleSegmentStore<Tx> {
  /** Locks a workflow's segments for the rest of the transaction: people's actions wait behind it. */
  lockWorkflow(tx: Tx, workflow: string): Promise<SegmentState[]>;
  list(workflow: string, tx: Tx): Promise<SegmentState[]>;
  /** Segments with a split owed to Unleash (stored, not yet confirmed by Unleash). */
  owingFlagWrites(workflow: string): Promise<SegmentState[]>;
}

/** Flags' environment switches as known in PostgreSQL (FlagSnapshotRepository); read outside a transaction when tx is absent. */
export interface SwitchStore<Tx> {
  get(flagName: string, tx?: Tx): Promise<KnownSwitch | null>;
  set(tx: Tx, flagName: string, state: KnownSwitch): Promise<void>;
  /** Marks an owed write confirmed, unless the state changed meanwhile. */
  confirmWritten(tx: Tx, flagName: string, enabled: boolean, at: Date): Promise<void>;
}

export interface AuditAppend {
  actor: string;
  actorKind: ActorKind;
  action: string;
  workflow?: string | null;
  segment?: string | null;
  reason: string;
  details: Record<string, unknown>;
}

export interface CycleLog {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** What the cycle works with; each a small port with its real adapter in RolloutController and a fake in the spec. */
export interface RolloutCyclePorts<Tx> {
  transactions: Transactions<Tx>;
  segments: CycleSegmentStore<Tx>;
  switches: SwitchStore<Tx>;
  /** Loads the facts a segment's transition needs, in the transaction holding its row lock (SegmentDecisions). */
  facts(tx: Tx, champion: WorkflowVersion, s: SegmentState, now: Date): Promise<SegmentFacts>;
  /** Applies a decision's effects in the transaction; returns the flag write it owes (domain/segment-effects.ts). */
  effects: { apply(tx: Tx, at: EffectTarget, e: Effects): Promise<OwedFlagWrite | null> };
  /** Writes an owed split to Unleash after the commit (domain/flag-write.ts); false when it stays owed. */
  flagWriter: { write(w: OwedFlagWrite): Promise<boolean> };
  flags: Pick<FlagGateway, 'ensureSetup' | 'ensureWorkflowFlag' | 'readWorkflowFlag' | 'readKillSwitch' | 'setKillSwitch'>;
  audit: { append(entry: AuditAppend, tx: Tx): Promise<unknown> };
  alerts: { raise(tx: Tx, alert: Omit<AlertDraft, 'withRereview'>): Promise<void>; committed(): void };
  budget: { healthy(definition: WorkflowDefinition): Promise<{ ok: boolean } & Record<string, unknown>> };
  clock: { now(): Date };
  log: CycleLog;
  killSwitchFlag: string;
  /** Called after each segment's look (metrics, logs). */
  observed?(d: CycleDecision, facts: SegmentFacts): void;
  /** Called when stored segment states may have changed (routing's cache). */
  stateChanged?(): void;
}

const UNREACHABLE = Symbol('unleash unreachable');

/**
 * One controller cycle: reads the flags back from Unleash and adopts what operators changed there
 * (the kill switch, a workflow switched off or on, a segment's split); then, per segment, loads its
 * facts under the workflow's row locks, lets the segment's state machine decide (threshold, guard,
 * revert, gate, promotion) and applies the decision once; the flag writes it owes go to Unleash
 * after the commit. Unleash may not answer: the cycle then goes on from PostgreSQL alone — the
 * guard, reverts and the kill switch — and promotions wait.
 */
export class RolloutCycle<Tx> {
  private setupDone = false;
  private readonly ensured = new Set<string>();
  private killSwitch = false;

  constructor(private readonly p: RolloutCyclePorts<Tx>) {}

  /** Whether the kill switch was on at the last look. */
  get killSwitchOn(): boolean {
    return this.killSwitch;
  }

  /** One cycle over the active workflows; a workflow's failure is logged and the others go on. */
  async run(active: ReadonlyArray<{ champion: WorkflowVersion }>): Promise<void> {
    if (!this.setupDone) {
      // Unleash may be down: the cycle goes on from PostgreSQL (guard, reverts) and sets up later.
      this.setupDone = (await this.unleash('setting up the flags', () => this.p.flags.ensureSetup())) !== UNREACHABLE;
    }
    await this.reconcileKillSwitch();
    for (const { champion } of active) {
      try {
        await this.cycleWorkflow(champion);
      } catch (e) {
        this.p.log.error({ err: errorMessage(e), workflow: champion.workflow }, 'controller cycle failed for a workflow');
      }
    }
    this.p.stateChanged?.();
  }

  /** Calls Unleash; a failure is logged and returned as UNREACHABLE, never thrown. */
  private async unleash<T>(what: string, fn: () => Promise<T>): Promise<T | typeof UNREACHABLE> {
    try {
      return await fn();
    } catch (e) {
      this.p.log.warn({ err: errorMessage(e) }, `${what} failed: Unleash did not answer; the controller goes on from PostgreSQL`);
      return UNREACHABLE;
    }
  }

  /**
   * The kill switch: a write owed to Unleash (set through the API while Unleash was down) is made
   * first; then an operator's change in Unleash is adopted — unless the stored state changed after
   * the flag was read. The stored state is in force either way (routing reads it).
   */
  async reconcileKillSwitch(): Promise<void> {
    const { switches, flags, transactions } = this.p;
    const flagName = this.p.killSwitchFlag;
    const owed = await switches.get(flagName);
    if (owed?.pending) {
      const written = await this.unleash('writing the kill switch', () => flags.setKillSwitch(owed.enabled));
      if (written !== UNREACHABLE) await transactions.run((tx) => switches.confirmWritten(tx, flagName, owed.enabled, this.p.clock.now()));
    }
    const readAt = this.p.clock.now();
    const read = await this.unleash('reading the kill switch', () => flags.readKillSwitch());
    const live = read === UNREACHABLE ? null : read;
    await transactions.run(async (tx) => {
      const verdict = reconcileKillSwitch({ known: await switches.get(flagName, tx), live, readAt });
      if (verdict.adopted) {
        const { audit, alert } = killSwitchAdoption(flagName, verdict.adopted);
        await this.p.audit.append(audit, tx);
        await this.p.alerts.raise(tx, alert);
      }
      if (verdict.store) await switches.set(tx, flagName, verdict.store);
      this.killSwitch = verdict.on;
    });
    this.p.alerts.committed();
  }

  async cycleWorkflow(champion: WorkflowVersion): Promise<void> {
    const { segments, flags, transactions } = this.p;
    const workflow = champion.workflow;
    if (!this.ensured.has(workflow) && (await this.unleash('creating the workflow flag', () => flags.ensureWorkflowFlag(workflow))) !== UNREACHABLE) {
      this.ensured.add(workflow);
    }
    // Writes owed to Unleash (moves made while it did not answer) go first, so the flag read below shows them.
    for (const s of await segments.owingFlagWrites(workflow)) {
      await this.p.flagWriter.write({ workflow, segment: s.segment, split: { stage: s.flagSplit!.stage, trafficPct: s.flagSplit!.trafficPct }, before: null });
    }
    // Unleash is read before any row is locked: people's actions never wait behind a call to it.
    const readAt = this.p.clock.now();
    const read = await this.unleash('reading the workflow flag', () => flags.readWorkflowFlag(workflow));
    const live = read === UNREACHABLE ? null : read;
    const owed: OwedFlagWrite[] = [];
    await transactions.run(
      async (tx) => {
        const locked = await segments.lockWorkflow(tx, workflow);
        if (live) owed.push(...(await this.adoptOperatorChanges(tx, champion, live, locked, readAt)));
        owed.push(...(await this.decideSegments(tx, champion, live)));
      },
      { lockTimeoutMs: CONTROLLER_LOCK_TIMEOUT_MS, statementTimeoutMs: CONTROLLER_STATEMENT_TIMEOUT_MS },
    );
    this.p.alerts.committed();
    this.p.stateChanged?.();
    // The stored stages are in force; Unleash catches up (or the writes stay owed until it answers).
    for (const w of owed) await this.p.flagWriter.write(w);
  }

  /** An operator's change in Unleash becomes the segment's (or workflow's) state: recorded, never overwritten. */
  private async adoptOperatorChanges(
    tx: Tx,
    champion: WorkflowVersion,
    live: WorkflowFlagState,
    locked: SegmentState[],
    readAt: Date,
  ): Promise<OwedFlagWrite[]> {
    const workflow = champion.workflow;
    const flagName = workflowFlagName(workflow);
    const known = await this.p.switches.get(flagName, tx);
    const changes = detectOperatorChanges(
      live,
      known?.enabled ?? null,
      locked.map((s) => ({ segment: s.segment, flagSplit: s.flagSplit, state: { stage: s.stage, trafficPct: s.trafficPct } })),
      readAt,
    );
    const owed: OwedFlagWrite[] = [];
    for (const c of changes) {
      if (c.kind === 'workflow-enabled') {
        await this.p.effects.apply(tx, { workflow, segment: null }, adoptWorkflowChange(workflow, c));
      } else {
        const s = locked.find((x) => x.segment === c.segment)!;
        const d = adoptOperatorChange(s, c, await this.p.facts(tx, champion, s, this.p.clock.now()));
        const w = await this.p.effects.apply(tx, s, d.effects);
        if (w) owed.push(w);
      }
    }
    if (!known || known.enabled !== live.enabled) await this.p.switches.set(tx, flagName, { enabled: live.enabled });
    return owed;
  }

  /** Each segment's look: with e-BH, each segment's promotion also depends on the evidence of its peers, judged together. */
  private async decideSegments(tx: Tx, champion: WorkflowVersion, live: WorkflowFlagState | null): Promise<OwedFlagWrite[]> {
    const liveSegments = new Set((live?.segments ?? []).map((s) => s.segment));
    const budget = await this.p.budget.healthy(champion.definition);
    const rollout = champion.definition.rollout;
    const looks: Array<{ s: SegmentState; facts: SegmentFacts }> = [];
    for (const s of await this.p.segments.list(champion.workflow, tx)) looks.push({ s, facts: await this.p.facts(tx, champion, s, this.p.clock.now()) });
    const cross =
      rollout.falsePromotionControl === 'e-bh'
        ? crossSegmentControl(
            looks.flatMap(({ s, facts }) => promotionCandidate(s, { n: facts.stepEvidence.blindN, agree: facts.stepEvidence.blindAgree }, rollout) ?? []),
            rollout,
          )
        : null;
    const owed: OwedFlagWrite[] = [];
    for (const { s, facts } of looks) {
      const d = decideCycle(s, facts, {
        live,
        hasStrategy: liveSegments.has(s.segment),
        killSwitchOn: this.killSwitch,
        budget,
        crossSegment: cross?.get(s.segment) ?? null,
      });
      const w = await this.p.effects.apply(tx, s, d.effects);
      if (w) owed.push(w);
      this.p.observed?.(d, facts);
    }
    return owed;
  }
}

export function createRolloutCycle<Tx>(ports: RolloutCyclePorts<Tx>): RolloutCycle<Tx> {
  return new RolloutCycle(ports);
}
