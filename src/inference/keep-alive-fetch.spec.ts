import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, RateLimitError } from 'openai';
import { keepAliveFetch } from './keep-alive-fetch';

describe('keepAliveFetch', () => {
  let server: http.Server;
  let base: string;
  const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string; socket: unknown }> = [];
  let respond: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, socket: req.socket });
        respond(req, res, body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    seen.length = 0;
    respond = (_req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req-1' });
      res.end(JSON.stringify({ echo: body }));
    };
  });

  it('sends method, headers and body, and answers status, headers, json() and text() like fetch', async () => {
    const f = keepAliveFetch();
    const r = await f(`${base}/v1/x`, {
      method: 'POST',
      headers: new Headers({ 'content-type': 'application/json', authorization: 'Bearer k' }),
      body: '{"a":1}',
    });
    expect(r.status).toBe(200);
    expect(r.ok).toBe(true);
    expect(r.headers.get('x-request-id')).toBe('req-1');
    expect(await r.json()).toEqual({ echo: '{"a":1}' });
    await expect(r.text()).rejects.toThrow(/already been read/);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/x', body: '{"a":1}' });
    expect(seen[0].headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer k', 'content-length': '7' });
  });

  it('keeps the connection open between calls', async () => {
    const f = keepAliveFetch();
    await (await f(`${base}/a`, { method: 'POST', body: 'x' })).text();
    await (await f(`${base}/b`, { method: 'POST', body: 'y' })).text();
    expect(seen[0].socket).toBe(seen[1].socket);
  });

  it('decodes a gzip answer', async () => {
    respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify({ ok: true })));
    };
    const r = await keepAliveFetch()(`${base}/z`);
    expect(await r.json()).toEqual({ ok: true });
  });

  it('rejects with an AbortError when the signal aborts, and with a TypeError (cause: the socket error) when the server is gone', async () => {
    respond = () => undefined; // never answers
    const controller = new AbortController();
    const pending = keepAliveFetch()(`${base}/hang`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(keepAliveFetch()('http://127.0.0.1:1/nothing')).rejects.toMatchObject({
      name: 'TypeError',
      cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
    });
  });

  it('hands what it does not handle (a streamed body) to the fallback', async () => {
    const fallback = jest.fn(async () => new Response('from fallback'));
    const stream = new ReadableStream({ start: (c) => c.close() });
    const r = await keepAliveFetch({ fallback })(`${base}/s`, { method: 'POST', body: stream });
    expect(await r.text()).toBe('from fallback');
    expect(fallback).toHaveBeenCalled();
  });

  describe('under the openai SDK', () => {
    const client = (timeout = 5000) => new OpenAI({ baseURL: `${base}/v1`, apiKey: 'k', maxRetries: 0, timeout, fetch: keepAliveFetch() });

    it('completes a chat call', async () => {
      respond = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'c1',
            object: 'chat.completion',
            created: 1,
            model: 'm',
            choices: [{ index: 0, message: { role: 'assistant', content: '{"a":1}' }, finish_reason: 'stop', logprobs: null }],
            usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
          }),
        );
      };
      const r = await client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      expect(r.choices[0].message.content).toBe('{"a":1}');
      expect(JSON.parse(seen[0].body)).toMatchObject({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    });

    it("keeps the SDK's errors: a 429 with Retry-After, a timeout, a refused connection", async () => {
      respond = (_req, res) => {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' });
        res.end(JSON.stringify({ error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' } }));
      };
      const e429 = await client()
        .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e) => e);
      expect(e429).toBeInstanceOf(RateLimitError);
      expect(e429.headers.get('retry-after')).toBe('2');

      respond = () => undefined;
      const slow = await client(100)
        .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e) => e);
      expect(slow).toBeInstanceOf(APIConnectionTimeoutError);

      const gone = new OpenAI({ baseURL: 'http://127.0.0.1:1/v1', apiKey: 'k', maxRetries: 0, fetch: keepAliveFetch() });
      const refused = await gone.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
      expect(refused).toBeInstanceOf(APIConnectionError);
      expect(refused).not.toBeInstanceOf(APIConnectionTimeoutError);
    });
  });

  it('refuses an answer larger than the cap on the wire, and one that decompresses beyond it', async () => {
    const f = keepAliveFetch({ maxResponseBytes: 64 * 1024 });
    respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ pad: 'x'.repeat(200 * 1024) }));
    };
    await expect(f(`${base}/big`, { method: 'POST', body: 'x' })).rejects.toMatchObject({ cause: { message: 'the answer exceeds 65536 bytes' } });
    // 10 MB of zeros gzip to about 10 KB: under the cap on the wire, far over it once decompressed.
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(64 * 1024);
    respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    };
    await expect(f(`${base}/bomb`, { method: 'POST', body: 'x' })).rejects.toMatchObject({
      cause: { message: 'the answer decompresses to more than 65536 bytes' },
    });
    // Within the cap, compressed or not, answers still arrive.
    respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify({ ok: true })));
    };
    expect(await (await f(`${base}/ok`, { method: 'POST', body: 'x' })).json()).toEqual({ ok: true });
  });
});
