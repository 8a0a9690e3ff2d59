import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock';
import type { WorkflowDefinition, WorkflowVersion } from '../../workflows/domain/workflow-definition';
import { parseWorkflowFile } from '../../workflows/domain/workflow-file';
import type { ModelAnswer } from '../decision-model';
import type { CallOutcome, ClaimedJob, FinishedJob } from './job';
import { BudgetGate, createJobPipeline, Reservation, RetrySettings } from './job-pipeline';
import type { ModelRequest } from './model-request';
import type { CallFailure } from './retry-policy';

const [shipped] = parseWorkflowFile(readFileSync(join(__dirname, '../../../config/workflows.yaml'), 'utf8'), 'workflows.yaml').map((v) => v.definition);
/** The shipped triage workflow, its confidence self-reported so that answers need no logprobs. */
const triage: WorkflowDefinition = { ...shipped, model: { ...shipped.model, confidence: 'self-reported' } };
const version: WorkflowVersion = { workflow: triage.name, version: 1, role: 'champion', definition: triage, definitionHash: 'h' };

const settings: RetrySettings = {
  maxAttempts: 3,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  circuitResetMs: 30_000,
  prices: { [triage.model.name]: { inputPerMillion: 1, outputPerMillion: 2 } },
};

const job = (over: Partial<ClaimedJob> = {}): ClaimedJob => ({
  id: '7',
  workflow: triage.name,
  itemId: 'T-1',
  version: 1,
  attempts: 1,
  segment: 'email|eu',
  attributes: { channel: 'email', region: 'eu' },
  input: { subject: 'Charged twice', body: 'I was charged twice', customer: { name: 'Ada', email: 'ada@example.com', phone: '+44 1' } },
  receivedAt: new Date('2026-01-01T00:00:00Z'),
  ...over,
});

const answer = (content: string | null, over: Partial<ModelAnswer> = {}): ModelAnswer => ({
  content,
  logprobs: null,
  promptTokens: 120,
  completionTokens: 30,
  latencyMs: 400,
  ...over,
});
const VALID = '{"category":"billing","priority":"high","reply":"Sorry, we will refund you.","confidence":0.8}';

/** The budget: answers what it is told to, records reservations and their ends. */
class FakeBudget implements BudgetGate {
  answer: Reservation | Error = { ok: true };
  readonly reserved: Array<{ tokens: number; cost: number }> = [];
  readonly released: Array<{ tokens: number; cost: number; actual?: { tokens: number; cost: number } }> = [];
  async reserve(_def: WorkflowDefinition, tokens: number, cost: number): Promise<Reservation> {
    if (this.answer instanceof Error) throw this.answer;
    this.reserved.push({ tokens, cost });
    return this.answer;
  }
  release(_workflow: string, tokens: number, cost: number, actual?: { tokens: number; cost: number }): void {
    this.released.push({ tokens, cost, actual });
  }
}

/** The model: answers or throws what it is told to, and records the requests it got. */
class FakeModel {
  next: ModelAnswer | Error = answer(VALID);
  readonly requests: ModelRequest[] = [];
  async call(_v: WorkflowVersion, request: ModelRequest): Promise<ModelAnswer> {
    this.requests.push(request);
    if (this.next instanceof Error) throw this.next;
    return this.next;
  }
}

/** An error carrying its classification, as the service's classifier would produce. */
class Failed extends Error {
  constructor(readonly failure: CallFailure) {
    super(failure.message);
  }
}

function fixture(opts: { killSwitch?: boolean | Error; versions?: WorkflowVersion[] } = {}) {
  const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
  const budget = new FakeBudget();
  const model = new FakeModel();
  const calls: Array<{ workflow: string; outcome: CallOutcome }> = [];
  const world = { killSwitch: opts.killSwitch ?? false };
  const versions = opts.versions ?? [version];
  const pipeline = createJobPipeline({
    versions: { version: (w, v) => versions.find((x) => x.workflow === w && x.version === v) },
    killSwitch: {
      killSwitch: async () => {
        if (world.killSwitch instanceof Error) throw world.killSwitch;
        return world.killSwitch;
      },
    },
    budget,
    model,
    classify: (e) => (e instanceof Failed ? e.failure : { kind: 'connection', message: String(e) }),
    metrics: { latency: () => undefined, usage: () => undefined, call: (workflow, outcome) => calls.push({ workflow, outcome }) },
    clock,
    random: () => 0.5,
    settings,
  });
  const at = (ms: number) => new Date(clock.now().getTime() + ms);
  return { pipeline, clock, budget, model, calls, world, at };
}

const kindOf = (f: FinishedJob) => f.kind;

describe('a job whose workflow version is not stored', () => {
  it('fails without calling the model', async () => {
    const { pipeline, model } = fixture({ versions: [] });
    expect(await pipeline.process(job())).toEqual({ kind: 'failed', job: job(), error: `workflow version ${triage.name} v1 is not stored` });
    expect(model.requests).toEqual([]);
  });
});

describe('the kill switch', () => {
  it('skips the job before the budget or the model is asked anything', async () => {
    const { pipeline, model, budget } = fixture({ killSwitch: true });
    expect(await pipeline.process(job())).toEqual({ kind: 'skipped', job: job(), reason: 'kill switch on: the AI is not called' });
    expect(budget.reserved).toEqual([]);
    expect(model.requests).toEqual([]);
  });

  it('unreadable (database away): the AI is not called and the job is retried after its backoff, its attempt given back', async () => {
    const { pipeline, model, budget, at } = fixture({ killSwitch: new Error('terminating connection due to administrator command') });
    expect(await pipeline.process(job({ attempts: 2 }))).toEqual({
      kind: 'retry',
      job: job({ attempts: 2 }),
      error: 'kill switch check failed: terminating connection due to administrator command',
      nextAttemptAt: at(1500),
      refundAttempt: true,
    });
    expect(budget.reserved).toEqual([]);
    expect(model.requests).toEqual([]);
  });
});

describe('the budget', () => {
  it("reserves the call's worst case before calling, and ends the reservation with the actual usage", async () => {
    const { pipeline, budget } = fixture();
    await pipeline.process(job());
    expect(budget.reserved).toHaveLength(1);
    const { tokens, cost } = budget.reserved[0];
    expect(tokens).toBeGreaterThan(triage.model.maxTokens); // the prompt's estimate and every completion token allowed
    expect(budget.released).toEqual([{ tokens, cost, actual: { tokens: 150, cost: (120 * 1 + 30 * 2) / 1e6 } }]);
  });

  it('exhausted: the job is skipped and the model is not called', async () => {
    const { pipeline, budget, model } = fixture();
    budget.answer = { ok: false, wait: false, reason: 'budget exhausted: 1000 of 1000 daily tokens used' };
    expect(await pipeline.process(job())).toEqual({ kind: 'skipped', job: job(), reason: 'budget exhausted: 1000 of 1000 daily tokens used' });
    expect(model.requests).toEqual([]);
  });

  it('held by calls in flight: the job is retried shortly, its attempt given back', async () => {
    const { pipeline, budget, model, at } = fixture();
    budget.answer = { ok: false, wait: true, reason: 'budget held by calls in flight' };
    // first backoff step with the jitter at its middle: 1000 / 2 + 1000 / 2 * 0.5
    expect(await pipeline.process(job({ attempts: 3 }))).toEqual({
      kind: 'retry',
      job: job({ attempts: 3 }),
      error: 'budget held by calls in flight',
      nextAttemptAt: at(750),
      refundAttempt: true,
    });
    expect(model.requests).toEqual([]);
  });

  it('unreadable (database away): the job is retried after its backoff, its attempt given back', async () => {
    const { pipeline, budget, model, at } = fixture();
    budget.answer = new Error('connection terminated');
    expect(await pipeline.process(job({ attempts: 2 }))).toEqual({
      kind: 'retry',
      job: job({ attempts: 2 }),
      error: 'budget check failed: connection terminated',
      nextAttemptAt: at(1500),
      refundAttempt: true,
    });
    expect(model.requests).toEqual([]);
  });
});

describe('a valid answer', () => {
  it('is a decision with its confidence, tokens, cost and latency, from a redacted request', async () => {
    const { pipeline, model, calls } = fixture();
    const f = await pipeline.process(job());
    expect(f).toMatchObject({
      kind: 'decided',
      record: {
        valid: true,
        decision: { category: 'billing', priority: 'high', reply: 'Sorry, we will refund you.' },
        rawOutput: null,
        error: null,
        confidence: 0.8,
        confidenceSource: 'self-reported',
        model: triage.model.name,
        promptVersion: triage.prompt.version,
        promptTokens: 120,
        completionTokens: 30,
        costUsd: 180 / 1e6,
        latencyMs: 400,
        inputHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    });
    expect(model.requests[0].user).not.toContain('ada@example.com');
    expect(calls).toEqual([{ workflow: triage.name, outcome: 'ok' }]);
  });
});

describe('an invalid answer', () => {
  it('is a recorded invalid decision with the raw output and why, never a decision to route', async () => {
    const { pipeline, model, calls } = fixture();
    const content = '{"category":"refunds","priority":"high","reply":"x","confidence":0.5}';
    model.next = answer(content);
    const out = await pipeline.process(job());
    expect(out).toMatchObject({ kind: 'decided', record: { valid: false, decision: null, confidence: null, confidenceSource: 'none', rawOutput: content } });
    expect(out.kind === 'decided' && out.record.error).toMatch(/^invalid output: \/category must be equal to one of the allowed values/);
    expect(calls).toEqual([{ workflow: triage.name, outcome: 'invalid' }]);
  });

  it('is what a decision PostgreSQL cannot store becomes', async () => {
    const { pipeline, model } = fixture();
    const content = '{"category":"billing","priority":"high","reply":"a\\u0000b","confidence":0.5}';
    model.next = answer(content);
    const out = await pipeline.process(job());
    expect(out).toMatchObject({
      kind: 'decided',
      record: { valid: false, rawOutput: content, error: 'invalid output: decision.reply: contains a NUL character (\\u0000), which cannot be stored' },
    });
  });

  it('keeps raw output PostgreSQL can store: NULs replaced, at most 10,000 characters', async () => {
    const { pipeline, model } = fixture();
    model.next = answer(`a\u0000b${'x'.repeat(20_000)}`);
    const out = await pipeline.process(job());
    expect(out.kind === 'decided' && out.record.rawOutput).toBe(`a\uFFFDb${'x'.repeat(9_997)}`);
  });
});

describe('a failed call', () => {
  it('is retried after its backoff while attempts remain, the attempt counted', async () => {
    const { pipeline, model, calls, at } = fixture();
    model.next = new Failed({ kind: 'server_error', message: 'model server error (503)' });
    expect(await pipeline.process(job({ attempts: 1 }))).toEqual({
      kind: 'retry',
      job: job({ attempts: 1 }),
      error: 'model server error (503)',
      nextAttemptAt: at(750),
      refundAttempt: false,
    });
    expect(calls).toEqual([{ workflow: triage.name, outcome: 'server_error' }]);
  });

  it('waits at least as long as the provider asks', async () => {
    const { pipeline, model, at } = fixture();
    model.next = new Failed({ kind: 'rate_limited', message: 'model rate limit (429)', retryAfterMs: 20_000 });
    expect(await pipeline.process(job())).toMatchObject({ kind: 'retry', nextAttemptAt: at(20_000) });
  });

  it('fails once its attempts are spent', async () => {
    const { pipeline, model } = fixture();
    model.next = new Failed({ kind: 'timeout', message: 'model call timed out' });
    expect(await pipeline.process(job({ attempts: 3 }))).toEqual({
      kind: 'failed',
      job: job({ attempts: 3 }),
      error: 'model call timed out (after 3 attempts)',
    });
  });

  it('fails at once when the provider refuses the request', async () => {
    const { pipeline, model } = fixture();
    model.next = new Failed({ kind: 'client_error', message: 'model refused the request (400)' });
    expect(await pipeline.process(job())).toEqual({ kind: 'failed', job: job(), error: 'model refused the request (400) (after 1 attempt)' });
  });

  it('ends the budget reservation without usage', async () => {
    const { pipeline, model, budget } = fixture();
    model.next = new Failed({ kind: 'timeout', message: 'model call timed out' });
    await pipeline.process(job());
    expect(budget.released).toHaveLength(1);
    expect(budget.released[0].actual).toBeUndefined();
  });
});

describe('an open circuit', () => {
  it('retries the job once the circuit may close, the attempt given back: the call never happened', async () => {
    const { pipeline, model, calls, at } = fixture();
    model.next = new Failed({ kind: 'circuit_open', message: 'breaker is open' });
    expect(await pipeline.process(job({ attempts: 3 }))).toEqual({
      kind: 'retry',
      job: job({ attempts: 3 }),
      error: 'model circuit open: call not attempted',
      nextAttemptAt: at(settings.circuitResetMs),
      refundAttempt: true,
    });
    expect(calls).toEqual([{ workflow: triage.name, outcome: 'circuit_open' }]);
  });
});

describe('every outcome', () => {
  it('is returned, never thrown', async () => {
    const kinds: string[] = [];
    for (const next of [answer(VALID), answer('not json'), new Failed({ kind: 'client_error', message: 'x' }), new Error('socket hang up')]) {
      const f = fixture();
      f.model.next = next;
      kinds.push(kindOf(await f.pipeline.process(job())));
    }
    expect(kinds).toEqual(['decided', 'decided', 'failed', 'retry']);
  });
});
