import { BetaPrior, logMixtureMartingale } from './confidence-sequence';

/*
 * E-values: evidence against a null hypothesis whose expectation under the null is at most 1, so
 * P(E ≥ 1/α) ≤ α (Markov), and — for an e-process such as a test martingale — at every look at
 * once (Ville). Unlike p-values they combine across segments without assumptions about their
 * dependence (e-BH), and they stay valid however often anyone looks.
 *
 * References: Vovk & Wang (2021) "E-values: calibration, combination and applications", Annals of
 * Statistics 49:1736–1754; Wang & Ramdas (2022) "False discovery rate control with e-values",
 * JRSS B 84:822–852; Waudby-Smith & Ramdas (2024) "Estimating means of bounded random variables by
 * betting", JRSS B 86:1–27.
 */

/**
 * The e-process against "the agreement rate is at most `target`" after `successes` of `n`: the
 * beta-binomial mixture martingale (the gate's confidence sequence) at the null rate most
 * favourable to the data, min over p ≤ target of M_t(p) = M_t(min(target, successes / n)). Under
 * any true rate p ≤ target it is at most M_t(p), a martingale with expectation 1. It reaches 1/α
 * exactly when the gate's sequence puts its lower bound above the target.
 */
export function agreementEValue(successes: number, n: number, target: number, prior: BetaPrior): number {
  if (!(target > 0 && target < 1)) throw new RangeError(`agreementEValue: target must be strictly between 0 and 1, got ${target}`);
  if (n === 0) return 1;
  const rate = Math.min(target, successes / n);
  if (rate <= 0) return Math.exp(logMixtureMartingale(successes, n, Number.MIN_VALUE, prior));
  return Math.exp(logMixtureMartingale(successes, n, rate, prior));
}

export interface EbhResult {
  /** Per hypothesis, in the order given: rejected (a discovery: promote). */
  rejected: boolean[];
  /** How many were rejected, and the e-value each needed (K / (α k*); Infinity when none). */
  discoveries: number;
  threshold: number;
}

/**
 * The e-BH procedure (Wang & Ramdas 2022): with K e-values, reject the k* largest, where k* is the
 * largest k such that the k-th largest e-value is at least K / (α k). The expected share of false
 * discoveries among the discoveries stays at most α·K0/K ≤ α under any dependence between them.
 */
export function eBenjaminiHochberg(eValues: readonly number[], alpha: number): EbhResult {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`eBenjaminiHochberg: alpha must be strictly between 0 and 1, got ${alpha}`);
  const K = eValues.length;
  eValues.forEach((e, i) => {
    if (!(e >= 0)) throw new RangeError(`eBenjaminiHochberg: e-values must be non-negative, got ${e} at ${i}`);
  });
  const order = eValues.map((e, i) => ({ e, i })).sort((a, b) => b.e - a.e);
  let kStar = 0;
  for (let k = 1; k <= K; k++) if (order[k - 1].e >= K / (alpha * k)) kStar = k;
  const rejected = new Array<boolean>(K).fill(false);
  for (let k = 0; k < kStar; k++) rejected[order[k].i] = true;
  return { rejected, discoveries: kStar, threshold: kStar > 0 ? K / (alpha * kStar) : Infinity };
}

/** One blind double-labelled item: did the AI agree with the first person, did the second person. */
export interface ParityPair {
  ai: boolean;
  human: boolean;
}

export interface ParityTest {
  n: number;
  aiAgree: number;
  humanAgree: number;
  /** AI agreement − human agreement on the same items (null with none). */
  difference: number | null;
  margin: number;
  /** The e-process against "the AI is worse than people by the margin or more" after every pair. */
  eValue: number;
  /** Its largest value after any pair: what someone looking after every pair could have seen. */
  peakEValue: number;
  /** 1 − α: non-inferiority is shown when eValue ≥ 1/α. */
  confidence: number;
  nonInferior: boolean;
}

/**
 * Paired non-inferiority of the AI to people, valid under continuous monitoring. On each item two
 * people decided blind, X = [AI agrees with the first person], Y = [the second person does]; the
 * null is E[X − Y] ≤ −margin. W = (X − Y + 1) / 2 lies in [0, 1] with null mean at most
 * m = (1 − margin) / 2, and the capital process K_t = Π (1 + λ_i (W_i − m)) with λ_i chosen from
 * the pairs before i (the predictable plug-in of Waudby-Smith & Ramdas 2024, eq. 26–27, capped at
 * 1/(2m) so capital never goes negative) is a non-negative supermartingale under the null: the
 * chance it ever reaches 1/α is at most α. Pairs must be given in the order they became known.
 */
export function pairedNonInferiority(pairs: readonly ParityPair[], margin: number, confidence = 0.95): ParityTest {
  if (!(margin >= 0 && margin < 1)) throw new RangeError(`pairedNonInferiority: margin must be within [0, 1), got ${margin}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`pairedNonInferiority: confidence must be strictly between 0 and 1, got ${confidence}`);
  const m = (1 - margin) / 2;
  const alpha = 1 - confidence;
  const cap = 0.5 / m;
  let logK = 0;
  let peak = 0;
  let sum = 0.5; // the plug-in mean and variance start from a prior of one observation at 1/2, variance 1/4
  let sumSq = 0.25;
  let aiAgree = 0;
  let humanAgree = 0;
  pairs.forEach((p, index) => {
    const t = index + 1;
    const mean = sum / t;
    const variance = sumSq / t;
    const lambda = Math.min(cap, Math.sqrt((2 * Math.log(1 / alpha)) / (variance * t * Math.log(t + 1))));
    const w = ((p.ai ? 1 : 0) - (p.human ? 1 : 0) + 1) / 2;
    logK += Math.log1p(lambda * (w - m));
    peak = Math.max(peak, logK);
    sumSq += (w - mean) ** 2;
    sum += w;
    if (p.ai) aiAgree++;
    if (p.human) humanAgree++;
  });
  const n = pairs.length;
  const eValue = Math.exp(logK);
  return {
    n,
    aiAgree,
    humanAgree,
    difference: n > 0 ? (aiAgree - humanAgree) / n : null,
    margin,
    eValue,
    peakEValue: Math.exp(peak),
    confidence,
    nonInferior: eValue >= 1 / alpha,
  };
}
