import { Client } from 'pg';
import { dataSourceOptions, listeningClient } from './data-source';

describe('the pool connection class', () => {
  const fatal = () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

  it('takes an error of a dying connection that nobody else listens to, where a plain pg Client ends the process', () => {
    expect(() => new Client().emit('error', fatal())).toThrow(/administrator command/);
    const seen: Error[] = [];
    const Listening = listeningClient((e) => seen.push(e));
    expect(() => new Listening().emit('error', fatal())).not.toThrow();
    expect(seen.map((e) => e.message)).toEqual(['terminating connection due to administrator command']);
  });

  it('is what the service pool is built with, and says so in the log', () => {
    const warned: Array<Record<string, unknown>> = [];
    const sink = { error: () => undefined, info: () => undefined, warn: (o: Record<string, unknown>) => warned.push(o) };
    const extra = dataSourceOptions({ url: 'postgres://x@127.0.0.1/db', poolSize: 2 }, 'test', sink).extra as { Client: typeof Client };
    expect(() => new extra.Client().emit('error', fatal())).not.toThrow();
    expect(warned).toEqual([{ error: 'terminating connection due to administrator command' }]);
  });
});
