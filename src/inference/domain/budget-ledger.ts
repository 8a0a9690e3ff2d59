/**
 * A workflow's daily budget shared by every instance. PostgreSQL holds what is spent (committed
 * usage) and, per instance, a claim: room the instance holds for its calls in flight and for the
 * usage it has not written yet. An instance reserves a call inside its own claim; when the claim
 * has no room left it grows it in PostgreSQL, under the workflow's usage row lock, only while
 * committed usage plus every live claim stays within the budget. So instances together never
 * spend more than the budget, whatever their number.
 */
export interface Amount {
  tokens: number;
  cost: number;
}

export interface Limits {
  dailyTokens?: number;
  dailyCostUsd?: number;
}

export const ZERO: Amount = { tokens: 0, cost: 0 };

// Costs are sums of floating-point prices: a billionth of a dollar is not a reason to refuse a call.
const EPSILON = 1e-9;

export const plus = (a: Amount, b: Amount): Amount => ({ tokens: a.tokens + b.tokens, cost: a.cost + b.cost });
export const minus = (a: Amount, b: Amount): Amount => ({ tokens: Math.max(0, a.tokens - b.tokens), cost: Math.max(0, a.cost - b.cost) });
export const times = (a: Amount, k: number): Amount => ({ tokens: a.tokens * k, cost: a.cost * k });

/** Whether an amount is within the limits (an unset limit is no limit). */
export function within(a: Amount, limits: Limits): boolean {
  return (limits.dailyTokens === undefined || a.tokens <= limits.dailyTokens) && (limits.dailyCostUsd === undefined || a.cost <= limits.dailyCostUsd + EPSILON);
}

/**
 * Why a call cannot be made on what the day has already spent: which limit it would pass, with
 * what is used of it. Null when it fits (an unset limit is no limit).
 */
export function exhaustion(used: Amount, call: Amount, limits: Limits): string | null {
  const after = plus(used, call);
  if (!within({ tokens: after.tokens, cost: 0 }, limits)) return `${used.tokens} of ${limits.dailyTokens} daily tokens used`;
  if (!within({ tokens: 0, cost: after.cost }, limits)) return `${used.cost.toFixed(4)} of ${limits.dailyCostUsd} USD daily cost used`;
  return null;
}

/** Whether a workflow can still spend today: some room left under every limit it sets. */
export function roomLeft(used: Amount, limits: Limits): boolean {
  return (limits.dailyTokens === undefined || used.tokens < limits.dailyTokens) && (limits.dailyCostUsd === undefined || used.cost < limits.dailyCostUsd);
}

/**
 * The claim an instance takes when its own has no room for a call: what it needs (its calls in
 * flight, its unwritten usage and this call) plus a chunk for the calls that follow, as far as the
 * budget allows after committed usage and the other instances' live claims. Null when even what it
 * needs does not fit: the room is held by calls in flight elsewhere, and it waits for them.
 */
export function claimToTake(o: { limits: Limits; committed: Amount; others: Amount; needed: Amount; chunk: Amount }): Amount | null {
  const taken = plus(o.committed, o.others);
  if (!within(plus(taken, o.needed), o.limits)) return null;
  const wanted = plus(o.needed, o.chunk);
  return {
    tokens: o.limits.dailyTokens === undefined ? wanted.tokens : Math.min(wanted.tokens, o.limits.dailyTokens - taken.tokens),
    cost: o.limits.dailyCostUsd === undefined ? wanted.cost : Math.min(wanted.cost, o.limits.dailyCostUsd - taken.cost),
  };
}

/** One instance's side of one workflow's budget for one day. */
export class BudgetLedger {
  /** What PostgreSQL holds for this instance. */
  claim: Amount = ZERO;
  /** Worst cases of the calls in flight. */
  held: Amount = ZERO;
  /** Actual usage of ended calls, not yet written with their decisions. */
  unwritten: Amount = ZERO;
  /** When the claim last grew (tidying gives back only what has not been wanted for a while). */
  grewAt = 0;

  constructor(readonly day: string) {}

  /** What the claim must keep: the calls in flight and the unwritten usage. */
  needed(): Amount {
    return plus(this.held, this.unwritten);
  }

  /** Reserves a call inside the claim, when it has room. */
  tryHold(call: Amount): boolean {
    if (!within(plus(this.needed(), call), { dailyTokens: this.claim.tokens, dailyCostUsd: this.claim.cost })) return false;
    this.held = plus(this.held, call);
    return true;
  }

  /** The claim grew in PostgreSQL: reserve the call in it. */
  grew(claim: Amount, call: Amount, at: number): void {
    this.claim = claim;
    this.grewAt = at;
    this.held = plus(this.held, call);
  }

  /** A call ended: its worst case is released; what it actually used stays claimed until written. */
  ended(reserved: Amount, actual?: Amount): void {
    this.held = minus(this.held, reserved);
    if (actual) this.unwritten = plus(this.unwritten, actual);
  }

  /** Usage written with its decisions is committed usage now: the claim no longer holds it. */
  written(actual: Amount): void {
    this.claim = minus(this.claim, actual);
    this.unwritten = minus(this.unwritten, actual);
  }

  /** Room to give back: what the claim holds beyond what it needs, once it has not grown for `quietMs`. */
  spare(now: number, quietMs: number): Amount | null {
    if (now - this.grewAt < quietMs) return null;
    const spare = minus(this.claim, this.needed());
    return spare.tokens > 0 || spare.cost > EPSILON ? spare : null;
  }
}
