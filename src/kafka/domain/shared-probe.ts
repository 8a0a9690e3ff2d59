/** A connection a probe keeps open between checks (e.g. a Kafka admin client). */
export interface ProbeConnection {
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface SharedProbe {
  /** Resolves when the check passes within the timeout; rejects with why not. */
  (): Promise<void>;
  /** Closes the kept connection (at shutdown). */
  close(): Promise<void>;
}

/**
 * A health check over one kept connection: opened on first use and reused by every later check,
 * so a load balancer polling /health does not open (and tear down) a connection each time;
 * concurrent checks share the one in flight. A failed or timed-out check drops the connection and
 * the next check opens a fresh one, so a broken connection is never trusted again.
 */
export function createSharedProbe(open: () => Promise<ProbeConnection>, timeoutMs: number): SharedProbe {
  let connection: Promise<ProbeConnection> | null = null;
  let inFlight: Promise<void> | null = null;

  const drop = (c: Promise<ProbeConnection>) => {
    if (connection === c) connection = null;
    void c.then((conn) => conn.close()).catch(() => undefined);
  };

  const once = async (): Promise<void> => {
    const c = (connection ??= open());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref?.();
    });
    try {
      await Promise.race([c.then((conn) => conn.check()), timeout]);
    } catch (e) {
      drop(c);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  };

  const probe = (() => {
    inFlight ??= once().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }) as SharedProbe;
  probe.close = async () => {
    const c = connection;
    connection = null;
    if (c) await c.then((conn) => conn.close()).catch(() => undefined);
  };
  return probe;
}
