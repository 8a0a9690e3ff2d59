import { BudgetLedger, claimToTake, exhaustion, roomLeft, within } from './budget-ledger';

const call = { tokens: 1000, cost: 0.01 };

describe('claimToTake', () => {
  const limits = { dailyTokens: 10_000, dailyCostUsd: 0.1 };

  it('takes what is needed plus a chunk, as far as the budget allows after committed usage and the other claims', () => {
    expect(
      claimToTake({ limits, committed: { tokens: 2000, cost: 0.02 }, others: { tokens: 3000, cost: 0.03 }, needed: call, chunk: { tokens: 2000, cost: 0.02 } }),
    ).toEqual({ tokens: 3000, cost: 0.03 });
    const capped = claimToTake({
      limits,
      committed: { tokens: 6000, cost: 0.06 },
      others: { tokens: 2000, cost: 0.02 },
      needed: call,
      chunk: { tokens: 8000, cost: 0.08 },
    })!;
    expect(capped.tokens).toBe(2000);
    expect(capped.cost).toBeCloseTo(0.02, 12);
  });

  it('refuses when what is needed does not fit beside the committed usage and the other instances’ claims', () => {
    expect(claimToTake({ limits, committed: { tokens: 5000, cost: 0 }, others: { tokens: 4500, cost: 0 }, needed: call, chunk: call })).toBeNull();
    expect(claimToTake({ limits, committed: { tokens: 0, cost: 0.095 }, others: { tokens: 0, cost: 0 }, needed: call, chunk: call })).toBeNull();
  });

  it('has no limit on a dimension the workflow does not budget', () => {
    expect(
      claimToTake({ limits: { dailyTokens: 5000 }, committed: { tokens: 0, cost: 1e6 }, others: { tokens: 0, cost: 0 }, needed: call, chunk: call }),
    ).toEqual({ tokens: 2000, cost: 0.02 });
  });
});

describe('exhaustion: what the day has spent', () => {
  const limits = { dailyTokens: 1000, dailyCostUsd: 2 };

  it('lets a call through while it fits every limit, up to the limit itself', () => {
    expect(exhaustion({ tokens: 900, cost: 1.5 }, { tokens: 100, cost: 0.5 }, limits)).toBeNull();
    // Costs are sums of float prices: a billionth of a dollar over is still within.
    expect(exhaustion({ tokens: 0, cost: 0.1 + 0.2 }, { tokens: 0, cost: 1.7 }, limits)).toBeNull();
  });

  it('names the limit a call would pass, with what is used of it', () => {
    expect(exhaustion({ tokens: 950, cost: 0 }, { tokens: 51, cost: 0 }, limits)).toBe('950 of 1000 daily tokens used');
    expect(exhaustion({ tokens: 0, cost: 1.99 }, { tokens: 1, cost: 0.02 }, limits)).toBe('1.9900 of 2 USD daily cost used');
  });

  it('has no limit where the workflow sets none', () => {
    expect(exhaustion({ tokens: 1e9, cost: 1e9 }, { tokens: 1, cost: 1 }, {})).toBeNull();
    expect(exhaustion({ tokens: 1e9, cost: 0 }, { tokens: 1, cost: 0 }, { dailyCostUsd: 1 })).toBeNull();
  });
});

describe('roomLeft', () => {
  it('is true while something is left under every limit the workflow sets', () => {
    expect(roomLeft({ tokens: 999, cost: 1.99 }, { dailyTokens: 1000, dailyCostUsd: 2 })).toBe(true);
    expect(roomLeft({ tokens: 1000, cost: 0 }, { dailyTokens: 1000, dailyCostUsd: 2 })).toBe(false);
    expect(roomLeft({ tokens: 0, cost: 2 }, { dailyTokens: 1000, dailyCostUsd: 2 })).toBe(false);
    expect(roomLeft({ tokens: 1e9, cost: 1e9 }, {})).toBe(true);
  });
});

describe('BudgetLedger', () => {
  it('reserves calls inside its claim and asks for more when the claim is full', () => {
    const l = new BudgetLedger('2026-12-01');
    expect(l.tryHold(call)).toBe(false); // no claim yet
    l.grew({ tokens: 2500, cost: 0.025 }, call, 0);
    expect(l.tryHold(call)).toBe(true);
    expect(l.tryHold(call)).toBe(false); // 2,000 held, 500 left
    expect(l.held).toEqual({ tokens: 2000, cost: 0.02 });
  });

  it('keeps an ended call’s actual usage claimed until it is written, then gives it up', () => {
    const l = new BudgetLedger('2026-12-01');
    l.grew({ tokens: 2000, cost: 0.02 }, call, 0);
    l.ended(call, { tokens: 400, cost: 0.004 });
    expect(l.needed()).toEqual({ tokens: 400, cost: 0.004 });
    l.written({ tokens: 400, cost: 0.004 });
    expect(l.claim.tokens).toBe(1600);
    expect(l.needed()).toEqual({ tokens: 0, cost: 0 });
  });

  it('gives back spare room only once it has not grown for a while', () => {
    const l = new BudgetLedger('2026-12-01');
    l.grew({ tokens: 5000, cost: 0.05 }, call, 1000);
    expect(l.spare(1500, 1000)).toBeNull();
    expect(l.spare(2000, 1000)).toEqual({ tokens: 4000, cost: 0.04 });
    l.ended(call);
    expect(l.spare(2000, 1000)).toEqual({ tokens: 5000, cost: 0.05 });
  });

  it('never lets two instances together take more than the budget (a simulation of interleaved claims)', () => {
    const limits = { dailyTokens: 20_000, dailyCostUsd: 0.2 };
    const store = { committed: { tokens: 0, cost: 0 }, claims: new Map<string, { tokens: number; cost: number }>() };
    const ledgers = { a: new BudgetLedger('d'), b: new BudgetLedger('d') };
    let made = 0;
    let now = 0;
    for (let step = 0; step < 400; step++) {
      now += 100;
      const id = step % 3 === 0 ? 'b' : 'a';
      const l = ledgers[id];
      if (!l.tryHold(call)) {
        const others = [...store.claims]
          .filter(([k]) => k !== id)
          .reduce((s, [, c]) => ({ tokens: s.tokens + c.tokens, cost: s.cost + c.cost }), { tokens: 0, cost: 0 });
        const claim = claimToTake({
          limits,
          committed: store.committed,
          others,
          needed: { tokens: l.needed().tokens + call.tokens, cost: l.needed().cost + call.cost },
          chunk: { tokens: 3 * call.tokens, cost: 3 * call.cost },
        });
        if (!claim) continue;
        store.claims.set(id, claim);
        l.grew(claim, call, now);
      }
      made++;
      // The call ends using 80 % of its worst case, and is written at once.
      const actual = { tokens: 800, cost: 0.008 };
      l.ended(call, actual);
      store.committed = { tokens: store.committed.tokens + actual.tokens, cost: store.committed.cost + actual.cost };
      l.written(actual);
      store.claims.set(id, l.claim);
      const total = [...store.claims.values()].reduce((s, c) => ({ tokens: s.tokens + c.tokens, cost: s.cost + c.cost }), store.committed);
      expect(within(total, limits)).toBe(true);
    }
    expect(within(store.committed, limits)).toBe(true);
    expect(made).toBeGreaterThan(20); // the budget was used, not just guarded
  });
});
