import { normalUpperTail, zForConfidence } from './normal';

/** One cell of a confusion matrix: how many items the AI labelled `ai` and the human `human`. */
export interface ConfusionCell {
  ai: string;
  human: string;
  n: number;
}

export interface CohensKappa {
  /** Cohen's κ = (pₒ − pₑ)/(1 − pₑ); null when undefined (no items, or pₑ = 1: both always say the same one label). */
  kappa: number | null;
  /** pₒ: share of items on the diagonal; null when n = 0. */
  observedAgreement: number | null;
  /** pₑ: agreement expected by chance from the two marginal distributions; null when n = 0. */
  expectedAgreement: number | null;
  n: number;
  /** Every label seen on either side, sorted by code unit (the order of `matrix`). */
  labels: string[];
  /** Dense counts: matrix[i][j] = items the AI labelled labels[i] and the human labels[j]. */
  matrix: number[][];
  /**
   * Large-sample standard error of κ (Fleiss, Cohen & Everitt 1969) and the interval κ ± z·SE,
   * clipped to [−1, 1]; null when κ is undefined. It is an asymptotic interval: with few items per
   * label it is too narrow (with perfect agreement it collapses to [1, 1]), so read it with n.
   */
  standardError: number | null;
  lower: number | null;
  upper: number | null;
  confidence: number;
  /** Standard error of κ under H0: κ = 0, its z statistic and two-sided p-value ("better than chance?"). */
  standardErrorNull: number | null;
  z: number | null;
  pValue: number | null;
}

/**
 * Cohen's kappa between the AI and the humans for a categorical decision.
 *
 * Raw agreement flatters a model on skewed label sets: if 90 % of tickets are "billing", always
 * answering "billing" agrees 90 % of the time. κ measures agreement beyond what the two label
 * distributions would produce by chance (Cohen 1960, Educational and Psychological Measurement
 * 20:37–46). Cells may be sparse, repeated (they are summed) or zero.
 */
export function cohensKappa(cells: readonly ConfusionCell[], confidence = 0.95): CohensKappa {
  for (const cell of cells) {
    if (!Number.isInteger(cell.n) || cell.n < 0) {
      throw new RangeError(`cohensKappa: cell (${cell.ai}, ${cell.human}) has n = ${cell.n}; counts are non-negative integers`);
    }
  }
  const z = zForConfidence(confidence);
  const labels = [...new Set(cells.flatMap((cell) => [cell.ai, cell.human]))].sort();
  const index = new Map(labels.map((label, i) => [label, i]));
  const k = labels.length;
  const matrix = labels.map(() => new Array<number>(k).fill(0));
  for (const cell of cells) matrix[index.get(cell.ai)!][index.get(cell.human)!] += cell.n;

  const n = matrix.reduce((sum, row) => sum + row.reduce((s, v) => s + v, 0), 0);
  const undefinedResult = {
    n,
    labels,
    matrix,
    kappa: null,
    standardError: null,
    lower: null,
    upper: null,
    confidence,
    standardErrorNull: null,
    z: null,
    pValue: null,
  };
  if (n === 0) return { ...undefinedResult, observedAgreement: null, expectedAgreement: null };

  // Proportions, with the AI's marginal over rows and the human's over columns.
  const p = matrix.map((row) => row.map((v) => v / n));
  const aiShare = p.map((row) => row.reduce((s, v) => s + v, 0));
  const humanShare = labels.map((_, j) => p.reduce((s, row) => s + row[j], 0));
  const observed = labels.reduce((s, _, i) => s + p[i][i], 0);
  const expected = labels.reduce((s, _, i) => s + aiShare[i] * humanShare[i], 0);
  if (expected >= 1) return { ...undefinedResult, observedAgreement: observed, expectedAgreement: expected };

  const kappa = (observed - expected) / (1 - expected);

  // Fleiss, Cohen & Everitt (1969), "Large sample standard errors of kappa and weighted kappa",
  // Psychological Bulletin 72:323–327, eq. for the non-null variance of κ̂:
  //   Var = [Σᵢ pᵢᵢ(1 − (pᵢ. + p.ᵢ)(1 − κ))² + (1 − κ)² Σᵢ≠ⱼ pᵢⱼ(p.ᵢ + pⱼ.)² − (κ − pₑ(1 − κ))²] / (n(1 − pₑ)²)
  let diagonalTerm = 0;
  let offDiagonalTerm = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      if (i === j) {
        diagonalTerm += p[i][i] * (1 - (aiShare[i] + humanShare[i]) * (1 - kappa)) ** 2;
      } else {
        offDiagonalTerm += p[i][j] * (humanShare[i] + aiShare[j]) ** 2;
      }
    }
  }
  const variance = (diagonalTerm + (1 - kappa) ** 2 * offDiagonalTerm - (kappa - expected * (1 - kappa)) ** 2) / (n * (1 - expected) ** 2);
  const standardError = Math.sqrt(Math.max(0, variance));

  // Variance under H0: κ = 0 (same paper): [pₑ + pₑ² − Σᵢ pᵢ.p.ᵢ(pᵢ. + p.ᵢ)] / (n(1 − pₑ)²).
  const nullSum = labels.reduce((s, _, i) => s + aiShare[i] * humanShare[i] * (aiShare[i] + humanShare[i]), 0);
  const standardErrorNull = Math.sqrt(Math.max(0, (expected + expected * expected - nullSum) / (n * (1 - expected) ** 2)));
  const zNull = standardErrorNull > 0 ? kappa / standardErrorNull : null;

  return {
    n,
    labels,
    matrix,
    kappa,
    observedAgreement: observed,
    expectedAgreement: expected,
    standardError,
    lower: Math.max(-1, kappa - z * standardError),
    upper: Math.min(1, kappa + z * standardError),
    confidence,
    standardErrorNull,
    z: zNull,
    pValue: zNull === null ? null : Math.min(1, 2 * normalUpperTail(Math.abs(zNull))),
  };
}

/** Builds sparse confusion cells from individual (ai, human) label pairs. */
export function confusionCells(pairs: Iterable<{ ai: string; human: string }>): ConfusionCell[] {
  const counts = new Map<string, ConfusionCell>();
  for (const { ai, human } of pairs) {
    const key = JSON.stringify([ai, human]);
    const cell = counts.get(key);
    if (cell) cell.n += 1;
    else counts.set(key, { ai, human, n: 1 });
  }
  return [...counts.values()];
}
