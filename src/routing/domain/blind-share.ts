/**
 * The blind share in force for a segment: the workflow's base share (auditShare at
 * confidence-routed, supervisedBlindShare at supervised), multiplied by the factor a drift alarm set
 * (rollout/domain/drift-watch.ts) up to the cap — never below the base share.
 */
export function raisedShare(base: number, factor: number | null, cap: number): number {
  return factor === null ? base : Math.max(base, Math.min(cap, base * factor));
}
