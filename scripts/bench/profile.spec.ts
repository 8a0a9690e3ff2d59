import { areaOf, CpuProfile, summariseProfile } from './profile';

describe('CPU profile summary', () => {
  it('names the area of a frame from its script', () => {
    expect(areaOf('file:///work/main/node_modules/pg/lib/client.js', 'query')).toBe('pg');
    expect(areaOf('file:///work/main/node_modules/@nestjs/core/router.js', 'x')).toBe('@nestjs/core');
    expect(areaOf('file:///work/main/.stack/bench/x/dist/src/inference/runner.service.js', 'process')).toBe('src/inference');
    expect(areaOf('node:internal/deps/undici/undici', 'fetch')).toBe('undici (fetch, used by openai)');
    expect(areaOf('node:internal/streams/writable', 'write')).toBe('node:streams');
    expect(areaOf('', '(garbage collector)')).toBe('garbage collector');
    expect(areaOf('', 'writev')).toBe('native');
  });

  it('sums self time by area and function, leaving idle out of the shares', () => {
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3, 4] },
        { id: 2, callFrame: { functionName: 'parseRow', url: 'file:///a/node_modules/pg/lib/result.js', lineNumber: 62 } },
        { id: 3, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
        { id: 4, callFrame: { functionName: 'process', url: 'file:///a/dist/src/inference/runner.service.js', lineNumber: 9 } },
      ],
      samples: [2, 2, 3, 4, 2],
      timeDeltas: [1000, 1000, 5000, 2000, 1000],
      startTime: 0,
      endTime: 10_000,
    };
    const s = summariseProfile(p);
    expect(s.totalMs).toBe(10);
    expect(s.busyMs).toBe(5);
    expect(s.areas).toEqual([
      { area: 'pg', ms: 3, share: 0.6 },
      { area: 'src/inference', ms: 2, share: 0.4 },
    ]);
    expect(s.functions[0]).toEqual({ fn: 'parseRow pg/lib/result.js:63', area: 'pg', ms: 3, share: 0.6 });
  });
});
