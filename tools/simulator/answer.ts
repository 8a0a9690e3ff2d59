/**
 * What the MODEL SIMULATOR answers — pure functions, no I/O, randomness only from the Rng passed in.
 *
 * Ground-truth convention: the service renders the work item's input into the user message as JSON;
 * in tests and the demo that input carries a top-level key
 *   "simulation": {"truth": {...decision fields...}, "segment": "email|eu"}
 * (or one level down, e.g. {"input": {..., "simulation": {...}}}). The simulator finds it in the last
 * user message and answers with the truth (correct) or the truth with one field corrupted (wrong).
 * A scenario's `answerBias` makes a share of the wrong answers land on one value of one field.
 *
 * Confidence model: correct answers draw confidence ~ Normal(correctMean, spread), wrong ones
 * ~ Normal(wrongMean, spread), clipped to [0.01, 0.999] and rounded to 3 decimals. Confidence is thus
 * informative (wrong answers are less confident on average) and roughly calibrated when correctMean is
 * near the accuracy of confident answers; it is not a guarantee of calibration. It appears in a
 * `confidence` property when the schema has one, and in the logprobs (see tokens.ts).
 */
import { type Rng, intBetween, normal, pick } from './prng';
import { type JsonSchema, allowsAdditional, enumOf, fill, isSchema, nonNull, numberBounds, propertiesOf, requiredOf, typeOf } from './json-schema';
import type { AnswerBias, ConfidenceParams } from './scenario';

export interface Simulation {
  /** The decision the simulated model should reach; null when the item carries no truth. */
  truth: Record<string, unknown> | null;
  segment: string | null;
}

export interface ChatMessageLike {
  role: string;
  content?: unknown;
}

/** Text of a message content: a string, or the text parts of a content-part array. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    let text = '';
    for (const part of content) {
      if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
        text += (text ? '\n' : '') + (part as { text: string }).text;
      }
    }
    return text;
  }
  return '';
}

/** The `simulation` object of the last user message, or null. */
export function extractSimulation(messages: readonly ChatMessageLike[]): Simulation | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') return findSimulation(messageText(messages[i]!.content));
  }
  return null;
}

/**
 * Scans `text` for JSON objects (every '{' that opens a balanced, string-aware brace span that
 * JSON.parse accepts) and returns the `simulation` of the first one that has it at the top level or
 * one level down. Objects that parse but carry no simulation are skipped whole.
 */
export function findSimulation(text: string): Simulation | null {
  let from = text.indexOf('{');
  while (from !== -1) {
    const end = matchingBrace(text, from);
    if (end === -1) {
      from = text.indexOf('{', from + 1);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.slice(from, end + 1));
    } catch {
      from = text.indexOf('{', from + 1);
      continue;
    }
    const sim = simulationIn(parsed);
    if (sim) return sim;
    from = text.indexOf('{', end + 1);
  }
  return null;
}

function simulationIn(obj: unknown): Simulation | null {
  if (!isRecord(obj)) return null;
  if (isRecord(obj['simulation'])) return toSimulation(obj['simulation']);
  for (const value of Object.values(obj)) {
    if (isRecord(value) && isRecord(value['simulation'])) return toSimulation(value['simulation']);
  }
  return null;
}

function toSimulation(sim: Record<string, unknown>): Simulation {
  const segment = sim['segment'];
  return {
    truth: isRecord(sim['truth']) ? sim['truth'] : null,
    segment: typeof segment === 'string' && segment !== '' ? segment : null,
  };
}

/** Index of the '}' closing the '{' at `start`, skipping braces inside JSON strings; -1 if none. */
function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

export function drawConfidence(rng: Rng, correct: boolean, params: ConfidenceParams): number {
  const mean = correct ? params.correctMean : params.wrongMean;
  const value = mean + params.spread * normal(rng);
  return Math.round(Math.min(0.999, Math.max(0.01, value)) * 1000) / 1000;
}

export type AnswerKind = 'correct' | 'wrong' | 'no-truth';

export interface AnswerInput {
  kind: AnswerKind;
  truth: Record<string, unknown> | null;
  /** JSON schema of the response (response_format json_schema), if any. */
  schema?: JsonSchema;
  confidence: number;
  corruptFields?: readonly string[];
  /** Where a wrong answer lands, with some probability (see scenario.ts). */
  answerBias?: AnswerBias;
  rng: Rng;
}

export interface Answer {
  value: Record<string, unknown>;
  /** Field changed by a wrong answer; undefined when the answer equals the truth. */
  corruptedField?: string;
  /** Field whose value carries log(confidence) in the logprobs (see tokens.ts). */
  carrierField: string | null;
  /** Allowed values of the carrier (enum), for top_logprobs alternatives. */
  carrierAlternatives?: string[];
}

export const NO_TRUTH_NOTE = 'MODEL SIMULATOR: no simulation.truth found in the last user message';

/**
 * Builds the decision. Keys follow the schema's property order; truth fields are copied (the one a
 * wrong answer corrupts is changed), required fields the truth lacks get schema-valid filler, a
 * `confidence` property gets the simulated confidence, and truth fields the schema forbids
 * (additionalProperties: false) are dropped.
 */
export function buildAnswer(input: AnswerInput): Answer {
  const { schema, rng } = input;
  const root = schema ?? {};
  const props = schema ? propertiesOf(schema, root) : {};
  const hasProps = Object.keys(props).length > 0;

  if (input.kind === 'no-truth' || input.truth === null) {
    const value = schema && hasProps ? (fill(schema, root, { mode: 'random', rng }) as Record<string, unknown>) : { note: NO_TRUTH_NOTE };
    if (hasProps) setConfidence(value, props, root, input.confidence, new Set());
    const carrierField = pickCarrier(
      Object.keys(value).filter((k) => k !== 'confidence'),
      props,
      root,
    );
    return { value, carrierField, carrierAlternatives: alternativesOf(carrierField, props, root) };
  }

  const truth = input.truth;
  const value: Record<string, unknown> = {};
  if (hasProps) {
    const required = new Set(requiredOf(schema!, root));
    for (const [key, prop] of Object.entries(props)) {
      if (key in truth) value[key] = structuredClone(truth[key]);
      else if (required.has(key) && key !== 'confidence') value[key] = fill(prop, root, { mode: 'first', name: key });
    }
    if (allowsAdditional(schema!, root)) {
      for (const [key, v] of Object.entries(truth)) if (!(key in props)) value[key] = structuredClone(v);
    }
    setConfidence(value, props, root, input.confidence, new Set(Object.keys(truth)));
  } else {
    Object.assign(value, structuredClone(truth));
  }

  const truthFields = Object.keys(value).filter((k) => k in truth);
  let corruptedField: string | undefined;
  const bias = input.answerBias;
  if (input.kind === 'wrong' && bias && bias.share > 0 && biasApplies(bias, truth, truthFields, props, root) && rng() < bias.share) {
    value[bias.field] = bias.value;
    corruptedField = bias.field;
  } else if (input.kind === 'wrong') {
    const allowed = input.corruptFields ? truthFields.filter((f) => input.corruptFields!.includes(f)) : truthFields;
    const candidates = [...allowed];
    while (candidates.length > 0 && corruptedField === undefined) {
      const i = Math.floor(rng() * candidates.length);
      const field = candidates.splice(i, 1)[0]!;
      const changed = corruptValue(value[field], props[field], root, rng, field);
      if (changed.ok) {
        value[field] = changed.value;
        corruptedField = field;
      }
    }
  }
  const carrierField = pickCarrier(truthFields, props, root);
  return { value, corruptedField, carrierField, carrierAlternatives: alternativesOf(carrierField, props, root) };
}

/** Whether `bias` would make the answer wrong on its field and keep it schema-valid. */
function biasApplies(
  bias: AnswerBias,
  truth: Record<string, unknown>,
  truthFields: readonly string[],
  props: Record<string, JsonSchema>,
  root: JsonSchema,
): boolean {
  if (!truthFields.includes(bias.field) || sameValue(truth[bias.field], bias.value)) return false;
  const prop = props[bias.field];
  if (!prop) return true;
  const s = nonNull(prop, root);
  const allowed = enumOf(s, root);
  if (allowed) return allowed.some((v) => sameValue(v, bias.value));
  switch (typeOf(s, root)) {
    case undefined:
      return true;
    case 'string':
      return typeof bias.value === 'string';
    case 'number':
      return typeof bias.value === 'number';
    case 'integer':
      return Number.isInteger(bias.value);
    case 'boolean':
      return typeof bias.value === 'boolean';
    default:
      return false;
  }
}

function setConfidence(value: Record<string, unknown>, props: Record<string, JsonSchema>, root: JsonSchema, confidence: number, truthKeys: Set<string>): void {
  const prop = props['confidence'];
  if (!prop || truthKeys.has('confidence')) return;
  const type = typeOf(prop, root);
  if (type !== 'number' && type !== 'integer') return;
  const { min, max, integer } = numberBounds(prop, root);
  // a 0–100 scale is a percentage
  const scaled = max >= 100 && Number.isFinite(max) ? confidence * 100 : confidence;
  const v = Math.min(Math.max(integer ? Math.round(scaled) : scaled, min), max);
  value['confidence'] = v;
}

/** The first enum field among `fields`, else the first field. */
function pickCarrier(fields: readonly string[], props: Record<string, JsonSchema>, root: JsonSchema): string | null {
  const categorical = fields.find((f) => props[f] && enumOf(props[f]!, root));
  return categorical ?? fields[0] ?? null;
}

function alternativesOf(field: string | null, props: Record<string, JsonSchema>, root: JsonSchema): string[] | undefined {
  if (field === null || !props[field]) return undefined;
  return enumOf(props[field]!, root)?.map((v) => String(v));
}

type Corrupted = { ok: true; value: unknown } | { ok: false };

const ALT_TOKENS = ['other', 'unknown', 'general', 'pending', 'escalate', 'none'];
const ALT_SENTENCES = [
  'Thanks for your message. Could you send us a few more details so we can help?',
  'We have passed this on to the right team, who will contact you directly.',
  'This looks resolved already; please let us know if anything is still missing.',
];

/**
 * Changes a value so that a comparator would call it different, keeping it schema-valid:
 * enum → another allowed value; number → ×1.3 + 7 (or ×0.7 − 7, or the far bound, to stay in range);
 * date (YYYY-MM-DD, also the date part of a date-time) → shifted 3–40 days; boolean → flipped;
 * other string → another plausible string; array → one item fewer or more; object → one field inside.
 */
export function corruptValue(value: unknown, schema: JsonSchema | undefined, root: JsonSchema, rng: Rng, name?: string): Corrupted {
  const s = schema ? nonNull(schema, root) : undefined;
  const allowed = s ? enumOf(s, root) : undefined;
  if (allowed && allowed.length > 0) {
    const others = allowed.filter((v) => !sameValue(v, value));
    return others.length > 0 ? { ok: true, value: pick(rng, others) } : { ok: false };
  }
  if (value === null) {
    return s && typeOf(s, root) && typeOf(s, root) !== 'null' ? { ok: true, value: fill(s, root, { mode: 'first', name }) } : { ok: false };
  }
  if (typeof value === 'boolean') return { ok: true, value: !value };
  if (typeof value === 'number') return corruptNumber(value, s, root);
  if (typeof value === 'string') return { ok: true, value: corruptString(value, s, rng) };
  if (Array.isArray(value)) return corruptArray(value, s, root, rng, name);
  if (isRecord(value)) {
    const props = s ? propertiesOf(s, root) : {};
    const keys = Object.keys(value);
    while (keys.length > 0) {
      const key = keys.splice(Math.floor(rng() * keys.length), 1)[0]!;
      const changed = corruptValue(value[key], props[key], root, rng, key);
      if (changed.ok) return { ok: true, value: { ...value, [key]: changed.value } };
    }
  }
  return { ok: false };
}

function corruptNumber(value: number, s: JsonSchema | undefined, root: JsonSchema): Corrupted {
  const { min, max, integer } = s ? numberBounds(s, root) : { min: -Infinity, max: Infinity, integer: false };
  const asInt = integer || (Number.isInteger(value) && (!s || typeOf(s, root) !== 'number'));
  const norm = (v: number) => (asInt ? Math.round(v) : Math.round(v * 1e6) / 1e6);
  for (const candidate of [norm(value * 1.3 + 7), norm(value * 0.7 - 7)]) {
    if (candidate >= min && candidate <= max && candidate !== value) return { ok: true, value: candidate };
  }
  const far = Math.abs(max - value) >= Math.abs(value - min) ? max : min;
  return Number.isFinite(far) && far !== value ? { ok: true, value: far } : { ok: false };
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})/;

function corruptString(value: string, s: JsonSchema | undefined, rng: Rng): string {
  const date = DATE_RE.exec(value);
  if (date) {
    const t = Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]));
    if (!Number.isNaN(t)) {
      const days = intBetween(rng, 3, 40) * (rng() < 0.5 ? -1 : 1);
      return new Date(t + days * 86_400_000).toISOString().slice(0, 10) + value.slice(10);
    }
  }
  let out: string;
  if (/\s/.test(value.trim())) {
    out = pick(
      rng,
      ALT_SENTENCES.filter((a) => a !== value),
    );
  } else if (/\d/.test(value)) {
    // an id or a code: change its last digit
    const i = value.search(/\d(?!.*\d)/);
    const digit = (Number(value[i]) + intBetween(rng, 1, 9)) % 10;
    out = value.slice(0, i) + String(digit) + value.slice(i + 1);
  } else {
    out = pick(
      rng,
      ALT_TOKENS.filter((a) => a !== value.toLowerCase()),
    );
    if (value !== '' && value === value.toUpperCase()) out = out.toUpperCase();
  }
  if (s && typeof s['maxLength'] === 'number') out = out.slice(0, s['maxLength']);
  return out === value ? `${value}-x` : out;
}

function corruptArray(value: unknown[], s: JsonSchema | undefined, root: JsonSchema, rng: Rng, name?: string): Corrupted {
  const minItems = s && typeof s['minItems'] === 'number' ? s['minItems'] : 0;
  const maxItems = s && typeof s['maxItems'] === 'number' ? s['maxItems'] : Infinity;
  if (value.length > minItems && value.length > 0) return { ok: true, value: value.slice(0, -1) };
  if (value.length < maxItems) {
    const items = s && isSchema(s['items']) ? s['items'] : undefined;
    const allowed = items ? enumOf(items, root) : undefined;
    if (allowed) {
      const unused = allowed.filter((a) => !value.some((v) => sameValue(v, a)));
      return unused.length > 0 ? { ok: true, value: [...value, pick(rng, unused)] } : { ok: false };
    }
    return { ok: true, value: [...value, items ? fill(items, root, { mode: 'first', name }) : 'other'] };
  }
  return { ok: false };
}

export type MalformedKind = 'invalid-json' | 'missing-required' | 'invalid-enum';

/**
 * Turns an answer into unusable output: truncated JSON (share `invalidJsonShare`), or valid JSON
 * that violates the schema — a required field dropped or an enum field set to a value outside the
 * enum. Without a schema to violate, it is always truncated JSON.
 */
export function malform(
  value: Record<string, unknown>,
  schema: JsonSchema | undefined,
  rng: Rng,
  invalidJsonShare: number,
): { content: string; kind: MalformedKind } {
  const root = schema ?? {};
  const wantInvalidJson = rng() < invalidJsonShare;
  const required = schema ? requiredOf(schema, root).filter((k) => k in value) : [];
  const props = schema ? propertiesOf(schema, root) : {};
  const enumFields = Object.keys(value).filter((k) => props[k] && enumOf(props[k]!, root)?.length);
  if (!wantInvalidJson && (required.length > 0 || enumFields.length > 0)) {
    const dropRequired = enumFields.length === 0 || (required.length > 0 && rng() < 0.5);
    if (dropRequired) {
      const { [pick(rng, required)]: _dropped, ...rest } = value;
      return { content: JSON.stringify(rest), kind: 'missing-required' };
    }
    const field = pick(rng, enumFields);
    const allowed = enumOf(props[field]!, root)!.map(String);
    let bad = 'unsure';
    while (allowed.includes(bad)) bad += '_';
    return { content: JSON.stringify({ ...value, [field]: bad }), kind: 'invalid-enum' };
  }
  const full = JSON.stringify(value);
  const cut = Math.max(1, Math.min(full.length - 1, Math.floor(full.length * (0.3 + 0.6 * rng()))));
  return { content: full.slice(0, cut), kind: 'invalid-json' };
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
