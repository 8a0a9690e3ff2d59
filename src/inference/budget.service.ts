import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock, CLOCK } from '../common/clock';
import type { WorkflowDefinition } from '../workflows/domain/workflow-definition';

interface Usage {
  day: string;
  tokens: number;
  cost: number;
  fetchedAt: number;
}

const REFRESH_MS = 1000;

/**
 * Keeps model spending inside each workflow's daily budget. Before a call, the runner reserves
 * the call's worst case (estimated prompt tokens + max completion tokens); the reservation is
 * released when the call ends and the actual usage is written with the decision. The committed
 * usage of all instances is re-read from the database every second.
 */
@Injectable()
export class BudgetService {
  private usage = new Map<string, Usage>();
  private reserved = new Map<string, { tokens: number; cost: number }>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Reserves room for one call, or says why there is none: the budget is exhausted (what is spent
   * leaves no room for this call), or — `wait` — the room left is held by calls in flight, whose
   * reservations are worst cases and mostly come back when they end.
   */
  async reserve(def: WorkflowDefinition, tokens: number, cost: number): Promise<{ ok: true } | { ok: false; reason: string; wait: boolean }> {
    const { dailyTokens, dailyCostUsd } = def.budget;
    if (dailyTokens === undefined && dailyCostUsd === undefined) return { ok: true };
    const used = await this.current(def.name);
    const r = this.reserved.get(def.name) ?? { tokens: 0, cost: 0 };
    if (dailyTokens !== undefined && used.tokens + tokens > dailyTokens) {
      return { ok: false, wait: false, reason: `budget exhausted: ${used.tokens} of ${dailyTokens} daily tokens used (${def.name}, ${used.day})` };
    }
    if (dailyCostUsd !== undefined && used.cost + cost > dailyCostUsd) {
      return { ok: false, wait: false, reason: `budget exhausted: ${used.cost.toFixed(4)} of ${dailyCostUsd} USD daily cost used (${def.name}, ${used.day})` };
    }
    if ((dailyTokens !== undefined && used.tokens + r.tokens + tokens > dailyTokens) || (dailyCostUsd !== undefined && used.cost + r.cost + cost > dailyCostUsd)) {
      return { ok: false, wait: true, reason: `budget held by calls in flight (${def.name}): waiting for them to end` };
    }
    this.reserved.set(def.name, { tokens: r.tokens + tokens, cost: r.cost + cost });
    return { ok: true };
  }

  /**
   * Ends a reservation. The actual usage counts locally at once, so that it is not forgotten
   * in the gap before the decision writer commits it and the next refresh reads it back.
   */
  release(workflow: string, tokens: number, cost: number, actual?: { tokens: number; cost: number }): void {
    const r = this.reserved.get(workflow);
    if (r) this.reserved.set(workflow, { tokens: Math.max(0, r.tokens - tokens), cost: Math.max(0, r.cost - cost) });
    const u = this.usage.get(workflow);
    if (u && actual) {
      u.tokens += actual.tokens;
      u.cost += actual.cost;
    }
  }

  /** Today's committed usage of a workflow (refreshed from the database at most every second). */
  async current(workflow: string): Promise<Usage> {
    const now = this.clock.now();
    const day = now.toISOString().slice(0, 10);
    const cached = this.usage.get(workflow);
    if (cached && cached.day === day && now.getTime() - cached.fetchedAt < REFRESH_MS) return cached;
    const rows: Array<{ tokens: string; cost: string }> = await this.dataSource.query(
      `SELECT tokens::text, cost_usd::text AS cost FROM budget_usage WHERE workflow = $1 AND day = $2::date`,
      [workflow, day],
    );
    // The database is the truth for committed usage; local increments since the last read are
    // included there once committed, so the fresh reading replaces them.
    const fresh: Usage = { day, tokens: Number(rows[0]?.tokens ?? 0), cost: Number(rows[0]?.cost ?? 0), fetchedAt: now.getTime() };
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
    const ok =
      (def.budget.dailyTokens === undefined || u.tokens < def.budget.dailyTokens) &&
      (def.budget.dailyCostUsd === undefined || u.cost < def.budget.dailyCostUsd);
    return { ok, tokens: u.tokens, cost: u.cost, dailyTokens: def.budget.dailyTokens, dailyCostUsd: def.budget.dailyCostUsd };
  }
}
