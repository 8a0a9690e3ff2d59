import { compareDecisions, fieldMatches, labelOf } from './compare-decisions';

describe('compareDecisions', () => {
  const triage = {
    category: { match: 'exact' as const, caseInsensitive: false },
    priority: { match: 'exact' as const, caseInsensitive: false },
  };

  it('agrees when every compared field matches and ignores fields outside the comparator', () => {
    const r = compareDecisions(triage, { category: 'billing', priority: 'high', reply: 'Hi' }, { category: 'billing', priority: 'high', reply: 'Different' });
    expect(r).toEqual({ agree: true, fields: { category: true, priority: true } });
  });

  it('disagrees when one field differs and says which', () => {
    const r = compareDecisions(triage, { category: 'billing', priority: 'high' }, { category: 'billing', priority: 'low' });
    expect(r).toEqual({ agree: false, fields: { category: true, priority: false } });
  });

  it('treats a missing field on one side as disagreement, on both as agreement', () => {
    expect(fieldMatches({ match: 'exact', caseInsensitive: false }, undefined, 'x')).toBe(false);
    expect(fieldMatches({ match: 'exact', caseInsensitive: false }, null, '')).toBe(true);
  });

  it('compares exact strings case-insensitively only when asked', () => {
    expect(fieldMatches({ match: 'exact', caseInsensitive: true }, 'INV-7 ', 'inv-7')).toBe(true);
    expect(fieldMatches({ match: 'exact', caseInsensitive: false }, 'INV-7', 'inv-7')).toBe(false);
  });

  it('compares amounts within absolute or relative tolerance', () => {
    const rule = { match: 'number' as const, absTolerance: 0.01, relTolerance: 0.005 };
    expect(fieldMatches(rule, 100.0, 100.01)).toBe(true);
    expect(fieldMatches(rule, 1000, 1004.9)).toBe(true); // 0.5 % of 1004.9 ≈ 5.02
    expect(fieldMatches(rule, 1000, 1006)).toBe(false);
    expect(fieldMatches(rule, '12.50', 12.5)).toBe(true);
    expect(fieldMatches(rule, 'twelve', 12)).toBe(false);
    expect(fieldMatches({ match: 'number', absTolerance: 0, relTolerance: 0 }, 0.1 + 0.2, 0.3)).toBe(true);
  });

  it('compares dates by day with a tolerance', () => {
    expect(fieldMatches({ match: 'date', toleranceDays: 0 }, '2026-03-01', '2026-03-01T10:00:00Z')).toBe(true);
    expect(fieldMatches({ match: 'date', toleranceDays: 1 }, '2026-02-28', '2026-03-01')).toBe(true);
    expect(fieldMatches({ match: 'date', toleranceDays: 0 }, '2026-02-28', '2026-03-01')).toBe(false);
    expect(fieldMatches({ match: 'date', toleranceDays: 5 }, 'soon', '2026-03-01')).toBe(false);
  });

  it('normalises free text: case, punctuation, spacing', () => {
    expect(fieldMatches({ match: 'text' }, 'ACME  Corp.', 'acme corp')).toBe(true);
    expect(fieldMatches({ match: 'text' }, 'ACME Corp', 'ACME Ltd')).toBe(false);
  });

  it('compares sets regardless of order', () => {
    expect(fieldMatches({ match: 'set', caseInsensitive: true }, ['A', 'b'], ['B', 'a'])).toBe(true);
    expect(fieldMatches({ match: 'set', caseInsensitive: false }, ['a'], ['a', 'b'])).toBe(false);
  });

  it('gives the label of a categorical field', () => {
    expect(labelOf({ category: 'billing' }, 'category')).toBe('billing');
    expect(labelOf({ category: null }, 'category')).toBe('(none)');
    expect(labelOf({ category: 'billing' }, undefined)).toBeNull();
  });
});
