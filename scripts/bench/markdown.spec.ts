import type { BenchResults } from './markdown';
import { figureRows, renderMarkdown } from './markdown';
import { distribution } from './stats';

const base: BenchResults = {
  machine: {
    cpuModel: 'Test CPU',
    cores: 2,
    memoryGiB: 8,
    node: 'v20',
    kernel: 'Linux 6',
    os: 'Debian',
    date: '2026-11-23T00:00:00Z',
    postgres: 'PostgreSQL 15',
  },
  command: 'npm run bench',
  quick: false,
  startedAt: '2026-11-23T00:00:00Z',
  totalSeconds: 600,
  loadStart: '1 / 1 / 1',
  loadEnd: '2 / 2 / 2',
  sections: [{ name: 'routing overhead', seconds: 50 }],
};

const routing = (p99: number) => ({
  name: 'route',
  ratePerSecond: 500,
  items: 10_000,
  routed: 10_000,
  overheadMs: { ...distribution([10, 20]), p99 },
  fromProducedMs: distribution([40, 100]),
  toDecisionMs: null,
  decisionToEventMs: null,
  modelLatencyMs: distribution([3]),
  peakRssMiB: 300,
  serviceCpuSeconds: 5,
  loadBefore: '1',
  loadAfter: '1',
});

describe('BENCHMARKS.md', () => {
  it('judges each figure against its target', () => {
    const met = figureRows({ ...base, routing: routing(24) });
    expect(met.find((r) => r.figure.startsWith('Routing overhead'))?.status).toBe('met');
    const missed = figureRows({ ...base, routing: routing(26), totalSeconds: 16 * 60 });
    expect(missed.find((r) => r.figure.startsWith('Routing overhead'))?.status).toBe('MISSED');
    expect(missed.find((r) => r.figure.startsWith('Whole benchmark'))?.status).toBe('MISSED');
  });

  it('shows the machine, the command and a failed section', () => {
    const md = renderMarkdown({ ...base, sections: [...base.sections, { name: 'report latency', seconds: 3, error: 'Error: boom\n    at x' }] });
    expect(md).toContain('| CPU | Test CPU, 2 cores |');
    expect(md).toContain('`npm run bench`');
    expect(md).toContain('- report latency: `Error: boom`');
  });
});
