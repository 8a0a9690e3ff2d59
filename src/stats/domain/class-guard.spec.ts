import { classBatches, initialClassGuardState, updateClassGuard } from './class-guard';
import { seededRandom } from './random';
import { defaultGuardParams, guardThresholdFor } from './regression-guard';

describe("a class's recall and precision from a confusion table", () => {
  // Rows: what the person chose; columns: what the AI chose. Class 2 ("urgent"):
  // recall = 18 / (2 + 0 + 18) = 0.9, precision = 18 / (1 + 3 + 18) ≈ 0.818.
  const confusion = [
    [50, 4, 1],
    [5, 40, 3],
    [2, 0, 18],
  ];

  it('reads the person-chose row for recall and the AI-chose column for precision', () => {
    expect(classBatches(confusion, 2)).toEqual({ recall: { n: 20, agree: 18 }, precision: { n: 22, agree: 18 } });
    expect(classBatches(confusion, 0)).toEqual({ recall: { n: 55, agree: 50 }, precision: { n: 57, agree: 50 } });
  });

  it('refuses a class outside the table or a table that is not square', () => {
    expect(() => classBatches(confusion, 3)).toThrow(RangeError);
    expect(() => classBatches([[1, 2]], 0)).toThrow(RangeError);
  });
});

describe("a critical class's guard", () => {
  const p0 = 0.9;
  const params = {
    recall: { p0, p1: 0.7, h: guardThresholdFor(p0, 0.7, 500_000) },
    precision: defaultGuardParams(0.8, { drop: 0.2 }),
  };
  /** Blind labels of a two-class field where class 1 has 5 % of the items and the given recall. */
  const batch = (random: ReturnType<typeof seededRandom>, n: number, recall: number) => {
    const t = [
      [0, 0],
      [0, 0],
    ];
    for (let i = 0; i < n; i++) {
      const truth = random.next() < 0.05 ? 1 : 0;
      const hit = random.next() < (truth === 1 ? recall : 0.99);
      t[truth][hit ? truth : 1 - truth]++;
    }
    return t;
  };

  it('stays quiet while the class holds, and trips on recall when it collapses to 0.5', () => {
    const random = seededRandom(8);
    let state = initialClassGuardState();
    for (let look = 0; look < 250; look++) {
      const u = updateClassGuard(state, batch(random, 40, 0.9), 1, params);
      expect(u.breached).toBeNull();
      state = u.state;
    }
    let caughtAfter: number | null = null;
    for (let look = 1; look <= 250 && caughtAfter === null; look++) {
      const u = updateClassGuard(state, batch(random, 40, 0.5), 1, params);
      state = u.state;
      if (u.breached) {
        expect(u.breached).toBe('recall');
        expect(u.recall.statistic).toBeGreaterThanOrEqual(params.recall.h);
        caughtAfter = look * 40;
      }
    }
    // ~2 class labels per look: the recall CUSUM gains ~0.42 nats per class label at 0.5.
    expect(caughtAfter).not.toBeNull();
    expect(caughtAfter!).toBeLessThan(2000);
  });
});
