import type { FieldMatch } from '../../workflows/domain/workflow-definition';

/**
 * Judges two decisions (AI vs human, or human vs human) under a workflow's comparator:
 * every configured field is compared by its rule; the decisions agree when all fields do.
 * Fields not in the comparator (a reply draft, say) never count.
 */
export interface ComparisonResult {
  agree: boolean;
  fields: Record<string, boolean>;
}

export function compareDecisions(fields: Record<string, FieldMatch>, a: Record<string, unknown>, b: Record<string, unknown>): ComparisonResult {
  const result: Record<string, boolean> = {};
  let agree = true;
  for (const [name, rule] of Object.entries(fields)) {
    const same = fieldMatches(rule, a[name], b[name]);
    result[name] = same;
    agree &&= same;
  }
  return { agree, fields: result };
}

export function fieldMatches(rule: FieldMatch, a: unknown, b: unknown): boolean {
  if (isMissing(a) || isMissing(b)) return isMissing(a) && isMissing(b);
  switch (rule.match) {
    case 'exact':
      return typeof a === 'string' && typeof b === 'string' && rule.caseInsensitive
        ? a.trim().toLowerCase() === b.trim().toLowerCase()
        : deepEqual(normalizeString(a), normalizeString(b));
    case 'text':
      return typeof a === 'string' && typeof b === 'string' && normalizeText(a) === normalizeText(b);
    case 'number': {
      const x = toNumber(a);
      const y = toNumber(b);
      if (x === null || y === null) return false;
      const diff = Math.abs(x - y);
      // A tiny epsilon so that 0.1 + 0.2 style representation noise never decides a comparison.
      const allowed = Math.max(rule.absTolerance, rule.relTolerance * Math.max(Math.abs(x), Math.abs(y))) + 1e-9;
      return diff <= allowed;
    }
    case 'date': {
      const x = toDay(a);
      const y = toDay(b);
      if (x === null || y === null) return false;
      return Math.abs(x - y) <= rule.toleranceDays;
    }
    case 'set': {
      if (!Array.isArray(a) || !Array.isArray(b)) return false;
      const norm = (v: unknown) => (typeof v === 'string' && rule.caseInsensitive ? v.trim().toLowerCase() : JSON.stringify(v));
      const sa = new Set(a.map(norm));
      const sb = new Set(b.map(norm));
      return sa.size === sb.size && [...sa].every((v) => sb.has(v));
    }
  }
}

/** The label of a categorical field for the confusion matrix, or null when it has none. */
export function labelOf(decision: Record<string, unknown> | null | undefined, field: string | undefined): string | null {
  if (!decision || !field) return null;
  const v = decision[field];
  if (v === null || v === undefined) return '(none)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function isMissing(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function normalizeString(v: unknown): unknown {
  return typeof v === 'string' ? v.trim() : v;
}

function normalizeText(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[.,;:!?'"()]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function toDay(v: unknown): number | null {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  const t = Date.parse(`${v.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(t) ? null : Math.round(t / 86_400_000);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
