import { binomialCdf } from './binomial';

/*
 * Label-free drift monitors: has the distribution of something every item has — the AI's
 * confidence and answer, its invalid-output rate, its latency — moved away from the reference
 * window the stage was promoted on? At confidence-routed 100 % only a few blind audits carry labels;
 * these signals need none, so they can warn long before the regression guard has the labels to act.
 *
 * What is watched: counts per cell of a categorical variable (confidence bin × answer, say), batch
 * after batch. What counts as a shift: a *direction* — a set S of cells whose joint share rises
 * (low confidence on one answer, an answer's share, high latency buckets); a shrinking share is the
 * complement rising. Directions are given by the caller (drift-directions.ts builds the usual ones).
 *
 * The reference is a finite sample, so its shares are estimates. Each direction's null is therefore
 * composite — "p(S) is at most u_S", u_S the one-sided Clopper–Pearson upper bound of the reference
 * count at level (1 − referenceConfidence)/D, D directions, so all D bounds hold at once with
 * probability ≥ referenceConfidence — and each bet is made against the least favourable null, u_S
 * itself (the reverse information projection of the alternative onto that null; Grünwald, de Heide &
 * Koolen 2024, "Safe testing", JRSS B): an item in S multiplies the wealth by q/u_S, an item
 * outside by (1 − q)/(1 − u_S), for an alternative share q > u_S. Under any p(S) ≤ u_S each factor
 * has expectation p·q/u + (1 − p)(1 − q)/(1 − u) ≤ 1, so a reference that happened to come out low
 * cannot turn noise into evidence (the plug-in estimate would: see the spec).
 *
 * Sequential detection with a stated false-alarm rate: the e-detector of Shin, Ramdas & Rinaldo
 * (2024), "E-detectors: a nonparametric framework for sequential change detection", New England
 * Journal of Statistics in Data Science — a Shiryaev–Roberts statistic per (direction, shift), mixed with
 * equal weights:
 *
 *   R ← (R + n)·Π factor   for a batch of n items;   M = Σ w_c R_c;   alarm when M ≥ targetArl0.
 *
 * Each batch starts n new "the change began here" candidates (a batch's order is not stored, so
 * they start at its beginning; weighting the start by n keeps the bound in items whatever the
 * batching). Under the null every factor has expectation ≤ 1, so M − (items so far) is a
 * supermartingale and, by optional stopping, the expected number of items before a false alarm is
 * at least targetArl0 (E[M_τ] ≤ E[τ] and M_τ ≥ targetArl0). The caller restarts the monitor after acting on an
 * alarm, so false alarms come at most once per targetArl0 items in the long run: with 2,000 items a
 * day and targetArl0 = 500,000, at most 4 per 1,000 segment-days. The mixture over shifts and
 * directions costs ln(components) nats of evidence against knowing the shift in advance.
 *
 * Pure: the state is plain JSON numbers; a batch is counts per cell; time is not read.
 */

/** A set of cells whose joint share may rise. */
export interface DriftDirection {
  /** What a person reads, e.g. "confidence < 0.7 · answer other". */
  name: string;
  cells: readonly number[];
}

export interface DriftMonitorOptions {
  /** Names of the cells, in index order (for people). */
  cells: readonly string[];
  /** Items per cell of the reference window. */
  reference: readonly number[];
  directions: readonly DriftDirection[];
  /** Expected items between false alarms is at least this (threshold of the e-detector). */
  targetArl0?: number;
  /** Probability that every direction's reference bound holds (the guarantee is conditional on it). */
  referenceConfidence?: number;
  /** Shifts of a direction's share the mixture bets on, as log-odds increments above its upper bound. */
  shifts?: readonly number[];
}

export const DEFAULT_DRIFT_TARGET_ARL0 = 500_000;
export const DEFAULT_REFERENCE_CONFIDENCE = 0.99;
/** From a 28 % to a sevenfold rise in odds: a 1.7 % reference share betting on 2.2 %, 2.8 %, 4.5 % and 11 %. */
export const DEFAULT_DRIFT_SHIFTS: readonly number[] = [0.25, 0.5, 1, 2];

export interface DriftDirectionParams {
  name: string;
  cells: number[];
  /** Reference items in the direction's cells, their share, and the share's upper bound u. */
  referenceCount: number;
  referenceShare: number;
  upper: number;
}

/** One Shiryaev–Roberts statistic: a direction and the share q it bets the direction rose to. */
export interface DriftComponentParams {
  direction: number;
  alternative: number;
  /** ln(q/u) for an item in the direction, ln((1 − q)/(1 − u)) for one outside. */
  logIn: number;
  logOut: number;
}

/** Serialisable parameters, computed once per reference (like GuardParams). */
export interface DriftMonitorParams {
  cells: string[];
  reference: number[];
  referenceN: number;
  directions: DriftDirectionParams[];
  components: DriftComponentParams[];
  /** Alarm when the mixture Σ w·R reaches this: the expected items between false alarms. */
  targetArl0: number;
  referenceConfidence: number;
}

/** Serialisable state: what the monitor has seen since it (re)started. */
export interface DriftMonitorState {
  n: number;
  /** Items per cell since the start. */
  counts: number[];
  /** Items per cell, exponentially weighted (half-life `RECENT_HALF_LIFE` items): the recent distribution to show. */
  recent: number[];
  /** Shiryaev–Roberts statistic of each component (plain, not logged; 0 ≤ r ≤ 1e300). */
  r: number[];
}

/** The recent distribution people see forgets with this half-life (items); it does not affect the statistic. */
export const RECENT_HALF_LIFE = 500;
const RECENT_DECAY = Math.pow(0.5, 1 / RECENT_HALF_LIFE);
const CEILING = 1e300;

export interface DriftDirectionReading {
  name: string;
  referenceShare: number;
  upper: number;
  /** The direction's share among the recent items (null before any). */
  recentShare: number | null;
  /** The direction's share of the mixture, ln of its weighted statistics (nats; null when zero). */
  evidence: number | null;
  /** The shift with the most evidence: the share it bets on. */
  alternative: number;
}

export interface DriftReading {
  state: DriftMonitorState;
  /** M ≥ targetArl0: the distribution has moved. */
  alarm: boolean;
  /** ln M and ln targetArl0, in nats, for display beside each other (null before any evidence). */
  statistic: number | null;
  threshold: number;
  n: number;
  /** Directions by evidence, strongest first (at most five). */
  leading: DriftDirectionReading[];
}

/**
 * Monitor parameters for a reference window: each direction's upper bound and the components the
 * mixture bets on. Directions whose bound leaves no room to rise (u ≥ 0.999) are dropped.
 */
export function driftMonitorParams(o: DriftMonitorOptions): DriftMonitorParams {
  const targetArl0 = o.targetArl0 ?? DEFAULT_DRIFT_TARGET_ARL0;
  const referenceConfidence = o.referenceConfidence ?? DEFAULT_REFERENCE_CONFIDENCE;
  const shifts = o.shifts ?? DEFAULT_DRIFT_SHIFTS;
  const k = o.cells.length;
  if (o.reference.length !== k) throw new RangeError(`driftMonitorParams: ${k} cells but ${o.reference.length} reference counts`);
  if (!o.reference.every((c) => Number.isInteger(c) && c >= 0)) throw new RangeError('driftMonitorParams: reference counts must be non-negative integers');
  if (!(targetArl0 > 1)) throw new RangeError(`driftMonitorParams: targetArl0 must be above 1, got ${targetArl0}`);
  if (!(referenceConfidence > 0 && referenceConfidence < 1)) {
    throw new RangeError(`driftMonitorParams: referenceConfidence must be strictly between 0 and 1, got ${referenceConfidence}`);
  }
  if (shifts.length === 0 || !shifts.every((s) => s > 0)) throw new RangeError('driftMonitorParams: shifts must be positive log-odds increments');
  if (o.directions.length === 0) throw new RangeError('driftMonitorParams: at least one direction is needed');
  const referenceN = o.reference.reduce((a, b) => a + b, 0);
  if (referenceN === 0) throw new RangeError('driftMonitorParams: the reference window is empty');

  const alpha = (1 - referenceConfidence) / o.directions.length;
  const directions: DriftDirectionParams[] = [];
  const components: DriftComponentParams[] = [];
  for (const d of o.directions) {
    const cells = [...new Set(d.cells)].sort((a, b) => a - b);
    if (cells.length === 0 || cells.some((c) => !Number.isInteger(c) || c < 0 || c >= k)) {
      throw new RangeError(`driftMonitorParams: direction "${d.name}" must name cells 0 … ${k - 1}`);
    }
    const referenceCount = cells.reduce((s, c) => s + o.reference[c], 0);
    const upper = binomialUpperBound(referenceCount, referenceN, alpha);
    if (upper >= 0.999) continue;
    const index = directions.length;
    directions.push({ name: d.name, cells, referenceCount, referenceShare: referenceCount / referenceN, upper });
    const logitUpper = Math.log(upper / (1 - upper));
    for (const shift of shifts) {
      const q = Math.min(0.999, 1 / (1 + Math.exp(-(logitUpper + shift))));
      components.push({ direction: index, alternative: q, logIn: Math.log(q / upper), logOut: Math.log((1 - q) / (1 - upper)) });
    }
  }
  if (components.length === 0) throw new RangeError('driftMonitorParams: no direction can rise above its reference bound');
  return { cells: [...o.cells], reference: [...o.reference], referenceN, directions, components, targetArl0, referenceConfidence };
}

export function initialDriftState(params: DriftMonitorParams): DriftMonitorState {
  const k = params.cells.length;
  return { n: 0, counts: new Array<number>(k).fill(0), recent: new Array<number>(k).fill(0), r: new Array<number>(params.components.length).fill(0) };
}

/** Adds one batch (items per cell since the previous update). Pure: returns the next state and what it shows. */
export function updateDriftMonitor(state: DriftMonitorState, batch: readonly number[], params: DriftMonitorParams): DriftReading {
  const monitor = new DriftMonitor(params, state);
  monitor.observeCounts(batch);
  return monitor.reading();
}

/**
 * The monitor as a mutable object, for callers that feed it item by item (simulations): the same
 * arithmetic as `updateDriftMonitor`, without a copy of the state per item.
 */
export class DriftMonitor {
  private n: number;
  private readonly counts: Float64Array;
  /** The recent counts divided by `recentScale` (the decay is applied to the scale, not to every cell). */
  private readonly recent: Float64Array;
  private recentScale = 1;
  private readonly r: Float64Array;
  private readonly weight: number;
  /** Per cell, per component: the factor an item in that cell multiplies the component's statistic by. */
  private readonly factorByCell: Float64Array[];
  /** Per cell, per component: its log-factor (for batches). */
  private readonly logByCell: Float64Array[];

  constructor(
    readonly params: DriftMonitorParams,
    state: DriftMonitorState = initialDriftState(params),
  ) {
    const k = params.cells.length;
    const m = params.components.length;
    if (state.counts.length !== k || state.recent.length !== k || state.r.length !== m) {
      throw new RangeError('DriftMonitor: the state does not belong to these parameters');
    }
    this.n = state.n;
    this.counts = Float64Array.from(state.counts);
    this.recent = Float64Array.from(state.recent);
    this.r = Float64Array.from(state.r);
    this.weight = 1 / m;
    const inDirection = params.directions.map((d) => new Set(d.cells));
    this.logByCell = [];
    this.factorByCell = [];
    for (let cell = 0; cell < k; cell++) {
      const logs = new Float64Array(m);
      params.components.forEach((c, i) => (logs[i] = inDirection[c.direction].has(cell) ? c.logIn : c.logOut));
      this.logByCell.push(logs);
      this.factorByCell.push(logs.map(Math.exp));
    }
  }

  /** One item in `cell`; returns whether the mixture is at or above the threshold after it. */
  observe(cell: number): boolean {
    const f = this.factorByCell[cell];
    if (f === undefined) throw new RangeError(`DriftMonitor.observe: no cell ${cell}`);
    const r = this.r;
    let m = 0;
    for (let i = 0; i < r.length; i++) {
      const next = (r[i] + 1) * f[i];
      r[i] = next < CEILING ? next : CEILING;
      m += r[i];
    }
    this.n++;
    this.counts[cell]++;
    this.decayRecent(RECENT_DECAY);
    this.recent[cell] += 1 / this.recentScale;
    return m * this.weight >= this.params.targetArl0;
  }

  /** A batch of items per cell whose order is unknown: every start is placed at the batch's beginning. */
  observeCounts(batch: readonly number[]): boolean {
    const k = this.params.cells.length;
    if (batch.length !== k) throw new RangeError(`DriftMonitor: a batch has ${k} counts, got ${batch.length}`);
    if (!batch.every((c) => Number.isInteger(c) && c >= 0)) throw new RangeError('DriftMonitor: batch counts must be non-negative integers');
    const n = batch.reduce((a, b) => a + b, 0);
    if (n === 0) return this.mixture() >= this.params.targetArl0;
    const r = this.r;
    const logFactor = new Float64Array(r.length);
    for (let cell = 0; cell < k; cell++) {
      if (batch[cell] === 0) continue;
      const logs = this.logByCell[cell];
      for (let i = 0; i < r.length; i++) logFactor[i] += batch[cell] * logs[i];
    }
    for (let i = 0; i < r.length; i++) {
      const next = (r[i] + n) * Math.exp(logFactor[i]);
      r[i] = next < CEILING ? next : CEILING;
    }
    this.n += n;
    this.decayRecent(Math.pow(RECENT_DECAY, n));
    for (let cell = 0; cell < k; cell++) {
      this.counts[cell] += batch[cell];
      this.recent[cell] += batch[cell] / this.recentScale;
    }
    return this.mixture() >= this.params.targetArl0;
  }

  private decayRecent(factor: number): void {
    this.recentScale *= factor;
    if (this.recentScale > 1e-100) return;
    for (let c = 0; c < this.recent.length; c++) this.recent[c] *= this.recentScale;
    this.recentScale = 1;
  }

  private recentCounts(): number[] {
    return Array.from(this.recent, (v) => v * this.recentScale);
  }

  /** M = Σ w·R: the e-detector's value (compare with targetArl0). */
  mixture(): number {
    let m = 0;
    for (let i = 0; i < this.r.length; i++) m += this.r[i];
    return m * this.weight;
  }

  state(): DriftMonitorState {
    return { n: this.n, counts: Array.from(this.counts), recent: this.recentCounts(), r: Array.from(this.r) };
  }

  reading(): DriftReading {
    const p = this.params;
    const m = this.mixture();
    const recent = this.recentCounts();
    const recentTotal = recent.reduce((a, b) => a + b, 0);
    const byDirection = p.directions.map((d, index) => {
      let sum = 0;
      let best = -1;
      p.components.forEach((c, i) => {
        if (c.direction !== index) return;
        sum += this.r[i];
        if (best === -1 || this.r[i] > this.r[best]) best = i;
      });
      const recentIn = d.cells.reduce((s, c) => s + recent[c], 0);
      return {
        name: d.name,
        referenceShare: d.referenceShare,
        upper: d.upper,
        recentShare: recentTotal > 0 ? recentIn / recentTotal : null,
        evidence: sum > 0 ? Math.log(sum * this.weight) : null,
        alternative: p.components[best].alternative,
      };
    });
    byDirection.sort((a, b) => (b.evidence ?? -Infinity) - (a.evidence ?? -Infinity));
    return {
      state: this.state(),
      alarm: m >= p.targetArl0,
      statistic: m > 0 ? Math.log(m) : null,
      threshold: Math.log(p.targetArl0),
      n: this.n,
      leading: byDirection.slice(0, 5),
    };
  }
}

/**
 * The one-sided Clopper–Pearson upper bound: the p with P(X ≤ count | n, p) = alpha, so that
 * P(true share > bound) ≤ alpha. Found by bisection on the exact binomial distribution.
 */
export function binomialUpperBound(count: number, n: number, alpha: number): number {
  if (!(Number.isInteger(count) && Number.isInteger(n) && count >= 0 && count <= n && n > 0)) {
    throw new RangeError(`binomialUpperBound: need integers 0 ≤ count ≤ n, n > 0; got ${count} of ${n}`);
  }
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`binomialUpperBound: alpha must be strictly between 0 and 1, got ${alpha}`);
  if (count === n) return 1;
  let low = count / n;
  let high = 1;
  while (high - low > 1e-10) {
    const middle = (low + high) / 2;
    if (binomialCdf(count, n, middle) > alpha) low = middle;
    else high = middle;
  }
  return high;
}
