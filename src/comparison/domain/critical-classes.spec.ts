import { addClassFlags, classCountsSince, classFlags, ClassCounts, criticalClassName, recallAndPrecision } from './critical-classes';

const URGENT = { field: 'priority', value: 'urgent' };
const FRAUD = { field: 'queue', value: 'fraud' };

describe('critical classes', () => {
  it('are named field=value', () => {
    expect(criticalClassName(URGENT)).toBe('priority=urgent');
    expect(criticalClassName({ field: 'flagged', value: true })).toBe('flagged=true');
  });

  it('flag which class the person and the AI chose, leaving out classes neither chose', () => {
    expect(classFlags([URGENT, FRAUD], { priority: 'urgent', queue: 'general' }, { priority: 'high', queue: 'general' })).toEqual({
      'priority=urgent': [0, 1],
    });
    expect(classFlags([URGENT, FRAUD], { priority: 'low' }, { priority: 'urgent', queue: 'fraud' })).toEqual({
      'priority=urgent': [1, 0],
      'queue=fraud': [1, 0],
    });
    expect(classFlags([URGENT], null, { priority: 'urgent' })).toEqual({ 'priority=urgent': [1, 0] });
    // Equal values only: a string "true" is not the boolean true.
    expect(classFlags([{ field: 'flagged', value: true }], { flagged: 'true' }, { flagged: true })).toEqual({ 'flagged=true': [1, 0] });
  });

  it('add up into recall and precision counts', () => {
    const counts: ClassCounts = {};
    addClassFlags(counts, { 'priority=urgent': [1, 1] });
    addClassFlags(counts, { 'priority=urgent': [1, 0] });
    addClassFlags(counts, { 'priority=urgent': [0, 1] });
    addClassFlags(counts, undefined);
    expect(counts).toEqual({ 'priority=urgent': [2, 2, 1] });
    expect(recallAndPrecision(counts['priority=urgent'])).toEqual({ recall: { n: 2, agree: 1 }, precision: { n: 2, agree: 1 } });
    expect(recallAndPrecision(undefined)).toEqual({ recall: { n: 0, agree: 0 }, precision: { n: 0, agree: 0 } });
  });

  it('count since a watermark, never below zero', () => {
    expect(classCountsSince({ a: [10, 8, 6], b: [1, 1, 1] }, { a: [4, 4, 3] })).toEqual({ a: [6, 4, 3], b: [1, 1, 1] });
    expect(classCountsSince({ a: [1, 1, 1] }, { a: [5, 5, 5] })).toEqual({ a: [0, 0, 0] });
  });
});
