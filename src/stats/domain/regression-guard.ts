/*
 * The regression guard: has the live stage's agreement dropped below its baseline?
 *
 * The controller looks at the numbers every cycle, forever. Re-running a fixed-sample test (e.g.
 * "is the Wilson upper bound below baseline?") on every look inflates false alarms without bound —
 * with enough looks, noise always crosses the line once, and a flapping revert is worse than none.
 * A CUSUM is built for exactly this continuous monitoring (Page 1954, "Continuous inspection
 * schemes", Biometrika 41:100–115). For Bernoulli outcomes (Reynolds & Stoumbos 1999, "A CUSUM chart
 * for monitoring a proportion when inspecting continuously", J. Quality Technology 31:87–108):
 *
 *   each comparison adds its log-likelihood ratio of "agreement is p1" against "agreement is p0":
 *     agree → ln(p1/p0) < 0,  disagree → ln((1 − p1)/(1 − p0)) > 0;
 *   S = max(0, S + increment);  alarm when S ≥ h.
 *
 * S is the strongest evidence for a drop in any window ending now, so it is also a repeated
 * sequential probability ratio test that restarts whenever the evidence returns to zero. Among all
 * procedures with the same false-alarm rate it detects a drop to p1 fastest (Moustakides 1986).
 *
 * Batches: updates arrive as counts since the previous update, without their order, so S is floored
 * at zero between batches only. That is the CUSUM of the batch sums: at batch ends it never exceeds
 * the one-comparison-at-a-time statistic, so it raises no more false alarms, and it is slower by at
 * most about one batch.
 *
 * Choosing h: `guardArl` computes the average number of comparisons until an alarm at any true
 * agreement rate (Brook & Evans 1972 Markov-chain method), and `guardThresholdFor` finds the h whose
 * in-control ARL reaches a target. The chance of a false alarm within m comparisons is then about
 * 1 − exp(−m/ARL₀) (`falseAlarmProbability`).
 *
 * Defaults: DEFAULT_GUARD_DROP = 0.06 and DEFAULT_GUARD_TARGET_ARL0 = 500,000 comparisons. For a
 * baseline of 0.92 that gives p1 = 0.86, h = 8.85, ARL₀ ≈ 504,000 and ARL at 0.82 ≈ 190 (Markov
 * chain), i.e. P(false alarm in a 2,000-comparison segment-day) ≈ 0.4 %. Measured by
 * `simulateGuard` (regression-guard-simulation.spec.ts, 1,000 segment-days of 2,000 comparisons at
 * 0.92, then 1,000 drops to 0.82 after a 500-comparison warm-up):
 *   - one comparison per update: false alarms on 0.3 % of days; delay median 163, p95 311;
 *   - 50 comparisons per update:  false alarms on 0.4 % of days; delay median 200, p95 350.
 * A smaller drop (0.05) or larger h catch less noise and react later; the ARL functions show the trade.
 *
 * The baseline matters: ARL₀ assumes the healthy rate really is p0. If it is one point lower
 * (0.91 for a 0.92 baseline) the default guard's ARL falls to ~38,000 comparisons (a false alarm
 * on ~5 % of such days). Estimate the baseline on plenty of data, or pass a conservative one
 * (e.g. its Wilson lower bound).
 */

/** The guard's hypotheses and threshold: baseline p0, the drop worth catching (to p1), threshold h. */
export interface GuardParams {
  /** Baseline agreement rate (what the stage showed when it was promoted). */
  p0: number;
  /** The lowered agreement the guard is tuned to catch fastest; 0 < p1 < p0 < 1. */
  p1: number;
  /** Alarm threshold on the CUSUM statistic (in nats of evidence). */
  h: number;
}

/** Serialisable guard state (plain JSON numbers), stored between evaluations. */
export interface GuardState {
  /** The CUSUM statistic S ≥ 0. */
  s: number;
  /** Comparisons and agreements seen since the guard started. */
  n: number;
  agree: number;
  /**
   * The current window: comparisons since S last left zero. windowStartIndex counts comparisons
   * before it (0-based index of its first comparison), which the caller maps to a time through its
   * rollups, e.g. to find `auto` decisions to re-review after a revert.
   */
  windowStartIndex: number;
  windowN: number;
  windowAgree: number;
}

/** Comparisons since the previous update. */
export interface GuardBatch {
  n: number;
  agree: number;
}

export interface GuardUpdate {
  state: GuardState;
  /** S ≥ h: revert. */
  breached: boolean;
  /** S after this batch, and the threshold it is compared with. */
  statistic: number;
  threshold: number;
  /** The baseline (p0) and the drop it was tuned for (p1), to show beside the observed window. */
  baseline: number;
  alternative: number;
  /** Log-likelihood ratio this batch added before flooring at zero. */
  batchEvidence: number;
  /** The window since S last left zero: where the evidence for a drop has been accumulating. */
  window: { startIndex: number; n: number; agree: number; rate: number | null };
}

export const DEFAULT_GUARD_DROP = 0.06;
export const DEFAULT_GUARD_TARGET_ARL0 = 500_000;

export function initialGuardState(): GuardState {
  return { s: 0, n: 0, agree: 0, windowStartIndex: 0, windowN: 0, windowAgree: 0 };
}

/** The log-likelihood ratio each comparison adds: negative for an agreement, positive for a disagreement. */
export function guardIncrements(params: Pick<GuardParams, 'p0' | 'p1'>): { agree: number; disagree: number } {
  assertRates(params.p0, params.p1);
  return { agree: Math.log(params.p1 / params.p0), disagree: Math.log((1 - params.p1) / (1 - params.p0)) };
}

/**
 * Adds one batch to the guard. Pure: returns the next state; a breach is reported every time S is
 * at or above h, so after reverting the caller starts again from `initialGuardState()`.
 */
export function updateGuard(state: GuardState, batch: GuardBatch, params: GuardParams): GuardUpdate {
  const { n: batchN, agree: batchAgree } = batch;
  if (!Number.isInteger(batchN) || !Number.isInteger(batchAgree) || batchAgree < 0 || batchAgree > batchN) {
    throw new RangeError(`updateGuard: batch must have integer 0 ≤ agree ≤ n, got ${batch.agree} of ${batch.n}`);
  }
  if (!(params.h > 0)) throw new RangeError(`updateGuard: h must be positive, got ${params.h}`);
  const increments = guardIncrements(params);
  const batchEvidence = batch.agree * increments.agree + (batch.n - batch.agree) * increments.disagree;
  const s = Math.max(0, state.s + batchEvidence);
  const n = state.n + batch.n;
  const agree = state.agree + batch.agree;

  let windowStartIndex: number;
  let windowN: number;
  let windowAgree: number;
  if (s === 0) {
    // Evidence is back to zero: no window is open; the next one starts after this batch.
    windowStartIndex = n;
    windowN = 0;
    windowAgree = 0;
  } else if (state.s === 0) {
    windowStartIndex = state.n; // S has just left zero in this batch
    windowN = batch.n;
    windowAgree = batch.agree;
  } else {
    windowStartIndex = state.windowStartIndex;
    windowN = state.windowN + batch.n;
    windowAgree = state.windowAgree + batch.agree;
  }

  return {
    state: { s, n, agree, windowStartIndex, windowN, windowAgree },
    breached: s >= params.h,
    statistic: s,
    threshold: params.h,
    baseline: params.p0,
    alternative: params.p1,
    batchEvidence,
    window: {
      startIndex: windowStartIndex,
      n: windowN,
      agree: windowAgree,
      rate: windowN === 0 ? null : windowAgree / windowN,
    },
  };
}

/**
 * Guard parameters for a baseline: p1 = baseline − drop and h from the target in-control ARL.
 * A baseline of exactly 1 is capped at 0.999 — otherwise one disagreement would be infinite
 * evidence. Computing h takes a few milliseconds; do it when the baseline is set, not every cycle.
 */
export function defaultGuardParams(baseline: number, options: { drop?: number; targetArl0?: number } = {}): GuardParams {
  const drop = options.drop ?? DEFAULT_GUARD_DROP;
  const targetArl0 = options.targetArl0 ?? DEFAULT_GUARD_TARGET_ARL0;
  if (!(baseline > 0 && baseline <= 1)) {
    throw new RangeError(`defaultGuardParams: baseline must be within (0, 1], got ${baseline}`);
  }
  const p0 = Math.min(baseline, 0.999);
  // Rounded so that 0.92 − 0.06 reads 0.86, not 0.8600000000000001, wherever it is shown.
  const p1 = Math.round((p0 - drop) * 1e12) / 1e12;
  if (!(p1 > 0)) throw new RangeError(`defaultGuardParams: baseline ${baseline} is too low to detect a drop of ${drop}`);
  return { p0, p1, h: guardThresholdFor(p0, p1, targetArl0) };
}

/**
 * Guard parameters for a baseline that was itself estimated: p0 is the estimate and p1 = p0 − drop
 * (the CUSUM tuned to the drop that matters), while h is raised until the in-control ARL reaches
 * `targetArl0` even if the true baseline were as low as `baselineLower` (e.g. the estimate's lower
 * confidence bound). A baseline measured on few labels thus costs detection speed, never false
 * reverts. With baselineLower = p0 it is `defaultGuardParams`.
 */
export function guardParamsForEstimate(estimate: number, baselineLower: number, options: { drop?: number; targetArl0?: number } = {}): GuardParams {
  const base = defaultGuardParams(estimate, options);
  const floor = Math.min(baselineLower, base.p0);
  if (!(floor > base.p1)) {
    throw new RangeError(`guardParamsForEstimate: the baseline's lower bound ${floor} is not above the rate to detect ${base.p1}: too few labels to guard`);
  }
  if (floor >= base.p0) return base;
  const targetArl0 = options.targetArl0 ?? DEFAULT_GUARD_TARGET_ARL0;
  const lattice = latticeFor(base.p0, base.p1);
  let low = Math.max(0, Math.floor(base.h / lattice.step) - 1);
  let high = Math.max(low + 1, Math.ceil(base.h / lattice.step));
  while (latticeArl(floor, lattice, high) < targetArl0) {
    low = high;
    high *= 2;
    if (high * lattice.step > 200) throw new RangeError(`guardParamsForEstimate: no threshold reaches ARL ${targetArl0} at ${floor}`);
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (latticeArl(floor, lattice, middle) >= targetArl0) high = middle;
    else low = middle;
  }
  return { p0: base.p0, p1: base.p1, h: Math.max(base.h, Math.ceil(high * lattice.step * 100) / 100) };
}

/**
 * Average run length: the expected number of comparisons until the guard alarms, starting from
 * S = 0, when the true agreement rate is `rate` and the guard is updated one comparison at a time.
 * At rate = p0 it is the in-control ARL₀ (false alarms); below p0 it is the detection delay.
 *
 * Brook & Evans (1972), "An approach to the probability distribution of CUSUM run length",
 * Biometrika 59:539–549: S is rounded to a fine lattice, which makes the guard a Markov chain with
 * states 0 … H−1, and the ARL solves (I − Q)·arl = 1. Increments move S by +U or −D lattice steps,
 * so the system is banded and is solved in O(H·D·U). The rounding makes it an approximation: within
 * a few per cent of simulation (see the spec), which is ample for choosing h.
 */
export function guardArl(rate: number, params: GuardParams): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`guardArl: rate must be within [0, 1], got ${rate}`);
  const lattice = latticeFor(params.p0, params.p1);
  return latticeArl(rate, lattice, Math.max(1, Math.ceil(params.h / lattice.step - 1e-9)));
}

/**
 * The threshold h whose in-control ARL (at p0) reaches `targetArl0` comparisons, rounded up to two
 * decimals. Lorden (1971) gives ARL₀ ≥ e^h for this statistic, so h = ln(targetArl0) always suffices
 * and bounds the search from above.
 */
export function guardThresholdFor(p0: number, p1: number, targetArl0: number): number {
  assertRates(p0, p1);
  if (!(targetArl0 > 1)) throw new RangeError(`guardThresholdFor: targetArl0 must be above 1, got ${targetArl0}`);
  const upper = Math.log(targetArl0);
  const lattice = latticeFor(p0, p1);
  // ARL₀ only changes at lattice points, so search over the integer lattice threshold H.
  let low = 0; // ARL at H = low is below target (H = 0 alarms at once)
  let high = Math.ceil(upper / lattice.step); // ARL here is at least the target
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (latticeArl(p0, lattice, middle) >= targetArl0) high = middle;
    else low = middle;
  }
  return Math.ceil(high * lattice.step * 100) / 100;
}

/** P(at least one false alarm within `comparisons`), treating alarms as a Poisson process at rate 1/ARL₀. */
export function falseAlarmProbability(arl0: number, comparisons: number): number {
  return 1 - Math.exp(-comparisons / arl0);
}

interface Lattice {
  step: number;
  /** Lattice steps up for a disagreement and down for an agreement. */
  up: number;
  down: number;
}

/**
 * A lattice fine enough that the rounded increments keep their ratio to within ~1 %, and coarse
 * enough that the banded solve stays around 2e7 operations even for extreme rates (the cap assumes
 * h ≤ 16, i.e. ARL₀ up to ~1e7). It depends on p0 and p1 only, so guardArl and guardThresholdFor
 * see the same chain.
 */
function latticeFor(p0: number, p1: number): Lattice {
  const { agree, disagree } = guardIncrements({ p0, p1 });
  const upSize = disagree;
  const downSize = -agree;
  const step = Math.max(Math.min(upSize, downSize) / 20, Math.cbrt((16 * upSize * downSize) / 2e7));
  return { step, up: Math.max(1, Math.round(upSize / step)), down: Math.max(1, Math.round(downSize / step)) };
}

/** ARL from state 0 of the lattice chain with states 0 … states−1 (alarm at ≥ states). */
function latticeArl(rate: number, lattice: Lattice, states: number): number {
  const { up, down } = lattice;
  const width = down + up + 1;
  // Band storage: row i holds columns i − down … i + up at offsets 0 … width − 1.
  const band = new Float64Array(states * width);
  const at = (i: number, j: number) => i * width + (j - i + down);
  const rhs = new Float64Array(states).fill(1);
  for (let s = 0; s < states; s++) {
    band[at(s, s)] += 1;
    band[at(s, Math.max(0, s - down))] -= rate; // agreement: down, floored at 0
    if (s + up < states) band[at(s, s + up)] -= 1 - rate; // disagreement: up, or alarm
  }
  // Gaussian elimination without pivoting: I − Q is a non-singular M-matrix, so it is stable.
  for (let k = 0; k < states; k++) {
    const pivot = band[at(k, k)];
    const lastRow = Math.min(states - 1, k + down);
    const lastColumn = Math.min(states - 1, k + up);
    for (let i = k + 1; i <= lastRow; i++) {
      const factor = band[at(i, k)] / pivot;
      if (factor === 0) continue;
      for (let j = k; j <= lastColumn; j++) band[at(i, j)] -= factor * band[at(k, j)];
      rhs[i] -= factor * rhs[k];
    }
  }
  const arl = new Float64Array(states);
  for (let i = states - 1; i >= 0; i--) {
    let sum = rhs[i];
    const lastColumn = Math.min(states - 1, i + up);
    for (let j = i + 1; j <= lastColumn; j++) sum -= band[at(i, j)] * arl[j];
    arl[i] = sum / band[at(i, i)];
  }
  return arl[0];
}

function assertRates(p0: number, p1: number): void {
  if (!(p1 > 0 && p1 < p0 && p0 < 1)) {
    throw new RangeError(`guard rates must satisfy 0 < p1 < p0 < 1, got p0 = ${p0}, p1 = ${p1}`);
  }
}
