/**
 * Tokenisation and logprobs of the simulated model's output.
 *
 * Tokens are small and BPE-like, not any real model's vocabulary: every JSON punctuation character
 * is its own token, words are split into chunks of up to 4 letters (a leading space stays with the
 * chunk it precedes), digits into runs of up to 3, any other character is a token of its own.
 *
 * Logprob model (what a consumer that reads confidence from logprobs can rely on):
 * - the confidence is carried by ONE field, the "carrier": the first decision (truth) field whose
 *   schema is an enum, else the first decision field. log(confidence) is spread evenly over the
 *   tokens of its VALUE (for a string: the characters between the quotes, not the quotes), so
 *   exp(sum of those tokens' logprobs) = confidence;
 * - every other token (punctuation, keys, quotes, other decision fields, filler text, the
 *   `confidence` field) has logprob -0.0001 (≈ certain). So exp(sum over the whole content) is also
 *   ≈ confidence, and a consumer that takes the product over any decision field gets ≈ 1 except for
 *   the carrier.
 */
export const CERTAIN_LOGPROB = -0.0001;

const TOKEN_RE = /[{}[\]:,"]|[ ]?\p{L}{1,4}|\p{N}{1,3}|\s+|[^\s\p{L}\p{N}]/gu;

export function splitTokens(text: string): string[] {
  return text.match(TOKEN_RE) ?? [];
}

export interface Token {
  text: string;
  /** Top-level key whose value this token belongs to; null for punctuation and keys. */
  field: string | null;
}

/**
 * Serialises `value` exactly like JSON.stringify (compact) and returns it as tokens, each tagged
 * with the top-level field whose value it spells. Joining the token texts gives the content.
 */
export function tokenizeJson(value: unknown): Token[] {
  const out: Token[] = [];
  const emit = (text: string, field: string | null) => out.push({ text, field });
  const walk = (v: unknown, field: string | null, depth: number): void => {
    if (Array.isArray(v)) {
      emit('[', null);
      v.forEach((item, i) => {
        if (i > 0) emit(',', null);
        walk(item === undefined ? null : item, field, depth + 1);
      });
      emit(']', null);
      return;
    }
    if (typeof v === 'object' && v !== null) {
      emit('{', null);
      let first = true;
      for (const [key, item] of Object.entries(v)) {
        if (item === undefined) continue;
        if (!first) emit(',', null);
        first = false;
        emit('"', null);
        for (const t of splitTokens(JSON.stringify(key).slice(1, -1))) emit(t, null);
        emit('"', null);
        emit(':', null);
        walk(item, depth === 0 ? key : field, depth + 1);
      }
      emit('}', null);
      return;
    }
    if (typeof v === 'string') {
      emit('"', null);
      for (const t of splitTokens(JSON.stringify(v).slice(1, -1))) emit(t, field);
      emit('"', null);
      return;
    }
    for (const t of splitTokens(JSON.stringify(v) ?? 'null')) emit(t, field);
  };
  walk(value, null, 0);
  return out;
}

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export interface TokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

const encoder = new TextEncoder();
const bytesCache = new Map<string, number[]>();

/** UTF-8 bytes of a token; memoised because the same small tokens recur in every response. */
export function utf8Bytes(text: string): number[] {
  let bytes = bytesCache.get(text);
  if (!bytes) {
    bytes = Array.from(encoder.encode(text));
    if (bytesCache.size >= 50_000) bytesCache.clear();
    bytesCache.set(text, bytes);
  }
  return bytes;
}

/** Alternatives offered in top_logprobs when nothing better is known. */
const GENERIC_ALTERNATIVES = [
  ' ',
  '\n',
  '"',
  ',',
  '.',
  ' the',
  'the',
  ' a',
  '_',
  '-',
  ':',
  ' to',
  'and',
  's',
  'ing',
  'ed',
  ' of',
  '0',
  '1',
  'un',
  ' is',
  'in',
  'er',
  're',
  'on',
  ' "',
];

export interface LogprobOptions {
  /** Field whose value carries log(confidence); null → every token is ≈ certain. */
  carrier: string | null;
  confidence: number;
  /** Number of top_logprobs entries per token (0–20). */
  topLogprobs: number;
  /** Other allowed values of the carrier (enum), offered as alternatives to its first token. */
  carrierAlternatives?: readonly string[];
}

export function withLogprobs(tokens: readonly Token[], opts: LogprobOptions): TokenLogprob[] {
  const carrierCount = opts.carrier === null ? 0 : tokens.filter((t) => t.field === opts.carrier).length;
  const carrierLogprob = carrierCount > 0 ? Math.log(opts.confidence) / carrierCount : CERTAIN_LOGPROB;
  let firstCarrierSeen = false;
  return tokens.map((t) => {
    const isCarrier = carrierCount > 0 && t.field === opts.carrier;
    const logprob = isCarrier ? carrierLogprob : CERTAIN_LOGPROB;
    let preferred: readonly string[] = [];
    if (isCarrier && !firstCarrierSeen) {
      firstCarrierSeen = true;
      preferred = (opts.carrierAlternatives ?? []).map((v) => splitTokens(v)[0] ?? v);
    }
    return {
      token: t.text,
      logprob,
      bytes: utf8Bytes(t.text),
      top_logprobs: opts.topLogprobs > 0 ? topAlternatives(t.text, logprob, opts.topLogprobs, preferred) : [],
    };
  });
}

/**
 * The chosen token first, then alternatives that share the remaining probability mass, each less
 * likely than the chosen token and than the one before it.
 */
function topAlternatives(chosen: string, logprob: number, k: number, preferred: readonly string[]): TopLogprob[] {
  const out: TopLogprob[] = [{ token: chosen, logprob, bytes: utf8Bytes(chosen) }];
  const p = Math.exp(logprob);
  const rest = Math.max(1 - p, 1e-9);
  const add = (candidate: string): void => {
    if (candidate === chosen || out.some((t) => t.token === candidate)) return;
    const i = out.length;
    const q = Math.min(rest * 0.5 ** i, p * 0.9 ** i);
    out.push({ token: candidate, logprob: Math.log(q), bytes: utf8Bytes(candidate) });
  };
  for (let i = 0; i < preferred.length && out.length < k; i++) add(preferred[i]!);
  for (let i = 0; i < GENERIC_ALTERNATIVES.length && out.length < k; i++) add(GENERIC_ALTERNATIVES[i]!);
  return out;
}
