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
