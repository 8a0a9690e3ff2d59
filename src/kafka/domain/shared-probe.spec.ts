import { createSharedProbe, ProbeConnection } from './shared-probe';

/** An in-memory connection factory that counts what it opens and closes. */
function fakeConnections(behaviour: { fail?: () => boolean; hang?: () => boolean } = {}) {
  const made = { opened: 0, closed: 0, checks: 0 };
  const open = async (): Promise<ProbeConnection> => {
    made.opened += 1;
    return {
      check: async () => {
        made.checks += 1;
        if (behaviour.hang?.()) return new Promise<void>(() => undefined);
        if (behaviour.fail?.()) throw new Error('broker gone');
      },
      close: async () => {
        made.closed += 1;
      },
    };
  };
  return { made, open };
}

describe('a shared health probe', () => {
  it('opens one connection and reuses it for every check', async () => {
    const { made, open } = fakeConnections();
    const probe = createSharedProbe(open, 1000);
    for (let i = 0; i < 50; i += 1) await probe();
    expect(made).toEqual({ opened: 1, closed: 0, checks: 50 });
    await probe.close();
    expect(made.closed).toBe(1);
  });

  it('lets concurrent checks share the one in flight', async () => {
    const { made, open } = fakeConnections();
    const probe = createSharedProbe(open, 1000);
    await Promise.all(Array.from({ length: 20 }, () => probe()));
    expect(made).toMatchObject({ opened: 1, checks: 1 });
  });

  it('drops a connection whose check failed and opens a fresh one for the next check', async () => {
    let failing = true;
    const { made, open } = fakeConnections({ fail: () => failing });
    const probe = createSharedProbe(open, 1000);
    await expect(probe()).rejects.toThrow('broker gone');
    await new Promise((r) => setImmediate(r));
    expect(made).toMatchObject({ opened: 1, closed: 1 });
    failing = false;
    await probe();
    await probe();
    expect(made).toMatchObject({ opened: 2, closed: 1, checks: 3 });
  });

  it('gives up on a check that does not answer in time, and does not reuse its connection', async () => {
    let hanging = true;
    const { made, open } = fakeConnections({ hang: () => hanging });
    const probe = createSharedProbe(open, 20);
    await expect(probe()).rejects.toThrow('no answer within 20 ms');
    hanging = false;
    await probe();
    expect(made).toMatchObject({ opened: 2, closed: 1 });
  });
});
