import { independentProportionDifference, pairedProportionDifference } from './proportion-difference';

describe('independentProportionDifference (Newcombe 1998, method 10)', () => {
  // Newcombe RG (1998) "Interval estimation for the difference between independent proportions:
  // comparison of eleven methods", Statistics in Medicine 17:873–890, Table II, method 10.
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [5, 56, 0, 29, -0.0381, 0.1926],
  ])('%p/%p − %p/%p → [%p, %p]', (x1, n1, x2, n2, lower, upper) => {
    const result = independentProportionDifference(x1, n1, x2, n2)!;
    expect(result.difference).toBeCloseTo(x1 / n1 - x2 / n2, 12);
    expect(result.lower).toBeCloseTo(lower, 4);
    expect(result.upper).toBeCloseTo(upper, 4);
  });

  it('is null when a group is empty and symmetric when the groups swap', () => {
    expect(independentProportionDifference(1, 2, 0, 0)).toBeNull();
    const forward = independentProportionDifference(30, 40, 20, 35)!;
    const backward = independentProportionDifference(20, 35, 30, 40)!;
    expect(backward.lower).toBeCloseTo(-forward.upper, 12);
    expect(backward.upper).toBeCloseTo(-forward.lower, 12);
  });
});

describe('pairedProportionDifference (Newcombe 1998, paired method 10)', () => {
  it('reproduces the Cavo et al. (2012) example of Fagerland, Lydersen & Laake', () => {
    // Fagerland MW, Lydersen S, Laake P (2017) Statistical Analysis of Contingency Tables, ch. 8:
    // complete response before/after consolidation therapy, table [[59, 6], [16, 80]];
    // Newcombe square-and-add: estimate −0.0621 (95 % CI −0.1186 to −0.0046).
    const result = pairedProportionDifference({ bothRight: 59, onlyFirstRight: 6, onlySecondRight: 16, bothWrong: 80 })!;
    expect(result.difference).toBeCloseTo(-0.0621, 4);
    expect(result.lower).toBeCloseTo(-0.1186, 4);
    expect(result.upper).toBeCloseTo(-0.0046, 4);
    expect(result.method).toBe('newcombe-paired-score');
  });

  it('contains the estimate, widens with confidence and mirrors when the methods swap', () => {
    const counts = { bothRight: 40, onlyFirstRight: 9, onlySecondRight: 3, bothWrong: 8 };
    const at95 = pairedProportionDifference(counts)!;
    const at99 = pairedProportionDifference(counts, 0.99)!;
    expect(at95.lower).toBeLessThan(at95.difference);
    expect(at95.upper).toBeGreaterThan(at95.difference);
    expect(at99.lower).toBeLessThan(at95.lower);
    expect(at99.upper).toBeGreaterThan(at95.upper);
    const swapped = pairedProportionDifference({ ...counts, onlyFirstRight: 3, onlySecondRight: 9 })!;
    expect(swapped.lower).toBeCloseTo(-at95.upper, 12);
    expect(swapped.upper).toBeCloseTo(-at95.lower, 12);
  });

  it('is null for no items and a non-degenerate interval around 0 when nothing differs', () => {
    expect(pairedProportionDifference({ bothRight: 0, onlyFirstRight: 0, onlySecondRight: 0, bothWrong: 0 })).toBeNull();
    const same = pairedProportionDifference({ bothRight: 20, onlyFirstRight: 0, onlySecondRight: 0, bothWrong: 0 })!;
    expect(same.difference).toBe(0);
    expect(same.lower).toBeLessThan(0);
    expect(same.upper).toBeGreaterThan(0);
  });
});
