/**
 * What the MODEL SIMULATOR keeps per model name: its scenario (when it has one of its own), its
 * random streams, the drift counters, counts by outcome and a ring buffer of recorded requests.
 * No I/O.
 */
import { createRng, hashString, type Rng } from './prng';
import type { Scenario } from './scenario';

export const NO_SEGMENT = '(none)';

export const OUTCOMES = ['ok', 'wrong', 'no-truth', 'malformed', '429', '500', 'hang', 'bad-request'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type OutcomeCounts = Record<Outcome, number>;

export interface RecordedRequest {
  seq: number;
  receivedAt: string;
  model: string;
  segment: string | null;
  outcome: Outcome;
  status: number;
  /** Accuracy in force for this request (after segment override and drift). */
  accuracy?: number;
  confidence?: number;
  corruptedField?: string;
  malformedKind?: string;
  finishReason?: 'stop' | 'length';
  /** The content returned (200 responses). */
  content?: string;
  /** The request body exactly as received (parsed JSON). */
  body: unknown;
}

/** A recorded request as the answer logic describes it; the simulator adds seq, time and model. */
export type RecordEntry = Omit<RecordedRequest, 'seq' | 'receivedAt' | 'model'>;

export interface ModelStats {
  model: string;
  total: number;
  outcomes: OutcomeCounts;
  segments: Record<string, OutcomeCounts>;
  /** ok / (ok + wrong): accuracy of the answers that had a truth and were well-formed. */
  observedAccuracy: number | null;
  /** Chat requests since the scenario was set (what drift `afterRequests` counts). */
  requestsSinceScenario: number;
}

class RingBuffer<T> {
  private items: T[] = [];
  private head = 0;
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
    }
  }
  last(limit: number): T[] {
    const ordered = this.head === 0 ? this.items : [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
    return limit >= ordered.length ? [...ordered] : ordered.slice(ordered.length - limit);
  }
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

export class ModelState {
  explicit: Scenario | null = null;
  rng!: Rng;
  answerRng!: Rng;
  latencyRng!: Rng;
  seedBase = 0;
  requestCount = 0;
  segmentCounts = new Map<string, number>();
  total = 0;
  outcomes = emptyCounts();
  segments = new Map<string, OutcomeCounts>();
  recorded: RingBuffer<RecordedRequest>;

  constructor(
    readonly model: string,
    capacity: number,
    seed: number | undefined,
  ) {
    this.recorded = new RingBuffer(capacity);
    this.reseed(seed);
  }

  /** Random streams are a function of (seed, model name). */
  reseed(seed: number | undefined): void {
    this.seedBase = hashString(this.model, seed === undefined ? 0x811c9dc5 : seed >>> 0);
    this.rng = createRng(this.seedBase);
    this.answerRng = createRng(hashString('answer', this.seedBase));
    this.latencyRng = createRng(hashString('latency', this.seedBase));
    this.requestCount = 0;
    this.segmentCounts.clear();
  }

  count(outcome: Outcome, segment: string | null): void {
    this.total++;
    this.outcomes[outcome]++;
    const key = segment ?? NO_SEGMENT;
    let seg = this.segments.get(key);
    if (!seg) this.segments.set(key, (seg = emptyCounts()));
    seg[outcome]++;
  }

  clearRecords(): void {
    this.recorded.clear();
    this.total = 0;
    this.outcomes = emptyCounts();
    this.segments.clear();
  }
}

export function emptyCounts(): OutcomeCounts {
  return { ok: 0, wrong: 0, 'no-truth': 0, malformed: 0, '429': 0, '500': 0, hang: 0, 'bad-request': 0 };
}

/** Counts of `model` by outcome, overall and per segment (zeros for a model never seen). */
export function statsOf(model: string, s: ModelState | undefined): ModelStats {
  const outcomes = s ? { ...s.outcomes } : emptyCounts();
  const judged = outcomes.ok + outcomes.wrong;
  return {
    model,
    total: s?.total ?? 0,
    outcomes,
    segments: s ? Object.fromEntries([...s.segments].map(([k, v]) => [k, { ...v }])) : {},
    observedAccuracy: judged > 0 ? outcomes.ok / judged : null,
    requestsSinceScenario: s?.requestCount ?? 0,
  };
}
