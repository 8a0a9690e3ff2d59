import { decidedOutcome, firstAnswers, undecidedOutcomes, usageByWorkflow } from './decision-batch';
import type { ClaimedJob, DecisionRecord, FinishedJob } from './job';

const at = new Date('2026-03-01T10:00:00Z');
const job = (id: string, over: Partial<ClaimedJob> = {}): ClaimedJob => ({
  id,
  workflow: 'triage',
  itemId: `T-${id}`,
  version: 1,
  attempts: 1,
  segment: 'email|eu',
  attributes: {},
  input: {},
  receivedAt: at,
  ...over,
});
const record = (over: Partial<DecisionRecord> = {}): DecisionRecord => ({
  valid: true,
  decision: { queue: 'billing' },
  rawOutput: null,
  error: null,
  confidence: 0.9,
  confidenceSource: 'logprobs',
  inputHash: 'h',
  model: 'm',
  promptVersion: 'p1',
  promptTokens: 100,
  completionTokens: 20,
  costUsd: 0.002,
  latencyMs: 300,
  ...over,
});

describe('the answers a batch stores', () => {
  it('keep only the first answer for an item and version that finished twice', () => {
    const a = { kind: 'decided' as const, job: job('1'), record: record() };
    const late = { kind: 'decided' as const, job: job('1', { attempts: 2 }), record: record({ confidence: 0.1 }) };
    const other = { kind: 'decided' as const, job: job('2'), record: record() };
    const challenger = { kind: 'decided' as const, job: job('3', { itemId: 'T-1', version: 2 }), record: record() };
    expect([...firstAnswers([a, late, other, challenger]).values()]).toEqual([a, other, challenger]);
  });
});

describe("a job's new state", () => {
  it('is completed for a valid answer and failed, with the validation error, for an invalid one', () => {
    expect(decidedOutcome({ kind: 'decided', job: job('1'), record: record() })).toEqual({ id: '1', state: 'completed', error: null });
    expect(decidedOutcome({ kind: 'decided', job: job('2'), record: record({ valid: false, error: 'invalid output: queue missing' }) })).toEqual({
      id: '2',
      state: 'failed',
      error: 'invalid output: queue missing',
    });
  });

  it('is retrying, failed or skipped for jobs without a decision, and skips count as skipped calls', () => {
    const next = new Date('2026-03-01T10:00:05Z');
    const batch: FinishedJob[] = [
      { kind: 'decided', job: job('0'), record: record() },
      { kind: 'retry', job: job('1'), error: 'model circuit open', nextAttemptAt: next, refundAttempt: true },
      { kind: 'failed', job: job('2'), error: 'refused (after 1 attempt)' },
      { kind: 'skipped', job: job('3'), reason: 'kill switch on' },
    ];
    const { outcomes, calls } = undecidedOutcomes(batch, at);
    expect(outcomes).toEqual([
      { id: '1', state: 'retrying', error: 'model circuit open', nextAttemptAt: next, refundAttempt: true },
      { id: '2', state: 'failed', error: 'refused (after 1 attempt)' },
      { id: '3', state: 'skipped', skipReason: 'kill switch on' },
    ]);
    expect(calls).toEqual([
      { workflow: 'triage', segment: 'email|eu', version: 1, at, outcome: 'skipped', promptTokens: 0, completionTokens: 0, costUsd: 0, latencyMs: null },
    ]);
  });

  it('counts a failed call that was billed as a failed call with its usage', () => {
    const usage = { promptTokens: 50, completionTokens: 0, costUsd: 0.001, latencyMs: 900 };
    const { calls } = undecidedOutcomes([{ kind: 'failed', job: job('1'), error: 'x', usage }], at);
    expect(calls).toEqual([{ workflow: 'triage', segment: 'email|eu', version: 1, at, outcome: 'failed', ...usage }]);
  });
});

describe('the usage a batch charges to the budget', () => {
  it('adds up answers and billed failures per workflow', () => {
    const usage = usageByWorkflow([
      { kind: 'decided', job: job('1'), record: record({ promptTokens: 100, completionTokens: 20, costUsd: 0.002 }) },
      { kind: 'decided', job: job('2'), record: record({ promptTokens: 10, completionTokens: 5, costUsd: 0.001 }) },
      {
        kind: 'retry',
        job: job('3', { workflow: 'invoice' }),
        error: 'x',
        nextAttemptAt: at,
        refundAttempt: false,
        usage: { promptTokens: 7, completionTokens: 0, costUsd: 0.0005, latencyMs: null },
      },
      { kind: 'skipped', job: job('4'), reason: 'budget exhausted' },
    ]);
    expect(usage && Object.fromEntries(usage)).toEqual({ triage: { tokens: 135, cost: 0.003 }, invoice: { tokens: 7, cost: 0.0005 } });
  });

  it('is nothing when no call was billed', () => {
    expect(usageByWorkflow([{ kind: 'skipped', job: job('1'), reason: 'kill switch on' }])).toBeNull();
  });
});
