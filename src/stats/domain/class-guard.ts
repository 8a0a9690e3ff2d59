import { GuardBatch, GuardParams, GuardState, GuardUpdate, initialGuardState, updateGuard } from './regression-guard';

/*
 * A critical class's own guard. A workflow may name answers whose mistakes cost more (an `urgent`
 * priority, a `fraud` queue). When such a class is rare, its collapse hardly moves overall agreement
 * — a 5 % class falling from 0.9 to 0.5 recall costs 2 points, inside the overall guard's noise —
 * so the class gets the regression guard of its own, twice:
 *   recall:    of the blind labels whose person chose the class, did the AI choose it too?
 *   precision: of the blind labels where the AI chose the class, did the person?
 * Each is the project's CUSUM (regression-guard.ts) over its own Bernoulli stream, armed on its own
 * baseline; a breach of either is the class's breach. Both streams are read off the confusion
 * counts (person × AI) of a batch of blind labels.
 */

export interface ClassGuardParams {
  recall: GuardParams;
  precision: GuardParams;
}

export interface ClassGuardState {
  recall: GuardState;
  precision: GuardState;
}

export interface ClassGuardUpdate {
  state: ClassGuardState;
  /** Which guard breached (recall first when both do), or null. */
  breached: 'recall' | 'precision' | null;
  recall: GuardUpdate;
  precision: GuardUpdate;
}

export function initialClassGuardState(): ClassGuardState {
  return { recall: initialGuardState(), precision: initialGuardState() };
}

/** The recall and precision batches of class `cls` in a confusion table: confusion[person][ai] blind labels. */
export function classBatches(confusion: readonly (readonly number[])[], cls: number): { recall: GuardBatch; precision: GuardBatch } {
  const k = confusion.length;
  if (!(Number.isInteger(cls) && cls >= 0 && cls < k)) throw new RangeError(`classBatches: class ${cls} is not among ${k} classes`);
  if (confusion.some((row) => row.length !== k)) throw new RangeError('classBatches: the confusion table must be square');
  const hit = confusion[cls][cls];
  const personChose = confusion[cls].reduce((s, v) => s + v, 0);
  const aiChose = confusion.reduce((s, row) => s + row[cls], 0);
  return { recall: { n: personChose, agree: hit }, precision: { n: aiChose, agree: hit } };
}

/** Adds one batch of blind labels (as a confusion table) to the class's two guards. */
export function updateClassGuard(state: ClassGuardState, confusion: readonly (readonly number[])[], cls: number, params: ClassGuardParams): ClassGuardUpdate {
  const b = classBatches(confusion, cls);
  const recall = updateGuard(state.recall, b.recall, params.recall);
  const precision = updateGuard(state.precision, b.precision, params.precision);
  return {
    state: { recall: recall.state, precision: precision.state },
    breached: recall.breached ? 'recall' : precision.breached ? 'precision' : null,
    recall,
    precision,
  };
}
