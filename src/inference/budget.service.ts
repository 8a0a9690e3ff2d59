import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { Clock, CLOCK } from '../common/clock';
import { LOGGER } from '../common/logger';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import type { Tx } from '../database/sql';
import type { WorkflowDefinition } from '../workflows/domain/workflow-definition';
import { BudgetRepository } from './budget.repository';
import { Amount, BudgetLedger, claimToTake, exhaustion, Limits, minus, plus, roomLeft, times } from './domain/budget-ledger';

interface Usage {
  day: string;
  tokens: number;
  cost: number;
  fetchedAt: number;
}

const REFRESH_MS = 1000;
/** A claim grows by this many calls' worst case beyond what it needs, so most calls reserve locally. */
const CHUNK_CALLS = 8;
/** Spare room goes back to the other instances once the claim has not grown for this long. */
const QUIET_MS = 1000;

/**
 * Keeps model spending inside each workflow's daily budget, across every instance. Before a call
 * the runner reserves the call's worst case (estimated prompt tokens + max completion tokens)
 * inside this instance's claim, which grows in PostgreSQL under the budget's row lock only while
 * committed usage and every live claim fit the budget (domain/budget-ledger.ts); the decision
 * writer moves actual usage from the claim to committed usage in the transaction that writes it.
 */
@Injectable()
export class BudgetService implements OnModuleInit, OnModuleDestroy {
  private usage = new Map<string, Usage>();
  private ledgers = new Map<string, BudgetLedger>();
  /** One claim write at a time per workflow, so that PostgreSQL's claim follows this instance's. */
  private queues = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(
    private readonly repo: BudgetRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'budget' });
  }

  onModuleInit(): void {
    let tidying = false;
    this.timer = setInterval(() => {
      if (tidying) return; // a slow look (a row held by the writer's transaction) is not overtaken by the next
      tidying = true;
      void this.tidy()
        .catch((e) => this.log.warn({ err: e }, 'budget claims not tidied'))
        .finally(() => (tidying = false));
    }, REFRESH_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // Give the room back at once rather than leave it to expire.
    await this.repo.deleteClaims(this.config.instanceId).catch(() => undefined);
  }

  /**
   * Reserves room for one call, or says why there is none: the budget is exhausted (what is spent
   * leaves no room for this call), or — `wait` — the room left is held by calls in flight (here or
   * on other instances), whose reservations are worst cases and mostly come back when they end.
   */
  async reserve(def: WorkflowDefinition, tokens: number, cost: number): Promise<{ ok: true } | { ok: false; reason: string; wait: boolean }> {
    const limits: Limits = def.budget;
    if (limits.dailyTokens === undefined && limits.dailyCostUsd === undefined) return { ok: true };
    const call: Amount = { tokens, cost };
    const used = await this.current(def.name);
    const exhausted = exhaustion(used, call, limits);
    if (exhausted) return { ok: false, wait: false, reason: `budget exhausted: ${exhausted} (${def.name}, ${used.day})` };
    const ledger = this.ledger(def.name, used.day);
    if (ledger.tryHold(call)) return { ok: true };
    const grown = await this.serially(def.name, () => this.grow(def.name, ledger, limits, call));
    return grown ? { ok: true } : { ok: false, wait: true, reason: `budget held by calls in flight (${def.name}): waiting for them to end` };
  }

  /**
   * Ends a reservation. The actual usage counts locally at once (and stays in the claim), so that it
   * is not forgotten in the gap before the decision writer commits it.
   */
  release(workflow: string, tokens: number, cost: number, actual?: { tokens: number; cost: number }): void {
    const day = this.today();
    this.ledgers.get(`${workflow}\u0001${day}`)?.ended({ tokens, cost }, actual);
    const u = this.usage.get(workflow);
    if (u && actual) {
      u.tokens += actual.tokens;
      u.cost += actual.cost;
    }
  }

  /**
   * In the decision writer's transaction: adds the batch's actual usage to the day's committed usage
   * and takes it out of this instance's claims. Call `written` once that transaction has committed.
   */
  commit(tx: Tx, day: string, byWorkflow: Map<string, Amount>): Promise<void> {
    return this.repo.commitUsage(tx, day, byWorkflow, this.config.instanceId);
  }

  /** The writer's transaction committed: the ledgers follow the claims. */
  written(day: string, byWorkflow: Map<string, Amount>): void {
    for (const [workflow, actual] of byWorkflow) this.ledgers.get(`${workflow}\u0001${day}`)?.written(actual);
  }

  /** Today's committed usage of a workflow (refreshed from the database at most every second). */
  async current(workflow: string): Promise<Usage> {
    const now = this.clock.now();
    const day = now.toISOString().slice(0, 10);
    const cached = this.usage.get(workflow);
    if (cached && cached.day === day && now.getTime() - cached.fetchedAt < REFRESH_MS) return cached;
    const committed = await this.repo.committedUsage(workflow, day);
    // The database is the truth for committed usage; local increments since the last read are
    // included there once committed, so the fresh reading replaces them.
    const fresh: Usage = { day, tokens: committed.tokens, cost: committed.cost, fetchedAt: now.getTime() };
    if (cached && cached.day === day) {
      fresh.tokens = Math.max(fresh.tokens, cached.tokens);
      fresh.cost = Math.max(fresh.cost, cached.cost);
    }
    this.usage.set(workflow, fresh);
    return fresh;
  }

  /** Whether a workflow can still spend today (for gates and the dashboard). */
  async healthy(def: WorkflowDefinition): Promise<{ ok: boolean; tokens: number; cost: number; dailyTokens?: number; dailyCostUsd?: number }> {
    const u = await this.current(def.name);
    const ok = roomLeft(u, def.budget);
    return { ok, tokens: u.tokens, cost: u.cost, dailyTokens: def.budget.dailyTokens, dailyCostUsd: def.budget.dailyCostUsd };
  }

  private today(): string {
    return this.clock.now().toISOString().slice(0, 10);
  }

  private ledger(workflow: string, day: string): BudgetLedger {
    const key = `${workflow}\u0001${day}`;
    let l = this.ledgers.get(key);
    if (!l) {
      l = new BudgetLedger(day);
      this.ledgers.set(key, l);
      // Yesterday's ledger of this workflow is done with.
      for (const [k, other] of this.ledgers) if (k.startsWith(`${workflow}\u0001`) && other.day < day) this.ledgers.delete(k);
    }
    return l;
  }

  /** Claims are live while renewed: a gone instance's room comes back after this long. */
  private claimTtlMs(): number {
    return Math.max(60_000, 3 * this.config.model.timeoutMs);
  }

  /** Grows this instance's claim under the budget's row lock; false when the room is held elsewhere. */
  private async grow(workflow: string, ledger: BudgetLedger, limits: Limits, call: Amount): Promise<boolean> {
    if (ledger.tryHold(call)) return true; // room came back while this waited its turn
    const claim = await this.repo.growClaim(workflow, ledger.day, this.config.instanceId, this.claimTtlMs(), ({ committed, others }) =>
      claimToTake({ limits, committed, others, needed: plus(ledger.needed(), call), chunk: times(call, CHUNK_CALLS) }),
    );
    if (!claim) return false;
    ledger.grew(claim, call, this.clock.now().getTime());
    return true;
  }

  /** Every second: give spare room back, and renew the claims still held (a live instance's room does not expire). */
  private async tidy(): Promise<void> {
    const now = this.clock.now().getTime();
    for (const [key, ledger] of this.ledgers) {
      const workflow = key.split('\u0001')[0];
      const spare = ledger.spare(now, QUIET_MS);
      if (!spare) continue;
      await this.serially(workflow, async () => {
        // Shrunk here first, so that no call reserves the room being given back.
        ledger.claim = minus(ledger.claim, spare);
        await this.repo.setClaim(workflow, ledger.day, this.config.instanceId, ledger.claim);
      });
    }
    await this.repo.renewClaims(this.config.instanceId);
  }

  private serially<T>(workflow: string, fn: () => Promise<T>): Promise<T> {
    const before = this.queues.get(workflow) ?? Promise.resolve();
    const run = before.then(fn, fn);
    this.queues.set(
      workflow,
      run.catch(() => undefined),
    );
    return run;
  }
}
