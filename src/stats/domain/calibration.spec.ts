import { calibration, confidenceBinIndex } from './calibration';

describe('confidenceBinIndex', () => {
  it('puts a score in [i/B, (i + 1)/B) and 1.0 in the last bin', () => {
    expect(confidenceBinIndex(0, 20)).toBe(0);
    expect(confidenceBinIndex(0.049, 20)).toBe(0);
    expect(confidenceBinIndex(0.05, 20)).toBe(1);
    expect(confidenceBinIndex(0.9, 20)).toBe(18);
    expect(confidenceBinIndex(0.999, 20)).toBe(19);
    expect(confidenceBinIndex(1, 20)).toBe(19);
  });

  it('refuses scores outside [0, 1] and bad bin counts', () => {
    expect(() => confidenceBinIndex(1.01, 20)).toThrow(RangeError);
    expect(() => confidenceBinIndex(Number.NaN, 20)).toThrow(RangeError);
    expect(() => confidenceBinIndex(0.5, 0)).toThrow(RangeError);
  });
});

describe('calibration', () => {
  it('computes ECE as the count-weighted mean |accuracy − confidence| (worked by hand)', () => {
    // Four bins of width 0.25, midpoints 0.125, 0.375, 0.625, 0.875.
    // Rates: –, 4/10 = 0.40, 18/30 = 0.60, 54/60 = 0.90; gaps: –, +0.025, −0.025, +0.025.
    // ECE = (10·0.025 + 30·0.025 + 60·0.025)/100 = 0.025; MCE = 0.025.
    const result = calibration({ n: [0, 10, 30, 60], agree: [0, 4, 18, 54] });
    expect(result.confidenceSource).toBe('midpoint');
    expect(result.n).toBe(100);
    expect(result.agree).toBe(76);
    expect(result.bins[0]).toMatchObject({ from: 0, to: 0.25, n: 0, rate: null, gap: null, lower: 0, upper: 1 });
    expect(result.bins[1].gap).toBeCloseTo(0.025, 12);
    expect(result.bins[2].gap).toBeCloseTo(-0.025, 12);
    expect(result.bins[3].rate).toBeCloseTo(0.9, 12);
    expect(result.expectedCalibrationError).toBeCloseTo(0.025, 12);
    expect(result.maxCalibrationError).toBeCloseTo(0.025, 12);
  });

  it('uses the mean confidence per bin when the sums are given', () => {
    // Bin 1 holds 10 items with mean confidence 0.92 and 7 agreements: gap 0.7 − 0.92 = −0.22.
    const result = calibration({ n: [0, 10], agree: [0, 7], confidenceSum: [0, 9.2] });
    expect(result.confidenceSource).toBe('mean');
    expect(result.bins[1].meanConfidence).toBeCloseTo(0.92, 12);
    expect(result.bins[1].gap).toBeCloseTo(-0.22, 12);
    expect(result.expectedCalibrationError).toBeCloseTo(0.22, 12);
  });

  it('is zero for a perfectly calibrated model and grows with over-confidence', () => {
    const n = [100, 100, 100, 100, 100];
    const calibrated = calibration({ n, agree: [10, 30, 50, 70, 90] });
    expect(calibrated.expectedCalibrationError).toBeCloseTo(0, 12);
    const overconfident = calibration({ n, agree: [5, 20, 40, 60, 80] });
    expect(overconfident.expectedCalibrationError!).toBeGreaterThan(0.05);
    expect(overconfident.bins.every((bin) => bin.gap! < 0)).toBe(true);
  });

  it('gives each bin a Wilson interval around its rate', () => {
    const result = calibration({ n: [0, 263], agree: [0, 81] });
    // Newcombe (1998): 81/263 → 0.2553 to 0.3662.
    expect(result.bins[1].lower).toBeCloseTo(0.2553, 4);
    expect(result.bins[1].upper).toBeCloseTo(0.3662, 4);
  });

  it('has no ECE without items and refuses mismatched arrays', () => {
    const empty = calibration({ n: [0, 0, 0], agree: [0, 0, 0] });
    expect(empty.expectedCalibrationError).toBeNull();
    expect(empty.maxCalibrationError).toBeNull();
    expect(() => calibration({ n: [1, 2], agree: [1] })).toThrow(RangeError);
    expect(() => calibration({ n: [], agree: [] })).toThrow(RangeError);
    expect(() => calibration({ n: [1], agree: [2] })).toThrow(RangeError);
  });
});
