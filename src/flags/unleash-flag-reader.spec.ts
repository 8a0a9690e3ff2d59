import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { UnleashFlagReader } from './unleash-flag-reader';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('UnleashFlagReader.close', () => {
  it('stays quiet when a fetch that was in flight at close fails afterwards', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flag-reader-'));
    let requests = 0;
    let release: ((res: http.ServerResponse) => void) | null = null;
    const held = new Promise<http.ServerResponse>((resolve) => (release = resolve));
    // Unleash answering the first poll, then holding the next one open.
    const server = http.createServer((req, res) => {
      requests++;
      if (requests === 1) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ version: 2, features: [] }));
      } else if (requests === 2) {
        release!(res);
      } else {
        res.writeHead(503).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const reader = new UnleashFlagReader({ url, clientToken: 'token', refreshIntervalMs: 20, disableMetrics: true, backupPath: dir, logger: quiet });
      await reader.start();
      const res = await held; // the second poll is in flight
      await reader.close();
      // Its answer cannot be read: the client reports an error, after the reader was closed.
      res.writeHead(200, { 'content-type': 'application/json' });
      await new Promise<void>((r) => res.end('{ not json', () => r()));
      for (let i = 0; i < 20 && unhandled.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
