/** Text PostgreSQL refuses — NUL characters in text and jsonb, unpaired UTF-16 surrogates — found or made storable. */

/** Where a JSON value holds text PostgreSQL cannot store (NUL, unpaired surrogates), or null. */
export function findUnstorableString(value: unknown, path: string): string | null {
  if (typeof value === 'string') return checkString(value, path || '(root)');
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = findUnstorableString(value[i], `${path}[${i}]`);
      if (r) return r;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    const rk = checkString(k, `key ${JSON.stringify(p)}`);
    if (rk) return rk;
    const r = findUnstorableString(v, p);
    if (r) return r;
  }
  return null;
}

function checkString(s: string, where: string): string | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return `${where}: contains a NUL character (\\u0000), which cannot be stored`;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return `${where}: contains an unpaired UTF-16 surrogate`;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return `${where}: contains an unpaired UTF-16 surrogate`;
  }
  return null;
}

/** Text made storable: NULs and unpaired surrogates become U+FFFD (for raw text kept for the record). */
export function storableText(s: string): string {
  return s.toWellFormed().replace(/\u0000/g, '\uFFFD');
}
