/**
 * The subset of JSON Schema that decision schemas use (and that OpenAI's structured outputs accept):
 * object / properties / required / additionalProperties, enum / const, string (format date,
 * date-time, email, uri, uuid; min/maxLength), number / integer (minimum / maximum, exclusive ones),
 * boolean, null, arrays of simple items (min/maxItems), nullable through type arrays or
 * `anyOf: [X, {type: 'null'}]`, and local `$ref`s (`#/$defs/...`, `#/definitions/...`).
 *
 * It answers two questions for the simulator: "what is a schema-valid value here?" (fill) and
 * "what are the allowed values of this field?" (enumOf). It is deliberately not a validator.
 */
import { pick, type Rng } from './prng';

export type JsonSchema = Record<string, unknown>;

const MAX_REF_DEPTH = 32;

export function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows local `$ref`s to the schema they point at. */
export function deref(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema;
  for (let depth = 0; depth < MAX_REF_DEPTH; depth++) {
    const ref = current['$ref'];
    if (typeof ref !== 'string' || !ref.startsWith('#')) return current;
    const target = resolvePointer(root, ref.slice(1));
    if (!isSchema(target)) return current;
    current = target;
  }
  return current;
}

function resolvePointer(root: JsonSchema, pointer: string): unknown {
  let node: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isSchema(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * The schema with `null` taken out: `type: ['string', 'null']` → `type: 'string'`,
 * `anyOf: [{type: 'string'}, {type: 'null'}]` → the string branch. A wrong answer or a filler value
 * should be a real value, not null.
 */
export function nonNull(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const s = deref(schema, root);
  const branches = (Array.isArray(s['anyOf']) ? s['anyOf'] : Array.isArray(s['oneOf']) ? s['oneOf'] : undefined) as unknown[] | undefined;
  if (branches) {
    const branch = branches
      .filter(isSchema)
      .map((b) => deref(b, root))
      .find((b) => b['type'] !== 'null');
    if (branch) return nonNull(branch, root);
  }
  const type = s['type'];
  if (Array.isArray(type)) {
    const rest = type.filter((t) => t !== 'null');
    if (rest.length > 0 && rest.length !== type.length) return { ...s, type: rest.length === 1 ? rest[0] : rest };
  }
  return s;
}

export type SimpleType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

export function typeOf(schema: JsonSchema, root: JsonSchema): SimpleType | undefined {
  const s = nonNull(schema, root);
  const type = Array.isArray(s['type']) ? s['type'][0] : s['type'];
  if (typeof type === 'string') return type as SimpleType;
  if (isSchema(s['properties'])) return 'object';
  if (s['items'] !== undefined) return 'array';
  const values = enumOf(s, root);
  if (values && values.length > 0) {
    const v = values[0];
    return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string';
  }
  return undefined;
}

/** Allowed values of a field (without null), or undefined when it is not an enum. */
export function enumOf(schema: JsonSchema, root: JsonSchema): unknown[] | undefined {
  const s = nonNull(schema, root);
  if (Array.isArray(s['enum'])) return (s['enum'] as unknown[]).filter((v) => v !== null);
  if ('const' in s) return [s['const']];
  return undefined;
}

export function propertiesOf(schema: JsonSchema, root: JsonSchema): Record<string, JsonSchema> {
  const props = nonNull(schema, root)['properties'];
  if (!isSchema(props)) return {};
  const out: Record<string, JsonSchema> = {};
  for (const [k, v] of Object.entries(props)) if (isSchema(v)) out[k] = v;
  return out;
}

export function requiredOf(schema: JsonSchema, root: JsonSchema): string[] {
  const req = nonNull(schema, root)['required'];
  return Array.isArray(req) ? req.filter((r): r is string => typeof r === 'string') : [];
}

export function allowsAdditional(schema: JsonSchema, root: JsonSchema): boolean {
  return nonNull(schema, root)['additionalProperties'] !== false;
}

export interface NumberBounds {
  min: number;
  max: number;
  integer: boolean;
}

export function numberBounds(schema: JsonSchema, root: JsonSchema): NumberBounds {
  const s = nonNull(schema, root);
  const integer = typeOf(s, root) === 'integer';
  const step = integer ? 1 : 1e-6;
  let min = -Infinity;
  let max = Infinity;
  if (typeof s['minimum'] === 'number') min = s['minimum'];
  if (typeof s['exclusiveMinimum'] === 'number') min = Math.max(min, s['exclusiveMinimum'] + step);
  if (typeof s['maximum'] === 'number') max = s['maximum'];
  if (typeof s['exclusiveMaximum'] === 'number') max = Math.min(max, s['exclusiveMaximum'] - step);
  if (integer) {
    min = Math.ceil(min);
    max = Math.floor(max);
  }
  return { min, max, integer };
}

export type FillMode = 'first' | 'random';

export interface FillOptions {
  /** 'first': the first enum value (filler beside a truth); 'random': a made-up decision. */
  mode: FillMode;
  rng?: Rng;
  /** Property name, used to pick a plausible string (a reply draft for `reply`, …). */
  name?: string;
}

const SENTENCES: Record<string, string> = {
  reply: 'Thanks for getting in touch. I have looked into this and we will follow up with the details shortly.',
  reason: 'Chosen from the wording of the request and the account history.',
  summary: 'Customer asks for help with their request; details are in the message.',
  generic: 'Simulated text from the model simulator.',
};

function sentenceFor(name: string | undefined): string {
  const n = (name ?? '').toLowerCase();
  if (/reply|response|draft|message|answer|email/.test(n)) return SENTENCES['reply']!;
  if (/reason|rationale|explanation|justification|why/.test(n)) return SENTENCES['reason']!;
  if (/summary|note|comment|description/.test(n)) return SENTENCES['summary']!;
  return SENTENCES['generic']!;
}

function fitLength(text: string, s: JsonSchema): string {
  let out = text;
  if (typeof s['maxLength'] === 'number') out = out.slice(0, Math.max(0, s['maxLength']));
  if (typeof s['minLength'] === 'number' && out.length < s['minLength']) out = out.padEnd(s['minLength'], '.');
  return out;
}

/** A schema-valid value for `schema`. */
export function fill(schema: JsonSchema, root: JsonSchema, opts: FillOptions): unknown {
  const s = nonNull(schema, root);
  const values = enumOf(s, root);
  if (values && values.length > 0) {
    return opts.mode === 'random' && opts.rng ? pick(opts.rng, values) : values[0];
  }
  switch (typeOf(s, root)) {
    case 'object': {
      const props = propertiesOf(s, root);
      const required = Array.isArray(s['required']) ? new Set(requiredOf(s, root)) : undefined;
      const out: Record<string, unknown> = {};
      for (const [key, prop] of Object.entries(props)) {
        if (required && !required.has(key)) continue;
        out[key] = fill(prop, root, { ...opts, name: key });
      }
      return out;
    }
    case 'array': {
      const items = isSchema(s['items']) ? s['items'] : {};
      const min = typeof s['minItems'] === 'number' ? s['minItems'] : 1;
      const max = typeof s['maxItems'] === 'number' ? s['maxItems'] : Math.max(min, 1);
      const count = Math.min(Math.max(min, 1), max);
      const itemValues = enumOf(items, root);
      const out: unknown[] = [];
      for (let i = 0; i < count; i++) {
        // enum items: distinct values, so uniqueItems holds
        if (itemValues && itemValues.length > 0) out.push(itemValues[i % itemValues.length]);
        else out.push(fill(items, root, { ...opts, name: opts.name }));
      }
      return out;
    }
    case 'string':
      return fitLength(stringFiller(s, opts.name), s);
    case 'number':
    case 'integer': {
      const { min, max, integer } = numberBounds(s, root);
      let v: number;
      if (Number.isFinite(min) && Number.isFinite(max)) v = (min + max) / 2;
      else if (Number.isFinite(min)) v = min;
      else if (Number.isFinite(max)) v = Math.min(max, 0);
      else v = 1;
      return integer ? Math.min(Math.max(Math.round(v), min), max) : v;
    }
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return sentenceFor(opts.name);
  }
}

function stringFiller(s: JsonSchema, name: string | undefined): string {
  // A pattern spelling an ISO date (YYYY-MM-DD) wants a date, whatever the format says.
  if (typeof s['pattern'] === 'string' && s['pattern'].includes('\\d{4}-\\d{2}-\\d{2}')) return '2024-06-03';
  switch (s['format']) {
    case 'date':
      return '2024-06-03';
    case 'date-time':
      return '2024-06-03T09:00:00Z';
    case 'time':
      return '09:00:00';
    case 'email':
      return 'customer@example.com';
    case 'uri':
    case 'url':
      return 'https://example.com/';
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
    default:
      return sentenceFor(name);
  }
}
