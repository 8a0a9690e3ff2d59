import { distribution, fmt, pct, perSecond, quantile, ratio } from './stats';

describe('bench stats', () => {
  it('takes nearest-rank quantiles', () => {
    const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(quantile(v, 0.5)).toBe(5);
    expect(quantile(v, 0.95)).toBe(10);
    expect(quantile(v, 0.1)).toBe(1);
    expect(quantile([], 0.5)).toBeNull();
    expect(distribution(v)).toMatchObject({ n: 10, min: 1, p50: 5, p99: 10, max: 10, mean: 5.5 });
  });

  it('formats rates, ratios and shares for people', () => {
    expect(perSecond(1000, 500)).toBe(2000);
    expect(ratio(2000, 100)).toBe('20.0×');
    expect(ratio(2, 1.5)).toBe('1.33×');
    expect(ratio(1, 0)).toBe('—');
    expect(fmt(1234567.8)).toBe('1,234,568');
    expect(fmt(12.345)).toBe('12.3');
    expect(fmt(null)).toBe('—');
    expect(pct(0.0123)).toBe('1.2 %');
  });
});
