import { createHash } from 'node:crypto';

/**
 * Fills a prompt template. {{input}} is the whole (already redacted) input as JSON,
 * {{input.a.b}} one field of it, {{attributes}} / {{attributes.x}} likewise, {{segment}} the segment.
 * Unknown placeholders are left visible so a broken template is noticed in review, not hidden.
 */
export interface PromptContext {
  input: unknown;
  attributes: Record<string, string>;
  segment: string;
  itemId: string;
}

export type PlaceholderRoot = 'input' | 'attributes' | 'segment' | 'itemId';

/** What each placeholder stands for; docs/workflows.md is generated from these descriptions. */
export const PROMPT_PLACEHOLDERS: Readonly<Record<PlaceholderRoot, { value: (ctx: PromptContext) => unknown; description: string }>> = {
  input: { value: (ctx) => ctx.input, description: 'The work item\'s `input` after redaction: the fields listed in `redact` read "[redacted]".' },
  attributes: { value: (ctx) => ctx.attributes, description: "The work item's `attributes` as sent, not lower-cased." },
  segment: {
    value: (ctx) => ctx.segment,
    description: "The item's segment, e.g. `email|eu` (see Segment keys), or the overflow segment for an item pooled there.",
  },
  itemId: { value: (ctx) => ctx.itemId, description: "The work item's `itemId`." },
};

export function renderTemplate(template: string, ctx: PromptContext): string {
  return template.replace(/\{\{\s*([a-zA-Z]+)((?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g, (whole, root: string, path: string) => {
    if (!Object.hasOwn(PROMPT_PLACEHOLDERS, root)) return whole;
    let value: unknown = PROMPT_PLACEHOLDERS[root as PlaceholderRoot].value(ctx);
    for (const key of path.split('.').filter(Boolean)) {
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    }
    if (value === undefined) return whole;
    return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  });
}

/** JSON with sorted keys, so equal content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .filter((k) => obj[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
