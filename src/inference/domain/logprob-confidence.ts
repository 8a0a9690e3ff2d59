/**
 * Confidence from answer-token logprobs: the probability the model gave to the values of the
 * compared fields, i.e. exp(sum of the logprobs of the tokens that spell those values).
 * It is the model's joint probability of the part of the answer that is judged.
 */
export interface TokenLogprob {
  token: string;
  logprob: number;
}

export function confidenceFromLogprobs(content: string, tokens: TokenLogprob[] | null | undefined, fields: string[]): number | null {
  if (!tokens || tokens.length === 0) return null;
  if (tokens.map((t) => t.token).join('') !== content) return null; // cannot align tokens with the text
  // For strings, only the characters between the quotes: a token such as `","` that closes one
  // value and opens the next key must not be charged to the value.
  const spans = topLevelValueSpans(content, fields).map(([s, e]): [number, number] => (content[s] === '"' ? [s + 1, e - 1] : [s, e]));
  if (spans.length === 0) return null;
  let sum = 0;
  let pos = 0;
  for (const t of tokens) {
    const start = pos;
    const end = pos + t.token.length;
    pos = end;
    if (spans.some(([s, e]) => start < e && end > s)) {
      if (!Number.isFinite(t.logprob)) return null;
      sum += t.logprob;
    }
  }
  return Math.min(1, Math.max(0, Math.exp(sum)));
}

/** Character spans [start, end) of the values of the given top-level keys of a JSON object text. */
export function topLevelValueSpans(text: string, keys: string[]): Array<[number, number]> {
  const wanted = new Set(keys);
  const spans: Array<[number, number]> = [];
  let i = skipWs(text, 0);
  if (text[i] !== '{') return spans;
  i++;
  while (i < text.length) {
    i = skipWs(text, i);
    if (text[i] === '}') break;
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] !== '"') return spans;
    const keyEnd = endOfString(text, i);
    if (keyEnd < 0) return spans;
    let key: string;
    try {
      key = JSON.parse(text.slice(i, keyEnd));
    } catch {
      return spans;
    }
    i = skipWs(text, keyEnd);
    if (text[i] !== ':') return spans;
    i = skipWs(text, i + 1);
    const valueEnd = endOfValue(text, i);
    if (valueEnd < 0) return spans;
    if (wanted.has(key)) spans.push([i, valueEnd]);
    i = valueEnd;
  }
  return spans;
}

function skipWs(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i])) i++;
  return i;
}

function endOfString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return -1;
}

function endOfValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return endOfString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') {
        j = endOfString(text, j) - 1;
        if (j < 0) return -1;
      } else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length && !/[,}\s]/.test(text[j])) j++;
  return j > i ? j : -1;
}
