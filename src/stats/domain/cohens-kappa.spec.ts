import { cohensKappa, confusionCells, ConfusionCell } from './cohens-kappa';

/** Cells from a dense table given row by row (rows: AI, columns: human) over labels a, b, c, … */
function cellsFrom(table: number[][]): ConfusionCell[] {
  const labels = table.map((_, i) => String.fromCharCode(97 + i));
  return table.flatMap((row, i) => row.map((n, j) => ({ ai: labels[i], human: labels[j], n })));
}

describe('cohensKappa against published examples', () => {
  it('Wikipedia "Cohen\'s kappa", simple worked example: 20/5/10/15 → κ = 0.4', () => {
    // Yes/yes 20, A yes–B no 5, A no–B yes 10, no/no 15: pₒ = 0.7, pₑ = 0.5, κ = 0.4.
    const result = cohensKappa([
      { ai: 'yes', human: 'yes', n: 20 },
      { ai: 'yes', human: 'no', n: 5 },
      { ai: 'no', human: 'yes', n: 10 },
      { ai: 'no', human: 'no', n: 15 },
    ]);
    expect(result.observedAgreement).toBeCloseTo(0.7, 12);
    expect(result.expectedAgreement).toBeCloseTo(0.5, 12);
    expect(result.kappa).toBeCloseTo(0.4, 12);
    expect(result.n).toBe(50);
    expect(result.labels).toEqual(['no', 'yes']);
    expect(result.matrix).toEqual([
      [15, 10],
      [5, 20],
    ]);
  });

  it('Wikipedia, "same percentages but different numbers": κ = 0.1304 and 0.2593', () => {
    // Both tables have pₒ = 0.60; the marginals differ, and so does κ.
    const first = cohensKappa(
      cellsFrom([
        [45, 15],
        [25, 15],
      ]),
    );
    const second = cohensKappa(
      cellsFrom([
        [25, 35],
        [5, 35],
      ]),
    );
    expect(first.observedAgreement).toBeCloseTo(0.6, 12);
    expect(second.observedAgreement).toBeCloseTo(0.6, 12);
    expect(first.kappa).toBeCloseTo(0.1304, 4);
    expect(second.kappa).toBeCloseTo(0.2593, 4);
  });

  it('SAS PROC FREQ (AGREE) output for [[0,4,1],[0,8,0],[0,1,5]] (as reproduced in statsmodels)', () => {
    // Simple kappa 0.4842, ASE 0.1380, 95 % limits 0.2137–0.7547; ASE under H0 0.1484, Z 3.2626,
    // two-sided Pr > |Z| 0.0011. SAS's ASE is the Fleiss–Cohen–Everitt (1969) large-sample SE.
    const result = cohensKappa(
      cellsFrom([
        [0, 4, 1],
        [0, 8, 0],
        [0, 1, 5],
      ]),
    );
    expect(result.kappa).toBeCloseTo(0.4842, 4);
    expect(result.standardError).toBeCloseTo(0.138, 4);
    expect(result.lower).toBeCloseTo(0.2137, 4);
    expect(result.upper).toBeCloseTo(0.7547, 4);
    expect(result.standardErrorNull).toBeCloseTo(0.1484, 4);
    expect(result.z).toBeCloseTo(3.2626, 4);
    expect(result.pValue).toBeCloseTo(0.0011, 4);
  });

  it("SAS/STAT User's Guide, PROC FREQ agreement study of two dermatologists (4 ratings)", () => {
    // Simple kappa 0.3449, ASE 0.0724, 95 % limits 0.2030–0.4868.
    const result = cohensKappa(
      cellsFrom([
        [10, 4, 1, 0],
        [5, 10, 12, 2],
        [2, 4, 12, 5],
        [0, 2, 6, 13],
      ]),
    );
    expect(result.kappa).toBeCloseTo(0.3449, 4);
    expect(result.standardError).toBeCloseTo(0.0724, 4);
    expect(result.lower).toBeCloseTo(0.203, 4);
    expect(result.upper).toBeCloseTo(0.4868, 4);
  });
});

describe('cohensKappa edge cases and properties', () => {
  it('is undefined (null) with no items', () => {
    const result = cohensKappa([]);
    expect(result).toMatchObject({ n: 0, kappa: null, observedAgreement: null, expectedAgreement: null, standardError: null });
    expect(cohensKappa([{ ai: 'a', human: 'b', n: 0 }]).kappa).toBeNull();
  });

  it('is undefined when both sides only ever use one label (pₑ = 1), although they agree', () => {
    const result = cohensKappa([{ ai: 'billing', human: 'billing', n: 40 }]);
    expect(result.observedAgreement).toBe(1);
    expect(result.expectedAgreement).toBe(1);
    expect(result.kappa).toBeNull();
  });

  it('is 1 when all agree over several labels, and negative when none agree', () => {
    expect(
      cohensKappa(
        cellsFrom([
          [10, 0],
          [0, 30],
        ]),
      ).kappa,
    ).toBeCloseTo(1, 12);
    const none = cohensKappa(
      cellsFrom([
        [0, 10],
        [30, 0],
      ]),
    );
    expect(none.observedAgreement).toBe(0);
    expect(none.kappa!).toBeLessThan(0);
    // Perfect disagreement with balanced marginals reaches the minimum −1.
    expect(
      cohensKappa(
        cellsFrom([
          [0, 20],
          [20, 0],
        ]),
      ).kappa,
    ).toBeCloseTo(-1, 12);
  });

  it('sums repeated cells, keeps zero cells and labels seen on one side only', () => {
    const result = cohensKappa([
      { ai: 'b', human: 'a', n: 2 },
      { ai: 'b', human: 'a', n: 3 },
      { ai: 'a', human: 'a', n: 7 },
      { ai: 'c', human: 'c', n: 0 },
      { ai: 'a', human: 'd', n: 1 },
    ]);
    expect(result.labels).toEqual(['a', 'b', 'c', 'd']);
    expect(result.matrix).toEqual([
      [7, 0, 0, 1],
      [5, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(result.n).toBe(13);
  });

  it('does not depend on the order of the cells', () => {
    const cells = cellsFrom([
      [12, 3, 1],
      [2, 9, 4],
      [0, 5, 14],
    ]);
    expect(cohensKappa([...cells].reverse())).toEqual(cohensKappa(cells));
  });

  it('rises when a disagreement becomes an agreement', () => {
    const before = cohensKappa(
      cellsFrom([
        [20, 6],
        [4, 20],
      ]),
    ).kappa!;
    const after = cohensKappa(
      cellsFrom([
        [21, 5],
        [4, 20],
      ]),
    ).kappa!;
    expect(after).toBeGreaterThan(before);
  });

  it('refuses negative or fractional counts', () => {
    expect(() => cohensKappa([{ ai: 'a', human: 'a', n: -1 }])).toThrow(RangeError);
    expect(() => cohensKappa([{ ai: 'a', human: 'a', n: 0.5 }])).toThrow(RangeError);
  });
});

describe('confusionCells', () => {
  it('counts (ai, human) pairs into sparse cells', () => {
    const cells = confusionCells([
      { ai: 'x', human: 'y' },
      { ai: 'x', human: 'y' },
      { ai: 'y', human: 'y' },
    ]);
    expect(cells).toEqual([
      { ai: 'x', human: 'y', n: 2 },
      { ai: 'y', human: 'y', n: 1 },
    ]);
  });
});
