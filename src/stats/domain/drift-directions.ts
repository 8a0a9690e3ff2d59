import type { DriftDirection } from './drift-monitor';

/*
 * The directions a drift monitor watches (drift-monitor.ts): sets of cells whose joint share may
 * rise. Every direction costs a little evidence (the mixture's weight is split among them), so a
 * monitor watches the shifts that mean something for its signal, not every subset:
 *  - ordered cells (confidence bins, latency buckets): the mass below or above a cut, cuts placed at
 *    shares of the reference (its lowest 5 %, 10 %, … of confidence);
 *  - categories (answers on the label field, valid/invalid): one category's share rising or falling;
 *  - the AI's decision, confidence bin × answer: low confidence on one answer — what a model drifting
 *    into unfamiliar inputs shows first — beside the two marginal families.
 */

/** Shares of the reference below (or above) which the ordered directions cut. */
export const DEFAULT_CUT_SHARES: readonly number[] = [0.05, 0.1, 0.2, 0.4];

/**
 * Cuts of ordered cells: for each share s, the smallest j whose cells 0 … j − 1 hold at least s of
 * the reference. Cuts that would take every cell, or none, are left out; equal cuts are kept once.
 */
export function referenceCuts(reference: readonly number[], shares: readonly number[] = DEFAULT_CUT_SHARES): number[] {
  const total = reference.reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  const cuts = new Set<number>();
  for (const s of shares) {
    let below = 0;
    for (let j = 1; j < reference.length; j++) {
      below += reference[j - 1];
      if (below / total >= s) {
        cuts.add(j);
        break;
      }
    }
  }
  return [...cuts].sort((a, b) => a - b);
}

/** The mass below each cut rising ("confidence < 0.7"), for cells ordered from low to high. */
export function belowDirections(cuts: readonly number[], label: (cut: number) => string): DriftDirection[] {
  return cuts.map((cut) => ({ name: label(cut), cells: range(0, cut) }));
}

/** The mass at or above each cut rising ("latency ≥ 500 ms"), of `cellCount` ordered cells. */
export function aboveDirections(cuts: readonly number[], cellCount: number, label: (cut: number) => string): DriftDirection[] {
  return cuts.map((cut) => ({ name: label(cut), cells: range(cut, cellCount) }));
}

/** Each category's share rising, and (with `falling`) each one's share falling — the others' rising. */
export function categoryDirections(names: readonly string[], options: { falling?: boolean } = {}): DriftDirection[] {
  const out: DriftDirection[] = names.map((name, i) => ({ name, cells: [i] }));
  if (options.falling) names.forEach((name, i) => out.push({ name: `not ${name}`, cells: range(0, names.length).filter((c) => c !== i) }));
  return out;
}

/** Cells of a decision: confidence bin × answer, indexed bin · answers + answer. */
export interface DecisionCells {
  bins: number;
  answers: readonly string[];
  names: string[];
}

export function decisionCells(bins: number, answers: readonly string[]): DecisionCells {
  if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`decisionCells: bins must be an integer ≥ 2, got ${bins}`);
  if (answers.length < 1) throw new RangeError('decisionCells: at least one answer is needed');
  const names: string[] = [];
  for (let b = 0; b < bins; b++) for (const a of answers) names.push(`confidence ${edge(b, bins)}–${edge(b + 1, bins)} · ${a}`);
  return { bins, answers, names };
}

/** The cell of a decision whose confidence fell in `bin` (see confidenceBinIndex) and whose answer is `answer`. */
export function decisionCell(cells: DecisionCells, bin: number, answer: number): number {
  return bin * cells.answers.length + answer;
}

/** Items per confidence bin of decision counts (the confidence marginal). */
export function confidenceMarginal(cells: DecisionCells, counts: readonly number[]): number[] {
  const a = cells.answers.length;
  return Array.from({ length: cells.bins }, (_, b) => counts.slice(b * a, b * a + a).reduce((s, v) => s + v, 0));
}

/**
 * The directions of a decision monitor: for each low-confidence cut, the mass below it on any answer
 * and on each answer; for each high cut, the mass above it; each answer's share rising and falling.
 */
export function decisionDirections(cells: DecisionCells, reference: readonly number[], shares: readonly number[] = DEFAULT_CUT_SHARES): DriftDirection[] {
  const a = cells.answers.length;
  const marginal = confidenceMarginal(cells, reference);
  const lowCuts = referenceCuts(marginal, shares);
  // The mirror cuts: the top 5 %, 10 %, … of the reference's confidence.
  const highCuts = referenceCuts([...marginal].reverse(), shares).map((c) => cells.bins - c);
  const binsBelow = (cut: number) => range(0, cut);
  const allAnswers = range(0, a);
  const cellsOf = (bins: number[], answers: number[]) => bins.flatMap((b) => answers.map((x) => b * a + x));
  const out: DriftDirection[] = [];
  for (const cut of lowCuts) {
    out.push({ name: `confidence < ${edge(cut, cells.bins)}`, cells: cellsOf(binsBelow(cut), allAnswers) });
    if (a > 1)
      cells.answers.forEach((answer, x) => out.push({ name: `confidence < ${edge(cut, cells.bins)} · ${answer}`, cells: cellsOf(binsBelow(cut), [x]) }));
  }
  for (const cut of highCuts) out.push({ name: `confidence ≥ ${edge(cut, cells.bins)}`, cells: cellsOf(range(cut, cells.bins), allAnswers) });
  if (a > 1) {
    const bins = range(0, cells.bins);
    for (const d of categoryDirections(cells.answers, { falling: true })) out.push({ name: `answer ${d.name}`, cells: cellsOf(bins, [...d.cells]) });
  }
  return out;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

function edge(index: number, bins: number): string {
  return String(Math.round((index / bins) * 1000) / 1000);
}
