import { distinctSegments, hasNewSegments, isFull, planSegments } from './segment-cap';

const cap = { maxSegments: 3, overflowSegment: 'other' };

describe('planSegments', () => {
  it('keeps known segments and admits new ones while there is room, in order of arrival', () => {
    const plan = planSegments(['a|x', 'b|x', 'a|x', 'c|x'], new Set(['a|x']), cap);
    expect(plan.admit).toEqual(['b|x', 'c|x']);
    expect(plan.pooled).toEqual([]);
    expect(plan.register).toEqual(['b|x', 'c|x']);
    expect(Object.fromEntries(plan.segmentOf)).toEqual({ 'a|x': 'a|x', 'b|x': 'b|x', 'c|x': 'c|x' });
  });

  it('pools the keys beyond the bound in the overflow segment', () => {
    const plan = planSegments(['d', 'e', 'a', 'f'], new Set(['a', 'b']), cap);
    expect(plan.admit).toEqual(['d']);
    expect(plan.pooled).toEqual(['e', 'f']);
    // The overflow segment is registered the first time something is pooled in it.
    expect(plan.register).toEqual(['d', 'other']);
    expect(plan.segmentOf.get('e')).toBe('other');
    expect(plan.segmentOf.get('f')).toBe('other');
    expect(plan.segmentOf.get('a')).toBe('a');
  });

  it('does not count the overflow segment towards the bound, and never admits it as new', () => {
    const plan = planSegments(['other', 'c', 'd'], new Set(['a', 'b', 'other']), cap);
    expect(plan.admit).toEqual(['c']);
    expect(plan.register).toEqual(['c']);
    expect(plan.segmentOf.get('other')).toBe('other');
    expect(plan.segmentOf.get('d')).toBe('other');
  });

  it('pools every new key once the bound is reached, and keeps the known ones', () => {
    const known = new Set(['a', 'b', 'c']);
    const keys = Array.from({ length: 1000 }, (_, i) => `v${i}`).concat(['b']);
    const plan = planSegments(keys, known, cap);
    expect(plan.admit).toEqual([]);
    expect(plan.pooled).toHaveLength(1000);
    expect(new Set(plan.segmentOf.values())).toEqual(new Set(['other', 'b']));
  });
});

describe('hasNewSegments', () => {
  it('is true only for a key that is neither known nor the overflow', () => {
    expect(hasNewSegments(['a', 'other'], new Set(['a']), cap)).toBe(false);
    expect(hasNewSegments(['a', 'z'], new Set(['a']), cap)).toBe(true);
  });
});

describe('isFull', () => {
  it('is true once the bound is reached and the overflow segment exists', () => {
    expect(isFull(new Set(['a', 'b', 'c']), cap)).toBe(false); // the overflow segment is not there yet
    expect(isFull(new Set(['a', 'b', 'c', 'other']), cap)).toBe(true);
    expect(isFull(new Set(['a', 'b', 'other']), cap)).toBe(false);
  });
});

describe('distinctSegments', () => {
  it('gives each workflow and segment of a batch once, in key order', () => {
    const items = [
      { workflow: 'triage', segment: 'email|eu', itemId: 'a' },
      { workflow: 'invoice', segment: 'de', itemId: 'b' },
      { workflow: 'triage', segment: 'chat|us', itemId: 'c' },
      { workflow: 'triage', segment: 'email|eu', itemId: 'd' },
    ];
    expect(distinctSegments(items)).toEqual([
      { workflow: 'invoice', segment: 'de' },
      { workflow: 'triage', segment: 'chat|us' },
      { workflow: 'triage', segment: 'email|eu' },
    ]);
  });

  it('keeps workflows apart when one name is a prefix of another', () => {
    expect(
      distinctSegments([
        { workflow: 'a', segment: 'bc' },
        { workflow: 'ab', segment: 'c' },
      ]),
    ).toEqual([
      { workflow: 'a', segment: 'bc' },
      { workflow: 'ab', segment: 'c' },
    ]);
  });

  it('gives nothing for an empty batch', () => {
    expect(distinctSegments([])).toEqual([]);
  });
});
