import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorkflowFile } from '../../workflows/domain/workflow-file';
import { confidenceFromLogprobs, topLevelValueSpans } from './logprob-confidence';
import { buildModelRequest, estimateMaxTokens } from './model-request';
import { parseModelOutput } from './parse-output';
import { backoffMs, costOf, decideRetry, parseRetryAfter } from './retry-policy';

const [triage] = parseWorkflowFile(readFileSync(join(__dirname, '../../../config/workflows.yaml'), 'utf8'), 'workflows.yaml').map((v) => v.definition);

const item = {
  itemId: 'T-1',
  segment: 'email|eu',
  attributes: { channel: 'email', region: 'eu' },
  input: { subject: 'Charged twice', body: 'I was charged twice', customer: { name: 'Ada', email: 'ada@example.com', phone: '+44 1' } },
};

describe('buildModelRequest', () => {
  it('redacts before rendering, adds the confidence field and hashes what the model sees', () => {
    const { request, inputHash } = buildModelRequest(triage, item);
    expect(request.user).toContain('Charged twice');
    expect(request.user).not.toContain('ada@example.com');
    expect(request.user).not.toContain('+44 1');
    expect(request.user).toContain('[redacted]');
    expect((request.schema.required as string[]).slice(-1)).toEqual(['confidence']);
    expect(request.wantLogprobs).toBe(true);
    expect(request.model).toBe('gpt-4o-mini');
    expect(inputHash).toMatch(/^[0-9a-f]{64}$/);
    const other = buildModelRequest(triage, { ...item, input: { ...item.input, customer: { ...item.input.customer, email: 'bob@example.com' } } });
    expect(other.inputHash).toBe(inputHash); // the redacted field never reaches the model, so it cannot change the hash
    expect(triage.decision.schema.required).not.toContain('confidence'); // the workflow's own schema is untouched
  });

  it('does not ask for a confidence field when confidence comes only from logprobs', () => {
    const { request } = buildModelRequest({ ...triage, model: { ...triage.model, confidence: 'logprobs' } }, item);
    expect(request.schema.properties).not.toHaveProperty('confidence');
    expect(estimateMaxTokens(request).completion).toBe(400);
  });
});

describe('parseModelOutput', () => {
  const schema = triage.decision.schema;
  it('accepts a valid answer and splits off the confidence', () => {
    expect(parseModelOutput('{"category":"billing","priority":"high","reply":"Sorry","confidence":0.8}', schema, true)).toEqual({
      ok: true,
      decision: { category: 'billing', priority: 'high', reply: 'Sorry' },
      selfConfidence: 0.8,
    });
  });
  it('names what is wrong with an invalid answer', () => {
    expect(parseModelOutput('{"category":"billing"', schema, true)).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid output: not JSON/) });
    expect(parseModelOutput('{"category":"refunds","priority":"high","reply":"x","confidence":0.5}', schema, true)).toMatchObject({
      ok: false,
      error: expect.stringContaining('/category must be equal to one of the allowed values'),
    });
    expect(parseModelOutput('{"category":"billing","reply":"x","confidence":0.5}', schema, true)).toMatchObject({
      ok: false,
      error: expect.stringContaining("must have required property 'priority'"),
    });
    expect(parseModelOutput('{"category":"billing","priority":"high","reply":"x","confidence":7}', schema, true)).toEqual({
      ok: false,
      error: 'invalid output: confidence must be a number between 0 and 1',
    });
    expect(parseModelOutput('[]', schema, false)).toEqual({ ok: false, error: 'invalid output: not a JSON object' });
    expect(parseModelOutput(null, schema, false)).toEqual({ ok: false, error: 'invalid output: empty answer' });
  });
});

describe('confidenceFromLogprobs', () => {
  const content = '{"category": "billing", "priority":"high","reply":"Sorry, we will fix it."}';
  it('finds the spans of top-level values', () => {
    const spans = topLevelValueSpans(content, ['category', 'reply']);
    expect(spans.map(([s, e]) => content.slice(s, e))).toEqual(['"billing"', '"Sorry, we will fix it."']);
    expect(topLevelValueSpans('{"a":{"b":"}"},"c":[1,2],"d":true}', ['a', 'c', 'd']).length).toBe(3);
  });
  it('multiplies the probabilities of the tokens that spell the compared values', () => {
    const tokens = [
      { token: '{"category": "', logprob: -0.0001 },
      { token: 'bill', logprob: Math.log(0.9) },
      { token: 'ing', logprob: 0 },
      { token: '", "priority":"', logprob: -0.0001 },
      { token: 'high', logprob: Math.log(0.5) },
      { token: '","reply":"Sorry, we will fix it."}', logprob: Math.log(0.01) },
    ];
    // Tokens that only carry quotes and keys (`", "priority":"`, `","reply"…`) are not charged to the values.
    const c = confidenceFromLogprobs(content, tokens, ['category', 'priority']);
    expect(c).toBeCloseTo(0.9 * 0.5, 9);
  });
  it('gives null when logprobs are absent or do not spell the content', () => {
    expect(confidenceFromLogprobs(content, null, ['category'])).toBeNull();
    expect(confidenceFromLogprobs(content, [{ token: '{}', logprob: 0 }], ['category'])).toBeNull();
  });
});

describe('retry policy', () => {
  it('backs off exponentially with jitter, capped, honouring Retry-After', () => {
    expect(backoffMs(1, 500, 30_000, 0)).toBe(250);
    expect(backoffMs(1, 500, 30_000, 0.999)).toBe(500);
    expect(backoffMs(4, 500, 30_000, 1)).toBe(4000);
    expect(backoffMs(20, 500, 30_000, 1)).toBe(30_000);
    expect(backoffMs(1, 500, 30_000, 0, 7000)).toBe(7000);
  });
  it('retries transient failures until attempts run out, never client errors', () => {
    expect(decideRetry({ kind: 'rate_limited', message: '', retryAfterMs: 2000 }, 1, 4, 500, 30_000, 0.5)).toEqual({ action: 'retry', delayMs: 2000 });
    expect(decideRetry({ kind: 'timeout', message: '' }, 4, 4, 500, 30_000, 0.5)).toEqual({ action: 'fail' });
    expect(decideRetry({ kind: 'client_error', message: '' }, 1, 4, 500, 30_000, 0.5)).toEqual({ action: 'fail' });
  });
  it('reads Retry-After as seconds or a date', () => {
    const now = new Date('2026-11-23T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
  it('prices calls from the table', () => {
    expect(
      costOf('gpt-4o-mini', { promptTokens: 1_000_000, completionTokens: 500_000 }, { 'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 } }),
    ).toEqual({ costUsd: 0.45, priced: true });
    expect(costOf('x', { promptTokens: 1, completionTokens: 1 }, {})).toEqual({ costUsd: 0, priced: false });
  });
});
