import { mcnemarTest } from './mcnemar';

describe('mcnemarTest against published examples', () => {
  it('Fagerland, Lydersen & Laake (2013), Bentur et al. data: b = 1, c = 7', () => {
    // BMC Medical Research Methodology 13:91, airway hyper-responsiveness before/after stem cell
    // transplantation (n = 21): asymptotic McNemar P = 0.034, exact conditional P = 0.070,
    // mid-p = 0.039. Exactly: exact = 2·(1 + 8)/256, mid-p = 2·(9 − 8/2)/256.
    const result = mcnemarTest({ bothRight: 1, onlyARight: 1, onlyBRight: 7, bothWrong: 12 });
    expect(result.exactPValue).toBeCloseTo(18 / 256, 14);
    expect(result.exactPValue).toBeCloseTo(0.07, 3);
    expect(result.midPValue).toBeCloseTo(10 / 256, 14);
    expect(result.midPValue).toBeCloseTo(0.039, 3);
    expect(result.chiSquare).toBeCloseTo(4.5, 12);
    expect(result.chiSquarePValue).toBeCloseTo(0.034, 3);
    // Edwards' correction: (|1 − 7| − 1)²/8 = 3.125, P = 0.0771.
    expect(result.chiSquareCorrected).toBeCloseTo(3.125, 12);
    expect(result.chiSquareCorrectedPValue).toBeCloseTo(0.0771, 4);
    expect(result.verdict).toBe('no significant difference');
  });

  it('Fagerland, Lydersen & Laake, Cavo et al. data: b = 6, c = 16', () => {
    // Complete response before/after consolidation therapy (n = 161), as worked in Fagerland,
    // Lydersen & Laake (2014, Statistics in Medicine 33:2850–2875, and their 2017 book, ch. 8):
    // asymptotic McNemar P = 0.033, exact conditional P = 0.052, mid-p P = 0.035; Newcombe
    // square-and-add interval for the difference −0.0621 (−0.1186 to −0.0046).
    const result = mcnemarTest({ bothRight: 59, onlyARight: 6, onlyBRight: 16, bothWrong: 80 });
    expect(result.chiSquarePValue).toBeCloseTo(0.033, 3);
    expect(result.exactPValue).toBeCloseTo(0.052, 3);
    expect(result.midPValue).toBeCloseTo(0.035, 3);
    expect(result.difference!.difference).toBeCloseTo(-0.0621, 4);
    expect(result.difference!.lower).toBeCloseTo(-0.1186, 4);
    expect(result.difference!.upper).toBeCloseTo(-0.0046, 4);
    // The exact test, deliberately conservative, does not call it at 5 % although the interval excludes 0.
    expect(result.verdict).toBe('no significant difference');
    expect(mcnemarTest({ bothRight: 59, onlyARight: 6, onlyBRight: 16, bothWrong: 80 }, 0.1).verdict).toBe('B better');
  });

  it('Wikipedia "McNemar\'s test" example: b = 121, c = 59 → χ² = 21.35', () => {
    const result = mcnemarTest({ bothRight: 101, onlyARight: 121, onlyBRight: 59, bothWrong: 33 });
    expect(result.chiSquare).toBeCloseTo(21.3556, 4);
    expect(result.chiSquarePValue!).toBeLessThan(0.001);
    expect(result.chiSquareCorrected).toBeCloseTo(3721 / 180, 12);
    expect(result.verdict).toBe('A better');
  });

  it('Agresti, An Introduction to Categorical Data Analysis, presidential approval: z² = 17.36', () => {
    // 1600 people asked twice: 794 approve/approve, 150 approve/disapprove, 86 disapprove/approve,
    // 570 disapprove/disapprove; McNemar z = 4.17, difference of proportions 0.04.
    const result = mcnemarTest({ bothRight: 794, onlyARight: 150, onlyBRight: 86, bothWrong: 570 });
    expect(result.chiSquare).toBeCloseTo(17.36, 2);
    expect(result.difference!.difference).toBeCloseTo(0.04, 12);
    expect(result.accuracyA).toBeCloseTo(0.59, 12);
    expect(result.accuracyB).toBeCloseTo(0.55, 12);
  });
});

describe('mcnemarTest properties', () => {
  it('has nothing to say without discordant items', () => {
    const result = mcnemarTest({ bothRight: 30, onlyARight: 0, onlyBRight: 0, bothWrong: 4 });
    expect(result).toMatchObject({
      discordant: 0,
      exactPValue: 1,
      midPValue: 1,
      chiSquare: null,
      chiSquarePValue: null,
      chiSquareCorrected: null,
      verdict: 'no significant difference',
    });
    expect(result.difference!.difference).toBe(0);
  });

  it('reports null accuracies and difference with no items at all', () => {
    const result = mcnemarTest({ bothRight: 0, onlyARight: 0, onlyBRight: 0, bothWrong: 0 });
    expect(result.accuracyA).toBeNull();
    expect(result.difference).toBeNull();
    expect(result.verdict).toBe('no significant difference');
  });

  it('gives p = 1 when b = c and is symmetric in A and B', () => {
    expect(mcnemarTest({ bothRight: 5, onlyARight: 9, onlyBRight: 9, bothWrong: 5 }).exactPValue).toBe(1);
    expect(mcnemarTest({ bothRight: 5, onlyARight: 9, onlyBRight: 9, bothWrong: 5 }).midPValue).toBeCloseTo(1, 14);
    const ab = mcnemarTest({ bothRight: 50, onlyARight: 20, onlyBRight: 6, bothWrong: 10 });
    const ba = mcnemarTest({ bothRight: 50, onlyARight: 6, onlyBRight: 20, bothWrong: 10 });
    expect(ab.exactPValue).toBeCloseTo(ba.exactPValue, 15);
    expect(ab.verdict).toBe('A better');
    expect(ba.verdict).toBe('B better');
  });

  it('mid-p is never above the exact p-value; p falls as the split gets more lopsided', () => {
    let previous = 1.01;
    for (let b = 10; b <= 20; b++) {
      const result = mcnemarTest({ bothRight: 0, onlyARight: b, onlyBRight: 20 - b, bothWrong: 0 });
      expect(result.midPValue).toBeLessThanOrEqual(result.exactPValue);
      expect(result.exactPValue).toBeLessThan(previous);
      previous = result.exactPValue;
    }
  });

  it('refuses invalid input', () => {
    expect(() => mcnemarTest({ bothRight: -1, onlyARight: 0, onlyBRight: 0, bothWrong: 0 })).toThrow(RangeError);
    expect(() => mcnemarTest({ bothRight: 1, onlyARight: 0, onlyBRight: 0, bothWrong: 0 }, 0)).toThrow(RangeError);
  });
});
