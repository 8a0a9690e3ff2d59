import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';

/**
 * A `fetch` for the openai SDK over node:http(s) with keep-alive agents.
 *
 * Why: the runner makes one model call per work item, so the cost of one call is paid thousands of
 * times a second. Through the SDK, a call over Node's built-in fetch (undici behind WHATWG streams)
 * costs about twice the CPU of one over this (BENCHMARKS.md, "model client"; node:http alone is a
 * quarter of fetch's cost). The SDK only needs a small part of fetch for non-streaming JSON calls — status,
 * headers, json()/text() — so the answer is read whole and handed back in a small Response-like object.
 * Anything else (a streamed or form body, a streamed answer) goes to the global fetch unchanged.
 *
 * Cancellation follows fetch: an aborted signal rejects with an error named AbortError, which the
 * SDK reports as a timeout (APIConnectionTimeoutError); socket errors reject as fetch's do, which
 * the SDK reports as APIConnectionError.
 */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface KeepAliveFetchOptions {
  /** Upper bound of sockets per origin (the runner's concurrency bounds calls in flight anyway). */
  maxSockets?: number;
  /** Where requests this implementation does not handle go (default: the global fetch). */
  fallback?: FetchLike;
  /** The largest answer read, on the wire and decompressed (default MAX_RESPONSE_BYTES): a larger one fails the call. */
  maxResponseBytes?: number;
}

/** A model's answer is a few kilobytes; anything near this is a fault or an attack, not an answer. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

const NO_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

export function keepAliveFetch(opts: KeepAliveFetchOptions = {}): FetchLike {
  const agentOptions: http.AgentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? Infinity };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };
  const fallback = opts.fallback ?? ((input, init) => fetch(input, init));
  const maxBytes = opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;

  return (input, init = {}) => {
    const body = init.body;
    const plainBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
    const url = input instanceof URL ? input : typeof input === 'string' ? new URL(input) : null;
    if (!url || !plainBody || (url.protocol !== 'http:' && url.protocol !== 'https:')) return fallback(input, init);

    return new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      if (signal?.aborted) return reject(abortError(signal));
      let aborted: Error | null = null;
      // fetch rejects with a TypeError whose cause is the socket error, or with an AbortError.
      const fail = (e: Error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(aborted ?? Object.assign(new TypeError('fetch failed'), { cause: e }));
      };
      const headers: Record<string, string> = {};
      const given = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
      given.forEach((value, key) => {
        headers[key] = value;
      });
      if (body !== undefined && body !== null) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.request(
        url,
        { method: init.method ?? 'GET', headers, agent: url.protocol === 'https:' ? agents['https:'] : agents['http:'] },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) return req.destroy(new Error(`the answer exceeds ${maxBytes} bytes`));
            chunks.push(c);
          });
          res.on('error', fail);
          res.on('close', () => {
            // A connection lost mid-answer (a no-op once the answer was read whole).
            if (!res.complete) fail(new Error('the connection closed before the answer was complete'));
          });
          res.on('end', () => {
            signal?.removeEventListener('abort', onAbort);
            try {
              const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
              const text = decode(raw, res.headers['content-encoding'], maxBytes);
              const status = res.statusCode ?? 0;
              const responseHeaders = new Headers();
              for (let i = 0; i < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
              responseHeaders.delete('content-encoding');
              resolve(smallResponse(url.href, status, res.statusMessage ?? '', responseHeaders, NO_BODY_STATUS.has(status) ? '' : text));
            } catch (e) {
              fail(e as Error);
            }
          });
        },
      );
      const onAbort = () => {
        aborted = abortError(signal!);
        req.destroy(aborted);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.end(body ?? undefined);
    });
  };
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const e = new Error(reason instanceof Error ? reason.message : 'This operation was aborted');
  e.name = 'AbortError';
  return e;
}

/** The answer as text, decompressed to at most maxBytes (a small compressed answer can expand a thousandfold). */
function decode(raw: Buffer, encoding: string | undefined, maxBytes: number): string {
  const capped = { maxOutputLength: maxBytes };
  try {
    switch ((encoding ?? '').trim().toLowerCase()) {
      case 'gzip':
      case 'x-gzip':
        return zlib.gunzipSync(raw, capped).toString('utf8');
      case 'deflate':
        return zlib.inflateSync(raw, capped).toString('utf8');
      case 'br':
        return zlib.brotliDecompressSync(raw, capped).toString('utf8');
      default:
        return raw.toString('utf8');
    }
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`the answer decompresses to more than ${maxBytes} bytes`);
    throw e;
  }
}

/** What the SDK reads of a non-streaming answer; a body already read whole. */
function smallResponse(url: string, status: number, statusText: string, headers: Headers, text: string): Response {
  let used = false;
  const read = () => {
    if (used) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
    used = true;
    return Promise.resolve(text);
  };
  const r = {
    url,
    status,
    statusText,
    ok: status >= 200 && status < 300,
    redirected: false,
    type: 'basic',
    headers,
    body: null,
    get bodyUsed() {
      return used;
    },
    text: read,
    json: () => read().then((t) => JSON.parse(t) as unknown),
    arrayBuffer: () => read().then((t) => new TextEncoder().encode(t).buffer),
    blob: () => read().then((t) => new Blob([t])),
    clone: () => smallResponse(url, status, statusText, new Headers(headers), text),
  };
  return r as unknown as Response;
}
