import { timedCheck } from './timed-check';

describe('timedCheck', () => {
  it('is up with the latency, and with what the probe said when it said something', async () => {
    let t = 100;
    const now = () => (t += 7);
    expect(await timedCheck(async () => undefined, 1000, now)).toEqual({ status: 'up', latencyMs: 7 });
    expect(await timedCheck(async () => 'reachable, flag state not loaded yet', 1000, now)).toEqual({
      status: 'up',
      latencyMs: 7,
      detail: 'reachable, flag state not loaded yet',
    });
  });

  it('is down with the error when the probe fails', async () => {
    const r = await timedCheck(async () => {
      throw new Error('connection refused');
    });
    expect(r).toMatchObject({ status: 'down', detail: 'connection refused' });
  });

  it('is down, naming the limit, when the probe does not answer in time', async () => {
    jest.useFakeTimers();
    try {
      const pending = timedCheck(() => new Promise<void>(() => undefined), 3000);
      await jest.advanceTimersByTimeAsync(3000);
      expect(await pending).toMatchObject({ status: 'down', detail: 'no answer within 3000 ms' });
    } finally {
      jest.useRealTimers();
    }
  });
});
