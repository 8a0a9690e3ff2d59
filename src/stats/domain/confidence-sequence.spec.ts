import { confidenceSequence, lnGamma, logMixtureMartingale, priorCentredOn, sequenceExcludes, sequenceSamplesNeeded } from './confidence-sequence';
import { seededRandom } from './random';
import { wilsonInterval } from './wilson-interval';

describe('ln Γ', () => {
  // scipy.special.gammaln
  it.each([
    [0.1, 2.252712651734206],
    [0.5, 0.5723649429247],
    [1, 0],
    [2.5, 0.2846828704729192],
    [10, 12.801827480081469],
    [123.4, 469.3360974421906],
    [1e6, 12815504.569147611],
    [1e7 + 0.5, 151180957.42852172],
  ])('ln Γ(%p) matches scipy', (x, expected) => {
    expect(lnGamma(x)).toBeCloseTo(expected, Math.abs(expected) > 1e6 ? 5 : 12);
  });

  it('refuses a non-positive argument', () => {
    expect(() => lnGamma(0)).toThrow(/positive/);
  });
});

describe('the beta-binomial confidence sequence', () => {
  // Reference: the roots of ln M_t(p) = ln(1/α) found by scipy.optimize.brentq on
  // scipy.special.betaln (the same closed form, Howard et al. 2021, computed independently).
  it.each([
    [92, 100, 0.95, 0.9, 20, 0.8231903113298837, 0.9746482450221085],
    [276, 300, 0.95, 0.9, 20, 0.8655784823849718, 0.9582827296788919],
    [920, 1000, 0.95, 0.9, 20, 0.8902292796690785, 0.9442448929125973],
    [9200, 10000, 0.95, 0.5, 20, 0.9028729047085281, 0.9351486349171213],
    [50, 100, 0.9, 0.5, 2, 0.3550880736941389, 0.644911926305861],
    [0, 10, 0.95, 0.5, 20, 0, 0.5672015075222587],
    [10, 10, 0.95, 0.9, 20, 0.6797418483538177, 1],
    [1, 1, 0.9, 0.85, 20, 0.08499999999999995, 1],
  ])('%p of %p at %p (prior mean %p, weight %p) matches scipy', (s, n, conf, centre, weight, lower, upper) => {
    const cs = confidenceSequence(s, n, conf, priorCentredOn(centre, weight));
    expect(cs.lower).toBeCloseTo(lower, 9);
    expect(cs.upper).toBeCloseTo(upper, 9);
    expect(cs.lower).toBeLessThanOrEqual(lower + 1e-12); // rounded outwards, never tighter
  });

  it('is wider than the fixed-sample Wilson interval, the price of looking at any time', () => {
    const cs = confidenceSequence(920, 1000, 0.95, priorCentredOn(0.9));
    const w = wilsonInterval(920, 1000, 0.95);
    expect(cs.lower).toBeLessThan(w.lower);
    expect(cs.upper).toBeGreaterThan(w.upper);
  });

  it('says nothing before the first observation', () => {
    expect(confidenceSequence(0, 0, 0.95)).toMatchObject({ rate: null, lower: 0, upper: 1 });
  });

  it('refuses counts that cannot be', () => {
    expect(() => confidenceSequence(5, 4)).toThrow(/within \[0, n\]/);
    expect(() => confidenceSequence(1.5, 4)).toThrow(/integer/);
    expect(() => confidenceSequence(1, 4, 1)).toThrow(/confidence/);
  });

  it('excludes a rate exactly when the bound has passed it', () => {
    const prior = priorCentredOn(0.9);
    const cs = confidenceSequence(920, 1000, 0.95, prior);
    expect(sequenceExcludes(920, 1000, cs.lower - 1e-6, 0.95, prior)).toBe(true);
    expect(sequenceExcludes(920, 1000, cs.lower + 1e-6, 0.95, prior)).toBe(false);
    expect(sequenceExcludes(920, 1000, cs.upper + 1e-6, 0.95, prior)).toBe(true);
  });

  it('the mixture is 1 before any data and its e-value grows against a wrong rate', () => {
    const prior = priorCentredOn(0.9);
    expect(logMixtureMartingale(0, 0, 0.9, prior)).toBeCloseTo(0, 12);
    expect(logMixtureMartingale(800, 1000, 0.9, prior)).toBeGreaterThan(Math.log(1e6));
  });

  describe('under continuous monitoring (the reason it exists)', () => {
    // 250 runs of 4,000 Bernoulli(0.9) trials, looking after every trial.
    const runs = 250;
    const length = 4000;
    const crossings = (passes: (s: number, n: number) => boolean) => {
      const random = seededRandom(20261130);
      let crossed = 0;
      for (let r = 0; r < runs; r++) {
        let s = 0;
        for (let n = 1; n <= length; n++) {
          if (random.next() < 0.9) s++;
          if (passes(s, n)) {
            crossed++;
            break;
          }
        }
      }
      return crossed / runs;
    };

    it('keeps the chance that its lower bound ever passes the true rate under α', () => {
      const prior = priorCentredOn(0.9);
      expect(crossings((s, n) => s / n > 0.9 && sequenceExcludes(s, n, 0.9, 0.95, prior))).toBeLessThanOrEqual(0.05);
    });

    it('where a Wilson bound re-computed at every look passes it several times as often', () => {
      expect(crossings((s, n) => wilsonInterval(s, n, 0.95).lower > 0.9)).toBeGreaterThan(0.1);
    });
  });
});

describe('samples needed under the sequence', () => {
  it('is the first n whose lower bound reaches the target at the observed rate', () => {
    const prior = priorCentredOn(0.9);
    const n = sequenceSamplesNeeded(0.95, 0.9, 0.95, prior)!;
    expect(confidenceSequence(Math.ceil(0.95 * n), n, 0.95, prior).lower).toBeGreaterThanOrEqual(0.9 - 1e-3);
    expect(confidenceSequence(Math.floor(0.95 * (n - 20)), n - 20, 0.95, prior).lower).toBeLessThan(0.9);
  });

  it('is null when the rate is not above the target', () => {
    expect(sequenceSamplesNeeded(0.9, 0.9, 0.95, priorCentredOn(0.9))).toBeNull();
  });
});
