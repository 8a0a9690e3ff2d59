import { createHash } from 'node:crypto';
import {
  addCounts,
  anyRemoved,
  contentHash,
  keptDecisionFields,
  nextBatchWanted,
  planErasureJobs,
  NO_REMOVALS,
  purgeReason,
  removeAiOutput,
  REMOVED,
  removeFreeText,
  removeHumanFreeText,
  removeInput,
  removeRoutingPayload,
  retentionCutoffs,
  retentionEnabled,
  scrubModelError,
} from './retention';

const triage = {
  comparator: { fields: { category: { match: 'exact' as const, caseInsensitive: false }, priority: { match: 'exact' as const, caseInsensitive: false } } },
  decision: { schema: {}, labelField: 'category', criticalClasses: [] },
};
const triageV2 = {
  comparator: { fields: { category: { match: 'exact' as const, caseInsensitive: false }, team: { match: 'exact' as const, caseInsensitive: false } } },
  decision: { schema: {}, criticalClasses: [{ field: 'escalation', value: 'legal', minDetectableDrop: 0.2, target: 0.8 }] },
};

describe('the cut-off of a retention', () => {
  const now = new Date('2026-12-01T00:00:00Z');

  it('is now minus the days, for inputs and model output apart', () => {
    const c = retentionCutoffs({ inputDays: 90, modelOutputDays: 30 }, now);
    expect(c.inputs).toEqual(new Date('2026-09-02T00:00:00Z'));
    expect(c.modelOutputs).toEqual(new Date('2026-11-01T00:00:00Z'));
  });

  it('takes fractions of a day', () => {
    expect(retentionCutoffs({ inputDays: 0.5, modelOutputDays: null }, now).inputs).toEqual(new Date('2026-11-30T12:00:00Z'));
  });

  it('is off at 0 days or none, and the schedule with it when both are off', () => {
    expect(retentionCutoffs({ inputDays: 0, modelOutputDays: null }, now)).toEqual({ inputs: null, modelOutputs: null });
    expect(retentionEnabled({ inputDays: 0, modelOutputDays: 0 })).toBe(false);
    expect(retentionEnabled({ inputDays: 0, modelOutputDays: 7 })).toBe(true);
    expect(retentionEnabled({ inputDays: 90, modelOutputDays: null })).toBe(true);
  });
});

describe('the decision fields statistics keep', () => {
  it('are the compared fields, the label field and the critical classes’ fields of every version', () => {
    expect(keptDecisionFields([triage])).toEqual(['category', 'priority']);
    expect(keptDecisionFields([triage, triageV2])).toEqual(['category', 'escalation', 'priority', 'team']);
    expect(keptDecisionFields([])).toEqual([]);
  });
});

describe('removing free text from a decision', () => {
  it('replaces every field that is not kept, keeps the keys, the kept values and nulls', () => {
    const d = { category: 'billing', priority: 'high', reply: 'Dear Ada Lovelace, …', amount: 12.5, dueDate: null };
    expect(removeFreeText(d, ['category', 'priority'])).toEqual({ category: 'billing', priority: 'high', reply: REMOVED, amount: REMOVED, dueDate: null });
  });

  it('does not change the decision it was given, and removes it twice the same way', () => {
    const d = { category: 'billing', reply: 'hi' };
    const once = removeFreeText(d, ['category']);
    expect(d.reply).toBe('hi');
    expect(removeFreeText(once, ['category'])).toEqual(once);
  });

  it('leaves a missing decision missing', () => {
    expect(removeFreeText(null, ['category'])).toBeNull();
  });
});

describe('an AI decision after removal', () => {
  it('keeps labels and the self-reported confidence, drops the raw answer and the quoted part of the error, hashes what was there', () => {
    const row = { id: '7', decision: { category: 'billing', priority: 'high', reply: 'Dear Ada', confidence: 0.93 }, rawOutput: null, error: null };
    const r = removeAiOutput(row, keptDecisionFields([triage]));
    expect(r).toEqual({
      id: '7',
      decision: { category: 'billing', priority: 'high', reply: REMOVED, confidence: 0.93 },
      rawOutput: null,
      error: null,
      outputSha256: contentHash({ decision: row.decision, rawOutput: null, error: null }),
    });
  });

  it('of an invalid answer: no decision, no raw text, the error without the quote', () => {
    const row = {
      id: '8',
      decision: null,
      rawOutput: '{"reply": "Dear Ada',
      error: 'invalid output: not JSON (Unterminated string in JSON at position 17: "Dear Ada)',
    };
    const r = removeAiOutput(row, ['category']);
    expect(r.decision).toBeNull();
    expect(r.rawOutput).toBeNull();
    expect(r.error).toBe('invalid output: not JSON');
    expect(r.outputSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps an error that quotes nothing', () => {
    expect(scrubModelError('model call failed: timeout')).toBe('model call failed: timeout');
    expect(scrubModelError(null)).toBeNull();
  });
});

describe("a person's decision after removal", () => {
  it('keeps what was compared and hashes the whole decision', () => {
    const decision = { category: 'returns', priority: 'low', reply: 'Thanks for reaching out — we are on it.' };
    expect(removeHumanFreeText({ id: '3', decision }, ['category', 'priority'])).toEqual({
      id: '3',
      decision: { category: 'returns', priority: 'low', reply: REMOVED },
      decisionSha256: contentHash(decision),
    });
  });
});

describe("a work item's input after removal", () => {
  it('is empty, and its hash is SHA-256 of the canonical JSON (keys sorted) anyone holding the input can recompute', () => {
    const input = { subject: 'Charged twice', customer: { name: 'Ada', email: 'ada@example.org' } };
    const expected = createHash('sha256').update('{"customer":{"email":"ada@example.org","name":"Ada"},"subject":"Charged twice"}').digest('hex');
    expect(removeInput({ id: '1', input })).toEqual({ id: '1', input: {}, inputSha256: expected });
    expect(contentHash({ subject: 'Charged twice', customer: { email: 'ada@example.org', name: 'Ada' } })).toBe(expected);
  });
});

describe('a routing event kept in the outbox', () => {
  it('loses the free text of its decision and nothing else', () => {
    const payload = {
      itemId: 'i1',
      action: 'suggest',
      confidence: 0.9,
      decision: { category: 'billing', priority: 'high', reply: 'Dear Ada', confidence: 0.9 },
    };
    expect(removeRoutingPayload(payload, ['category', 'priority'])).toEqual({
      ...payload,
      decision: { category: 'billing', priority: 'high', reply: REMOVED, confidence: 0.9 },
    });
  });

  it('without a decision (an alert) is left as it is', () => {
    const alert = { kind: 'guard.revert', workflow: 'w' };
    expect(removeRoutingPayload(alert, ['category'])).toBe(alert);
  });
});

describe('batches of a purge run', () => {
  const policy = { batchSize: 100, maxBatchesPerRun: 3 };

  it('go on while batches come back full', () => {
    expect(nextBatchWanted(100, 1, policy)).toBe(true);
  });

  it('stop at a short batch: the backlog is done', () => {
    expect(nextBatchWanted(99, 1, policy)).toBe(false);
    expect(nextBatchWanted(0, 1, policy)).toBe(false);
  });

  it("stop at the run's limit, and the next run goes on", () => {
    expect(nextBatchWanted(100, 3, policy)).toBe(false);
  });
});

describe('the counts of a run', () => {
  it('add up, and a run that removed nothing says so', () => {
    const a = { inputs: 2, aiOutputs: 1, humanDecisions: 0, routingEvents: 1 };
    expect(addCounts(a, a)).toEqual({ inputs: 4, aiOutputs: 2, humanDecisions: 0, routingEvents: 2 });
    expect(anyRemoved(NO_REMOVALS)).toBe(false);
    expect(anyRemoved(a)).toBe(true);
  });

  it('come with a reason that states the policy', () => {
    expect(purgeReason({ inputDays: 90, modelOutputDays: 0 })).toBe(
      "retention: inputs and people's free text older than 90 days; model free text kept (retention off)",
    );
  });
});

describe("an erasure and the item's AI jobs", () => {
  it('waits for a call in flight, whose answer would otherwise land after it', () => {
    expect(
      planErasureJobs([
        { id: '1', state: 'completed' },
        { id: '2', state: 'processing' },
      ]),
    ).toEqual({ kind: 'in-flight', running: 1 });
  });

  it('skips the jobs not started yet and leaves finished ones', () => {
    const jobs = ['pending', 'retrying', 'completed', 'failed', 'skipped'].map((state, i) => ({ id: String(i), state }));
    expect(planErasureJobs(jobs)).toEqual({ kind: 'go', skip: ['0', '1'] });
    expect(planErasureJobs([])).toEqual({ kind: 'go', skip: [] });
  });
});
