import type { JsonSchema } from './json-schema';
import { ModelState } from './model-state';
import { parseChatRequest, type ChatRequest } from './openai-wire';
import { parseScenario } from './scenario';
import { simulateChat, type SimulatedReply } from './simulate-chat';

const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['category', 'priority', 'confidence'],
  properties: {
    category: { type: 'string', enum: ['billing', 'technical', 'account'] },
    priority: { type: 'string', enum: ['low', 'normal', 'high'] },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
  },
};
const truth = { category: 'billing', priority: 'high' };

function request(extra: Record<string, unknown> = {}, ticket = 'T-1'): ChatRequest {
  return parseChatRequest({
    model: 'm',
    messages: [
      { role: 'system', content: 'Triage the ticket.' },
      { role: 'user', content: JSON.stringify({ ticket, simulation: { truth, segment: 'email|eu' } }) },
    ],
    response_format: { type: 'json_schema', json_schema: { name: 'triage', schema } },
    ...extra,
  });
}

function reply(scenario: Record<string, unknown>, req: ChatRequest = request(), state = new ModelState('m', 100, 7)): SimulatedReply {
  let seq = 0;
  return simulateChat(req, { raw: true }, state, parseScenario(scenario), { nowMs: Date.parse('2026-01-01T00:00:00Z'), nextSeq: () => ++seq });
}

function content(r: SimulatedReply): string {
  return (r.payload as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
}

describe('simulateChat', () => {
  it('answers with the planted truth after the scenario latency when accuracy is 1', () => {
    const r = reply({ accuracy: 1, latencyMs: 40 });
    expect(r.status).toBe(200);
    expect(r.delayMs).toBe(40);
    expect(JSON.parse(content(r))).toMatchObject(truth);
    expect(r.record).toMatchObject({ segment: 'email|eu', outcome: 'ok', status: 200, accuracy: 1, finishReason: 'stop', body: { raw: true } });
  });

  it('corrupts one field of the truth when accuracy is 0', () => {
    const r = reply({ accuracy: 0 });
    const answer = JSON.parse(content(r)) as Record<string, unknown>;
    expect(r.record.outcome).toBe('wrong');
    expect(['category', 'priority']).toContain(r.record.corruptedField);
    expect(answer[r.record.corruptedField!]).not.toBe(truth[r.record.corruptedField as keyof typeof truth]);
  });

  it('answers an injected 429 at once, with Retry-After, whatever the latency', () => {
    const r = reply({ latencyMs: 500, errors: { rate429: 1, retryAfterSeconds: 2.5 } });
    expect(r).toMatchObject({ status: 429, delayMs: 0, headers: { 'retry-after': '3', 'retry-after-ms': '2500' } });
    expect(r.record).toMatchObject({ outcome: '429', status: 429 });
  });

  it('holds a simulated hang for hangMs, then answers 504', () => {
    const r = reply({ errors: { rateHang: 1, hangMs: 1234 } });
    expect(r).toMatchObject({ status: 504, delayMs: 1234 });
    expect(r.record.outcome).toBe('hang');
  });

  it('truncates to max_tokens and says so in finish_reason', () => {
    const r = reply({ accuracy: 1 }, request({ max_tokens: 3 }));
    const choice = (r.payload as { choices: Array<{ finish_reason: string }> }).choices[0]!;
    expect(choice.finish_reason).toBe('length');
    expect(r.record.finishReason).toBe('length');
    expect((r.payload as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(3);
  });

  it('gives a seeded request the same answer whatever the model answered before', () => {
    const state = new ModelState('m', 100, 7);
    const first = reply({ accuracy: 0.5 }, request({ seed: 42 }), state);
    for (let i = 0; i < 5; i++) reply({ accuracy: 0.5 }, request({}, `T-${i + 2}`), state);
    const again = reply({ accuracy: 0.5 }, request({ seed: 42 }), state);
    expect(content(again)).toBe(content(first));
  });

  it('switches to the drifted accuracy after the given number of requests', () => {
    const state = new ModelState('m', 100, 7);
    const scenario = { accuracy: 1, drift: [{ afterRequests: 2, accuracy: 0 }] };
    const outcomes = [1, 2, 3, 4].map((i) => reply(scenario, request({}, `T-${i}`), state).record.outcome);
    expect(outcomes).toEqual(['ok', 'ok', 'wrong', 'wrong']);
  });
});

describe('drift without labels', () => {
  // the support-triage decision (config/workflows.yaml), whose label field is `category`
  const categories = ['billing', 'technical', 'account', 'shipping', 'returns', 'other'];
  const priorities = ['low', 'normal', 'high', 'urgent'];
  const triageSchema: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['category', 'priority', 'reply', 'confidence'],
    properties: {
      category: { type: 'string', enum: categories },
      priority: { type: 'string', enum: priorities },
      reply: { type: 'string' },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
    },
  };
  const steady = { accuracy: 0.92, confidence: { correctMean: 0.9, wrongMean: 0.6, spread: 0.1 } };
  const drifted = {
    ...steady,
    drift: [
      { afterRequests: 1000, accuracy: 0.7, confidence: { correctMean: 0.8, wrongMean: 0.5 }, answerBias: { field: 'category', value: 'other', share: 0.8 } },
    ],
  };

  interface Seen {
    confidence: number;
    category: unknown;
    outcome: string;
  }

  /** 2,000 answers of one seeded model to tickets whose true categories are spread evenly. */
  function answers(scenario: Record<string, unknown>): Seen[] {
    const state = new ModelState('triage-model', 10, 2026);
    const parsed = parseScenario(scenario);
    let seq = 0;
    return Array.from({ length: 2000 }, (_, i) => {
      const req = parseChatRequest({
        model: 'triage-model',
        messages: [
          { role: 'user', content: JSON.stringify({ ticket: `T-${i}`, simulation: { truth: { category: categories[i % 6], priority: priorities[i % 4] } } }) },
        ],
        response_format: { type: 'json_schema', json_schema: { name: 'triage', schema: triageSchema } },
      });
      const r = simulateChat(req, {}, state, parsed, { nowMs: 0, nextSeq: () => ++seq });
      return { confidence: r.record.confidence!, category: (JSON.parse(content(r)) as { category: unknown }).category, outcome: r.record.outcome };
    });
  }

  const summary = (seen: Seen[]) => ({
    meanConfidence: seen.reduce((s, a) => s + a.confidence, 0) / seen.length,
    otherShare: seen.filter((a) => a.category === 'other').length / seen.length,
    agreement: seen.filter((a) => a.outcome === 'ok').length / seen.length,
  });

  /**
   * Expected share of "other" among the answers: a ticket that is "other" keeps it unless the answer
   * is wrong on category (half the wrong answers: two decision fields); any other ticket gets it from
   * the bias, or from an unbiased wrong answer that picks category and then "other" of 5 other values.
   */
  const expectedOtherShare = (accuracy: number, share: number) =>
    (1 / 6) * (1 - (1 - accuracy) / 2) + (5 / 6) * (1 - accuracy) * (share + (1 - share) * (1 / 2) * (1 / 5));

  const steadyRun = answers(steady);
  const driftedRun = answers(drifted);

  it('answers exactly as without drift until the entry is due', () => {
    expect(driftedRun.slice(0, 1000)).toEqual(steadyRun.slice(0, 1000));
  });

  it('lowers confidence, shifts the answer mix towards the biased category and loses agreement after it', () => {
    const before = summary(driftedRun.slice(0, 1000));
    const after = summary(driftedRun.slice(1000));
    // expected means: 0.92×0.9 + 0.08×0.6 ≈ 0.876 (a little less, clipped at 0.999) → 0.7×0.8 + 0.3×0.5 = 0.71
    expect(before.meanConfidence - after.meanConfidence).toBeGreaterThan(0.14);
    // expected 0.167 → 0.347; ±0.05 is more than 2.5 standard errors of the difference of two shares of 1,000
    const expectedRise = expectedOtherShare(0.7, 0.8) - expectedOtherShare(0.92, 0);
    expect(expectedRise).toBeCloseTo(0.18, 2);
    expect(after.otherShare - before.otherShare).toBeGreaterThan(expectedRise - 0.05);
    expect(after.otherShare).toBeCloseTo(expectedOtherShare(0.7, 0.8), 1);
    expect(before.agreement).toBeCloseTo(0.92, 1);
    expect(after.agreement).toBeCloseTo(0.7, 1);
  });

  it('changes nothing without a drift entry', () => {
    const before = summary(steadyRun.slice(0, 1000));
    const after = summary(steadyRun.slice(1000));
    expect(Math.abs(after.meanConfidence - before.meanConfidence)).toBeLessThan(0.02);
    expect(Math.abs(after.otherShare - before.otherShare)).toBeLessThan(0.04);
    expect(after.otherShare).toBeCloseTo(expectedOtherShare(0.92, 0), 1);
    expect(Math.abs(after.agreement - before.agreement)).toBeLessThan(0.04);
  });
});
