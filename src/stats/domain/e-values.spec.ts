import { confidenceSequence, priorCentredOn } from './confidence-sequence';
import { agreementEValue, eBenjaminiHochberg, pairedNonInferiority, ParityPair } from './e-values';
import { mulberry32 } from './random';

describe('e-BH across segments', () => {
  it('rejects the k* largest e-values, where the k-th largest reaches K / (α k) (Wang & Ramdas 2022, §3)', () => {
    // K = 5, α = 0.1: the k-th largest must reach 50, 25, 16.7, 12.5, 10.
    expect(eBenjaminiHochberg([8, 100, 1, 30, 0.5], 0.1)).toEqual({ rejected: [false, true, false, true, false], discoveries: 2, threshold: 25 });
    // A step-up: the third largest (17) clears 16.7, so the second (20 < 25) is carried with it.
    expect(eBenjaminiHochberg([20, 17, 60, 2, 1], 0.1).rejected).toEqual([true, true, true, false, false]);
    expect(eBenjaminiHochberg([9, 9, 9], 0.1)).toEqual({ rejected: [false, false, false], discoveries: 0, threshold: Infinity });
    expect(eBenjaminiHochberg([], 0.1).discoveries).toBe(0);
  });

  it('refuses a negative e-value or an α outside (0, 1)', () => {
    expect(() => eBenjaminiHochberg([1, -1], 0.1)).toThrow(/non-negative, got -1 at 1/);
    expect(() => eBenjaminiHochberg([1], 1)).toThrow(/alpha/);
  });

  it('keeps the false-promotion rate among promotions under α where per-segment gates do not (simulated: 40 segments at the target, 10 above)', () => {
    const rnd = mulberry32(2026);
    const target = 0.9;
    const prior = priorCentredOn(target);
    const alpha = 0.1;
    let fdpEbh = 0;
    let fdpPerSegment = 0;
    let trueDiscoveries = 0;
    const families = 300;
    for (let f = 0; f < families; f++) {
      const segments = Array.from({ length: 50 }, (_, i) => ({ good: i >= 40, p: i >= 40 ? 0.95 : target }));
      const e = segments.map((s) => {
        let agree = 0;
        for (let j = 0; j < 600; j++) if (rnd() < s.p) agree++;
        return agreementEValue(agree, 600, target, prior);
      });
      const ebh = eBenjaminiHochberg(e, alpha).rejected;
      const single = e.map((x) => x >= 1 / alpha);
      const fdp = (r: boolean[]) => {
        const d = r.filter(Boolean).length;
        return d === 0 ? 0 : r.filter((x, i) => x && !segments[i].good).length / d;
      };
      fdpEbh += fdp(ebh);
      fdpPerSegment += fdp(single);
      trueDiscoveries += ebh.filter((x, i) => x && segments[i].good).length;
    }
    expect(fdpEbh / families).toBeLessThanOrEqual(alpha);
    expect(fdpPerSegment / families).toBeGreaterThan(fdpEbh / families);
    // Still useful: most segments clearly above the target are promoted.
    expect(trueDiscoveries / (families * 10)).toBeGreaterThan(0.5);
  });
});

describe('the agreement e-value', () => {
  const prior = priorCentredOn(0.9);

  it('reaches 1/α exactly when the gate’s confidence sequence puts its lower bound above the target', () => {
    for (const [agree, n] of [
      [95, 100],
      [290, 300],
      [1850, 2000],
      [1900, 2000],
      [460, 500],
      [0, 10],
      [10, 10],
    ]) {
      const e = agreementEValue(agree, n, 0.9, prior);
      expect(e >= 20).toBe(confidenceSequence(agree, n, 0.95, prior).lower > 0.9);
    }
  });

  it('is 1 with no evidence and small when the rate is below the target', () => {
    expect(agreementEValue(0, 0, 0.9, prior)).toBe(1);
    expect(agreementEValue(800, 1000, 0.9, prior)).toBeLessThan(1);
  });
});

describe('paired non-inferiority to people', () => {
  const pairs = (rnd: () => number, n: number, aiOnly: number, humanOnly: number, both = 0.8): ParityPair[] =>
    Array.from({ length: n }, () => {
      const u = rnd();
      if (u < aiOnly) return { ai: true, human: false };
      if (u < aiOnly + humanOnly) return { ai: false, human: true };
      if (u < aiOnly + humanOnly + both) return { ai: true, human: true };
      return { ai: false, human: false };
    });

  it('multiplies its capital by 1 + λ (W − m) per pair, λ from the pairs before (worked by hand)', () => {
    // margin 0.1: m = 0.45. Pair 1: mean 0.5, variance 0.25, t = 1: λ = min(1/0.9, √(2 ln 20 / (0.25 · ln 2))) = 1/0.9;
    // W = 1 (AI agrees, the second person does not): K = 1 + (1/0.9)(0.55) = 1.6111…
    const r = pairedNonInferiority([{ ai: true, human: false }], 0.1);
    expect(r.eValue).toBeCloseTo(1 + 0.55 / 0.9, 12);
    expect(r).toMatchObject({ n: 1, aiAgree: 1, humanAgree: 0, difference: 1, nonInferior: false });
    expect(pairedNonInferiority([], 0.1)).toMatchObject({ n: 0, eValue: 1, peakEValue: 1, difference: null, nonInferior: false });
  });

  it('shows an AI as good as people non-inferior within a 5-point margin', () => {
    const rnd = mulberry32(7);
    let shown = 0;
    for (let run = 0; run < 200; run++) if (pairedNonInferiority(pairs(rnd, 3000, 0.06, 0.06), 0.05).nonInferior) shown++;
    expect(shown / 200).toBeGreaterThan(0.8);
  });

  it('keeps the chance of ever showing an AI worse by the margin non-inferior under α, looking after every pair', () => {
    const rnd = mulberry32(11);
    const runs = 1000;
    let everShown = 0;
    for (let run = 0; run < runs; run++) {
      // AI agrees 5 points less often than the second person: exactly at the margin.
      if (pairedNonInferiority(pairs(rnd, 2000, 0.05, 0.1), 0.05).peakEValue >= 20) everShown++;
    }
    expect(everShown / runs).toBeLessThanOrEqual(0.05);
  });

  it('refuses a margin outside [0, 1)', () => {
    expect(() => pairedNonInferiority([], 1)).toThrow(/margin/);
  });
});
