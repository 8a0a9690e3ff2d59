import { compareWithHumanBaseline, countFieldAgreement, fieldAgreementSummary, overrideRate, percentileFromHistogram } from './agreement';

describe('field agreement', () => {
  it('tallies per-field matches, counting a field only where it was compared', () => {
    const counts = countFieldAgreement([{ category: true, priority: false }, { category: true, priority: true, assignee: false }, { category: false }]);
    expect(counts).toEqual({ category: { n: 3, agree: 2 }, priority: { n: 2, agree: 1 }, assignee: { n: 1, agree: 0 } });
  });

  it('lists the worst field first, with Wilson intervals, and never-compared fields last', () => {
    const summary = fieldAgreementSummary({
      category: { n: 263, agree: 81 },
      priority: { n: 148, agree: 15 },
      tags: { n: 0, agree: 0 },
      assignee: { n: 20, agree: 0 },
      team: { n: 148, agree: 15 },
    });
    expect(summary.map((row) => row.field)).toEqual(['assignee', 'priority', 'team', 'category', 'tags']);
    // Newcombe (1998) Wilson examples: 81/263 → 0.2553–0.3662, 15/148 → 0.0624–0.1605, 0/20 → 0–0.1611.
    expect(summary[3]).toMatchObject({ field: 'category', disagree: 182 });
    expect(summary[3].lower).toBeCloseTo(0.2553, 4);
    expect(summary[3].upper).toBeCloseTo(0.3662, 4);
    expect(summary[1].lower).toBeCloseTo(0.0624, 4);
    expect(summary[0].upper).toBeCloseTo(0.1611, 4);
    expect(summary[4]).toMatchObject({ rate: null, lower: 0, upper: 1 });
  });
});

describe('overrideRate', () => {
  it('is the overridden share with its Wilson interval (Newcombe 1998: 1/29 → 0.0061–0.1718)', () => {
    const result = overrideRate(29, 1);
    expect(result.rate).toBeCloseTo(1 / 29, 12);
    expect(result.lower).toBeCloseTo(0.0061, 4);
    expect(result.upper).toBeCloseTo(0.1718, 4);
  });

  it('has no rate without reviews and refuses more overrides than reviews', () => {
    expect(overrideRate(0, 0)).toMatchObject({ rate: null, lower: 0, upper: 1 });
    expect(() => overrideRate(3, 4)).toThrow(RangeError);
  });
});

describe('compareWithHumanBaseline', () => {
  it("uses Newcombe's method 10 for the difference (Newcombe 1998: 56/70 − 48/80 → 0.0524 to 0.3339)", () => {
    const result = compareWithHumanBaseline({ n: 70, agree: 56 }, { n: 80, agree: 48 });
    expect(result.difference!.difference).toBeCloseTo(0.2, 12);
    expect(result.difference!.lower).toBeCloseTo(0.0524, 4);
    expect(result.difference!.upper).toBeCloseTo(0.3339, 4);
    expect(result.verdict).toBe('above');
  });

  it('calls an AI within the human noise indistinguishable, and one clearly under it below', () => {
    expect(compareWithHumanBaseline({ n: 400, agree: 348 }, { n: 200, agree: 176 }).verdict).toBe('indistinguishable');
    expect(compareWithHumanBaseline({ n: 400, agree: 300 }, { n: 200, agree: 176 }).verdict).toBe('below');
    expect(compareWithHumanBaseline({ n: 400, agree: 300 }, { n: 0, agree: 0 })).toMatchObject({ difference: null, verdict: null });
  });
});

describe('percentileFromHistogram', () => {
  // Buckets (0, 0.1], (0.1, 0.25], (0.25, 0.5], (0.5, 1] seconds holding 50, 30, 15, 5 requests.
  const bounds = [0.1, 0.25, 0.5, 1];
  const counts = [50, 30, 15, 5];

  it('interpolates linearly inside the bucket holding the q·N-th observation (worked by hand)', () => {
    // p50: rank 50 is the last of bucket 1 → its upper bound 0.1.
    expect(percentileFromHistogram(bounds, counts, 0.5)).toBeCloseTo(0.1, 12);
    // p65: rank 65 is 15 of 30 into (0.1, 0.25] → 0.1 + 0.15·0.5 = 0.175.
    expect(percentileFromHistogram(bounds, counts, 0.65)).toBeCloseTo(0.175, 12);
    // p95: rank 95 is the last of (0.25, 0.5] → 0.5; p99: 4 of 5 into (0.5, 1] → 0.9.
    expect(percentileFromHistogram(bounds, counts, 0.95)).toBeCloseTo(0.5, 12);
    expect(percentileFromHistogram(bounds, counts, 0.99)).toBeCloseTo(0.9, 12);
    // p10: 10 of 50 into (0, 0.1] → 0.02.
    expect(percentileFromHistogram(bounds, counts, 0.1)).toBeCloseTo(0.02, 12);
  });

  it('is monotone in q and stays within the bucket range', () => {
    let previous = -1;
    for (let q = 0; q <= 1.0000001; q += 0.01) {
      const value = percentileFromHistogram(bounds, counts, Math.min(q, 1))!;
      expect(value).toBeGreaterThanOrEqual(previous);
      expect(value).toBeLessThanOrEqual(1);
      previous = value;
    }
  });

  it('returns the last finite bound when the percentile falls in the overflow bucket, as Prometheus does', () => {
    expect(percentileFromHistogram([0.1, 0.2], [5, 5, 10], 0.99)).toBe(0.2);
    expect(percentileFromHistogram([0.1, 0.2], [5, 5, 10], 0.125)).toBeCloseTo(0.05, 12);
  });

  it('skips empty buckets and has nothing to say about an empty histogram', () => {
    expect(percentileFromHistogram([0.1, 0.2, 0.3], [0, 0, 4], 0)).toBeCloseTo(0.2, 12);
    expect(percentileFromHistogram([0.1, 0.2, 0.3], [0, 0, 4], 0.5)).toBeCloseTo(0.25, 12);
    expect(percentileFromHistogram([0.1, 0.2], [0, 0], 0.5)).toBeNull();
  });

  it('refuses malformed histograms', () => {
    expect(() => percentileFromHistogram([0.2, 0.1], [1, 1], 0.5)).toThrow(RangeError);
    expect(() => percentileFromHistogram([0.1], [1, 1, 1], 0.5)).toThrow(RangeError);
    expect(() => percentileFromHistogram([0.1], [-1], 0.5)).toThrow(RangeError);
    expect(() => percentileFromHistogram([0.1], [1], 1.5)).toThrow(RangeError);
    expect(() => percentileFromHistogram([], [], 0.5)).toThrow(RangeError);
  });
});
