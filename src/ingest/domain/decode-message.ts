import { findUnstorableString } from '../../database/domain/storable-text';

/**
 * Turns raw Kafka bytes into a JSON value, or a reason it cannot be stored. Everything refused
 * here goes to the DLQ with that reason, so each reason names what is wrong and where.
 * PostgreSQL's jsonb refuses NUL characters and lone surrogates, so those are caught here
 * rather than failing a whole batch's transaction later.
 */
export type Decoded = { ok: true; value: unknown } | { ok: false; reason: string };

export const MAX_JSON_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeMessage(raw: Buffer | null, maxBytes: number): Decoded {
  if (raw === null || raw.length === 0) return { ok: false, reason: 'empty message: a JSON object was expected' };
  if (raw.length > maxBytes) return { ok: false, reason: `message too large: ${raw.length} bytes, the limit is ${maxBytes}` };
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return { ok: false, reason: 'not valid UTF-8' };
  }
  // Depth is checked on the text before parsing so that a hostile, very deep document
  // cannot exhaust the stack in JSON.parse or in the checks below.
  const depth = maxNesting(text);
  if (depth > MAX_JSON_DEPTH) return { ok: false, reason: `nested too deeply: ${depth} levels, the limit is ${MAX_JSON_DEPTH}` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON: ${describeJsonError(text, (e as Error).message)}` };
  }
  const bad = findUnstorableString(value, '');
  if (bad) return { ok: false, reason: bad };
  return { ok: true, value };
}

/**
 * Node's JSON.parse messages quote a piece of the input; reasons go to logs and headers, where
 * item content must not, so only the position is kept.
 */
function describeJsonError(text: string, message: string): string {
  if (/unexpected end/i.test(message)) return `unexpected end of input after ${text.length} characters`;
  const at = /position (\d+)/.exec(message)?.[1];
  return at !== undefined ? `unexpected character at position ${at}` : 'unexpected character';
}

/** Deepest bracket nesting in a JSON text, ignoring brackets inside strings. */
function maxNesting(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}
