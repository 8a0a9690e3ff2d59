import {
  aboveDirections,
  belowDirections,
  categoryDirections,
  confidenceMarginal,
  decisionCell,
  decisionCells,
  decisionDirections,
  referenceCuts,
} from './drift-directions';

describe('cuts of ordered cells at shares of the reference', () => {
  it('cuts where the reference below first reaches each share, once per cut', () => {
    // Shares 0.02, 0.04, 0.06, 0.18, 0.3, 0.4: below 2 → 6 %, below 3 → 12 %, below 4 → 30 %, below 5 → 60 %.
    expect(referenceCuts([2, 4, 6, 18, 30, 40], [0.05, 0.1, 0.2, 0.4])).toEqual([2, 3, 4, 5]);
    expect(referenceCuts([2, 4, 6, 18, 30, 40], [0.05, 0.06])).toEqual([2]);
  });

  it('never cuts off every cell, and has nothing to cut in an empty reference', () => {
    expect(referenceCuts([0, 0, 0, 100], [0.5])).toEqual([]);
    expect(referenceCuts([100, 0, 0, 0], [0.5])).toEqual([1]);
    expect(referenceCuts([0, 0, 0], [0.1])).toEqual([]);
  });

  it('names the mass below and above each cut', () => {
    expect(belowDirections([2], (c) => `< ${c}`)).toEqual([{ name: '< 2', cells: [0, 1] }]);
    expect(aboveDirections([2], 4, (c) => `≥ ${c}`)).toEqual([{ name: '≥ 2', cells: [2, 3] }]);
  });
});

describe('categories', () => {
  it('rise one at a time, and fall as the others rise', () => {
    expect(categoryDirections(['valid', 'invalid'])).toEqual([
      { name: 'valid', cells: [0] },
      { name: 'invalid', cells: [1] },
    ]);
    expect(categoryDirections(['x', 'y', 'z'], { falling: true }).slice(3)).toEqual([
      { name: 'not x', cells: [1, 2] },
      { name: 'not y', cells: [0, 2] },
      { name: 'not z', cells: [0, 1] },
    ]);
  });
});

describe('the decision monitor: confidence bin × answer', () => {
  const cells = decisionCells(4, ['yes', 'no']);

  it('indexes cells bin by bin, answers within a bin', () => {
    expect(cells.names).toHaveLength(8);
    expect(decisionCell(cells, 2, 1)).toBe(5);
    expect(cells.names[5]).toBe('confidence 0.5–0.75 · no');
    expect(confidenceMarginal(cells, [1, 2, 3, 4, 5, 6, 7, 8])).toEqual([3, 7, 11, 15]);
  });

  it('watches low confidence on any and on each answer, high confidence, and each answer rising and falling', () => {
    // Reference by bin: 5 %, 10 %, 25 %, 60 % → low cuts below bin 1 (5 %), 2 (15 %), 3 (40 %); high: the top bin.
    const reference = [3, 2, 6, 4, 15, 10, 40, 20];
    const d = decisionDirections(cells, reference, [0.05, 0.1, 0.2, 0.4]);
    expect(d.map((x) => x.name)).toEqual([
      'confidence < 0.25',
      'confidence < 0.25 · yes',
      'confidence < 0.25 · no',
      'confidence < 0.5',
      'confidence < 0.5 · yes',
      'confidence < 0.5 · no',
      'confidence < 0.75',
      'confidence < 0.75 · yes',
      'confidence < 0.75 · no',
      'confidence ≥ 0.75',
      'answer yes',
      'answer no',
      'answer not yes',
      'answer not no',
    ]);
    expect(d[4].cells).toEqual([0, 2]);
    expect(d[9].cells).toEqual([6, 7]);
    expect(d[11].cells).toEqual([1, 3, 5, 7]);
  });
});
