import { testRollout } from '../../../test/factories/segments';
import { armClassGuards, classGuardsNeedArming, CriticalClassConfig, earliestClassWindow, observeClassGuards } from './class-guards';

const URGENT: CriticalClassConfig = { field: 'priority', value: 'urgent', minDetectableDrop: 0.2, target: 0.8 };
const AT = new Date('2026-12-01T10:00:00Z');
const later = (minutes: number) => new Date(AT.getTime() + minutes * 60_000);

describe('critical-class guards', () => {
  it('are armed above shadow only, for the classes named and the stage the segment is at', () => {
    expect(classGuardsNeedArming('shadow', [URGENT], null)).toBe(false);
    expect(classGuardsNeedArming('supervised', [], null)).toBe(false);
    expect(classGuardsNeedArming('supervised', [URGENT], null)).toBe(true);
    const armed = armClassGuards([URGENT], 'supervised', { classes: [URGENT], stage: {}, baseline: {} }, testRollout.guard, AT);
    expect(classGuardsNeedArming('supervised', [URGENT], armed)).toBe(false);
    expect(classGuardsNeedArming('confidence-routed', [URGENT], armed)).toBe(true);
    expect(classGuardsNeedArming('supervised', [URGENT, { ...URGENT, value: 'high' }], armed)).toBe(true);
  });

  it('measure each stream’s baseline on the class’s blind labels, or defend the target with too few', () => {
    const measured = armClassGuards(
      [URGENT],
      'supervised',
      // 400 people chose urgent, the AI 380 times; the AI chose urgent 390 times.
      { classes: [URGENT], stage: { 'priority=urgent': [7, 6, 5] }, baseline: { 'priority=urgent': [400, 390, 380] } },
      testRollout.guard,
      AT,
    )['priority=urgent'];
    expect(measured.baseline.recall).toMatchObject({ source: 'measured', n: 400, agree: 380 });
    expect(measured.baseline.precision).toMatchObject({ source: 'measured', n: 390, agree: 380 });
    // Tuned to catch the class's own drop (0.2 here), not the overall guard's.
    expect(measured.params.recall.p0).toBeCloseTo(0.95, 6);
    expect(measured.params.recall.p1).toBeCloseTo(0.75, 6);
    // The watermark: the live arm's labels so far are not judged.
    expect(measured.totals).toEqual([7, 6, 5]);
    const few = armClassGuards([URGENT], 'supervised', { classes: [URGENT], stage: {}, baseline: { 'priority=urgent': [30, 30, 29] } }, testRollout.guard, AT)[
      'priority=urgent'
    ];
    expect(few.baseline.recall).toMatchObject({ source: 'target', rate: 0.8 });
    expect(few.totals).toEqual([0, 0, 0]);
  });

  it('stay quiet while the class is as good as its baseline, and breach on a collapse of its recall', () => {
    let entries = armClassGuards(
      [URGENT],
      'supervised',
      { classes: [URGENT], stage: {}, baseline: { 'priority=urgent': [2000, 1820, 1800] } },
      testRollout.guard,
      AT,
    );
    // 200 looks of 10 urgent items, 9 found, and 9 urgent answers all right: recall 0.9, precision 1.
    let totals: [number, number, number] = [0, 0, 0];
    for (let i = 1; i <= 200; i++) {
      totals = [totals[0] + 10, totals[1] + 9, totals[2] + 9];
      const look = observeClassGuards(entries, { 'priority=urgent': totals }, later(i));
      expect(look.breach).toBeNull();
      entries = look.entries;
    }
    expect(entries['priority=urgent'].totals).toEqual(totals);
    // Recall collapses to 0.3.
    let breach = null;
    for (let i = 201; i <= 400 && !breach; i++) {
      totals = [totals[0] + 10, totals[1] + 3, totals[2] + 3];
      const look = observeClassGuards(entries, { 'priority=urgent': totals }, later(i));
      breach = look.breach;
      entries = look.entries;
    }
    expect(breach).toMatchObject({ name: 'priority=urgent', stream: 'recall' });
    expect(breach!.update.recall.window.rate).toBeLessThan(0.5);
    expect(breach!.windowStartedAt.getTime()).toBeGreaterThanOrEqual(later(201).getTime());
    // A breached class starts again from where it breached.
    expect(entries['priority=urgent']).toMatchObject({ totals, windowStartedAt: null, state: { recall: { s: 0 }, precision: { s: 0 } } });
    expect(earliestClassWindow(entries)).toBeNull();
  });

  it('skip a look without new labels of the class, and open a window that the re-review list starts from', () => {
    const entries = armClassGuards([URGENT], 'supervised', { classes: [URGENT], stage: {}, baseline: {} }, testRollout.guard, AT);
    expect(observeClassGuards(entries, {}, later(1)).entries).toEqual(entries);
    const miss = observeClassGuards(entries, { 'priority=urgent': [3, 0, 0] }, later(2));
    expect(miss.breach).toBeNull();
    expect(miss.entries['priority=urgent'].windowStartedAt).toBe(later(2).toISOString());
    expect(earliestClassWindow(miss.entries)).toEqual(later(2));
    // The window stays where it opened while the statistic is above zero.
    const again = observeClassGuards(miss.entries, { 'priority=urgent': [4, 0, 0] }, later(3));
    expect(again.entries['priority=urgent'].windowStartedAt).toBe(later(2).toISOString());
  });
});
