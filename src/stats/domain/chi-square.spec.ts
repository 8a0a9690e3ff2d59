import { chiSquareSurvival, homogeneityTest, regularizedGammaQ } from './chi-square';

// Reference values from scipy 1.17 (scipy.stats.chi2.sf, scipy.special.gammaincc, chi2_contingency).
describe('the chi-square tail against scipy', () => {
  it('gives the textbook 5 % critical values', () => {
    expect(chiSquareSurvival(3.84, 1)).toBeCloseTo(0.05004352124870519, 12);
    expect(chiSquareSurvival(11.07, 5)).toBeCloseTo(0.050009618622405425, 12);
    expect(chiSquareSurvival(16.919, 9)).toBeCloseTo(0.049999640848349826, 12);
    expect(chiSquareSurvival(77.93, 59)).toBeCloseTo(0.05000413619032933, 12);
  });

  it('is accurate in both branches and far into the tail', () => {
    expect(chiSquareSurvival(0.5, 3)).toBeCloseTo(0.9188914116546758, 12); // series (x/2 < a + 1)
    expect(chiSquareSurvival(0.001, 2)).toBeCloseTo(0.9995001249791693, 12);
    expect(chiSquareSurvival(250, 200)).toBeCloseTo(0.009379131668826098, 12);
    expect(chiSquareSurvival(100, 59) / 0.0006869731108532106).toBeCloseTo(1, 10);
    expect(chiSquareSurvival(30, 2) / 3.0590232050182594e-7).toBeCloseTo(1, 10); // continued fraction, deep tail
    expect(regularizedGammaQ(0.5, 0.1)).toBeCloseTo(0.6547208460185768, 12);
    expect(regularizedGammaQ(3.5, 2)).toBeCloseTo(1 - 0.22022259152428406, 12);
    expect(regularizedGammaQ(30, 45) / 0.007337199297796568).toBeCloseTo(1, 10);
  });
});

describe('Pearson test of homogeneity', () => {
  it('matches scipy chi2_contingency (no continuity correction) on a 2 × 4 table', () => {
    const t = homogeneityTest([120, 90, 40, 30], [30, 40, 20, 25]);
    expect(t.statistic).toBeCloseTo(13.843500702196359, 10);
    expect(t.df).toBe(3);
    expect(t.pValue).toBeCloseTo(0.0031261027752274035, 12);
  });

  it('leaves out categories neither sample has, and finds nothing between equal samples', () => {
    const t = homogeneityTest([10, 0, 20, 30], [20, 0, 40, 60]);
    expect(t.df).toBe(2);
    expect(t.statistic).toBeCloseTo(0, 12);
    expect(t.pValue).toBeCloseTo(1, 12);
  });
});
