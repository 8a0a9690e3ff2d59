import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { findRepoRoot, startUnleash, UnleashHandle } from '../harness/unleash-server';
import { processAlive } from '../harness/process-alive';
import { freePort, waitFor } from '../harness/test-env';

/**
 * The shared Unleash a whole jest run relies on is started again when it exits on its own, so one
 * lost server fails the files that were talking to it, not every file after it. Shown on an Unleash
 * of this file's own (another port, the shared database), killed the way a silent death looks.
 */
describe('an Unleash the harness keeps up', () => {
  let unleash: UnleashHandle | undefined;
  const logFile = path.join(findRepoRoot(__dirname), '.stack', 'logs', `unleash-restart-${process.pid}.log`);

  afterAll(async () => {
    await unleash?.stop();
  });

  it('is started again on the same port after it dies, says so in its log, and stays stopped once stopped', async () => {
    const port = await freePort();
    unleash = await startUnleash({ port, logFile, restartOnExit: true, onProgress: (m) => console.log(`[unleash-restart] ${m}`) });
    const first = unleash.pid!;

    process.kill(first, 'SIGKILL');
    await waitFor('a new Unleash process', async () => unleash!.pid !== first, 30_000);
    await waitFor('the new Unleash to accept the admin token', async () => (await adminStatus(unleash!)) === 200, 180_000);
    expect(readFileSync(logFile, 'utf8')).toContain(`Unleash pid ${first} exited unexpectedly (code null, signal SIGKILL); starting it again`);

    const second = unleash.pid!;
    await unleash.stop();
    expect(processAlive(second)).toBe(false);
    expect(unleash.pid).toBe(second); // a server asked to stop is not started again
    expect(await adminStatus(unleash)).toBe(0);
  });
});

async function adminStatus(u: UnleashHandle): Promise<number> {
  try {
    const res = await fetch(`${u.url}/api/admin/projects`, { headers: { Authorization: u.adminToken }, signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}
