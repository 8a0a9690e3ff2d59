/*
 * Critical classes: answers whose mistakes cost more (an `urgent` priority, a `fraud` queue). For
 * each comparison the pairing records, per critical class, whether the person chose it and whether
 * the AI did; the evidence model adds these up for blind labels only, per arm and AI-decision minute
 * (evidence.ts), and the class's own guard (stats/domain/class-guard.ts) watches its recall (of the
 * items the person put in the class, how many the AI did) and precision (the reverse).
 */

export interface CriticalClass {
  field: string;
  value: string | number | boolean;
}

/** The class's name in evidence, audit entries and alerts: `priority=urgent`. */
export function criticalClassName(c: CriticalClass): string {
  return `${c.field}=${String(c.value)}`;
}

/** Per class: [person chose it, AI chose it] as 0/1; classes neither chose are left out. */
export type ClassFlags = Record<string, [number, number]>;

/** Blind labels per class: [person chose it, AI chose it, both did]. */
export type ClassCounts = Record<string, [number, number, number]>;

function chose(decision: Record<string, unknown> | null | undefined, c: CriticalClass): boolean {
  const v = decision?.[c.field];
  return v !== undefined && v !== null && v === c.value;
}

/** Which critical classes the person and the AI chose on one item. */
export function classFlags(classes: readonly CriticalClass[], ai: Record<string, unknown> | null, human: Record<string, unknown> | null): ClassFlags {
  const out: ClassFlags = {};
  for (const c of classes) {
    const h = chose(human, c) ? 1 : 0;
    const a = chose(ai, c) ? 1 : 0;
    if (h || a) out[criticalClassName(c)] = [h, a];
  }
  return out;
}

/** Adds one label's flags to running counts (in place). */
export function addClassFlags(counts: ClassCounts, flags: ClassFlags | undefined): void {
  if (!flags) return;
  for (const [name, [h, a]] of Object.entries(flags)) {
    const c = counts[name] ?? (counts[name] = [0, 0, 0]);
    c[0] += h;
    c[1] += a;
    c[2] += h && a ? 1 : 0;
  }
}

/** Counts since a watermark (never negative); a class absent from either side counts zero there. */
export function classCountsSince(totals: ClassCounts, base: ClassCounts | null | undefined): ClassCounts {
  const out: ClassCounts = {};
  for (const [name, t] of Object.entries(totals)) {
    const b = base?.[name] ?? [0, 0, 0];
    out[name] = [Math.max(0, t[0] - b[0]), Math.max(0, t[1] - b[1]), Math.max(0, t[2] - b[2])];
  }
  return out;
}

/** The recall and precision streams of one class's counts. */
export function recallAndPrecision(c: [number, number, number] | undefined): { recall: { n: number; agree: number }; precision: { n: number; agree: number } } {
  const [human, ai, both] = c ?? [0, 0, 0];
  return { recall: { n: human, agree: both }, precision: { n: ai, agree: both } };
}
