/**
 * The MODEL SIMULATOR seen through the real `openai` SDK: the numbers a scenario sets are the
 * numbers a client observes. Each test uses its own model name, which is what isolates scenarios.
 */
import Ajv from 'ajv';
import OpenAI, { APIConnectionTimeoutError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { ModelSimulator, type ModelStats, type RecordedRequest } from '../../tools/simulator/model-simulator';

const CATEGORIES = ['billing', 'technical', 'account', 'shipping', 'other'] as const;
const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

const triageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['category', 'priority', 'reply', 'confidence'],
  properties: {
    category: { type: 'string', enum: [...CATEGORIES] },
    priority: { type: 'string', enum: [...PRIORITIES] },
    reply: { type: 'string' },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
  },
};
const validate = new Ajv({ strict: false }).compile(triageSchema);

interface Truth {
  category: string;
  priority: string;
}

function truthFor(i: number): Truth {
  return { category: CATEGORIES[i % CATEGORIES.length]!, priority: PRIORITIES[(i * 7) % PRIORITIES.length]! };
}

/** The user message the service would render: the work item's input, as JSON, with its simulation. */
function messagesFor(i: number, segment = 'email|eu'): OpenAI.Chat.ChatCompletionMessageParam[] {
  const input = {
    subject: `Ticket #${i}: problem with my order`,
    body: 'Hello, I was charged twice for order {A-1042}. Please help.',
    simulation: { truth: truthFor(i), segment },
  };
  return [
    { role: 'system', content: 'You triage support tickets. Answer with JSON matching the schema.' },
    { role: 'user', content: `Ticket:\n${JSON.stringify(input)}` },
  ];
}

/**
 * Under jest, fetch's AbortError is a DOMException from another realm, which the SDK's castToError
 * flattens into a nameless Error, so a timeout surfaces as a plain "Connection error." with cause
 * `{}`. Re-throwing it as this realm's Error keeps the name the SDK looks for.
 */
const realmSafeFetch: typeof fetch = (input, init) =>
  fetch(input, init).catch((e: { name?: string; message?: string }) => {
    throw Object.assign(new Error(e.message), { name: e.name });
  });

let simulator: ModelSimulator;
let client: OpenAI;
let controlUrl: string;

beforeAll(async () => {
  simulator = new ModelSimulator();
  const { url } = await simulator.start();
  controlUrl = url.replace(/\/v1$/, '/_simulator');
  // The batches below keep 50 calls in flight, client and simulator in this one process: on a busy
  // machine a call can wait many seconds for its turn, which is not what these tests are about.
  client = new OpenAI({ baseURL: url, apiKey: 'sim', maxRetries: 0, timeout: 180_000, fetch: realmSafeFetch });
});

afterAll(async () => {
  await simulator.stop();
});

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${controlUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

function triage(model: string, i: number, segment?: string, extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> = {}) {
  return client.chat.completions.create({
    model,
    messages: messagesFor(i, segment),
    response_format: { type: 'json_schema', json_schema: { name: 'ticket_triage', schema: triageSchema, strict: true } },
    logprobs: true,
    top_logprobs: 3,
    temperature: 0,
    ...extra,
  });
}

async function pool<T>(count: number, concurrency: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await run(i);
      }
    }),
  );
  return results;
}

type Verdict = 'correct' | 'wrong' | 'invalid-json' | 'schema-violation';

function judge(completion: ChatCompletion, truth: Truth): Verdict {
  let answer: unknown;
  try {
    answer = JSON.parse(completion.choices[0]!.message.content ?? '');
  } catch {
    return 'invalid-json';
  }
  if (!validate(answer)) return 'schema-violation';
  const a = answer as unknown as Truth;
  return a.category === truth.category && a.priority === truth.priority ? 'correct' : 'wrong';
}

/** Agreement within 4 binomial standard deviations of the configured rate. */
function expectRate(observed: number, expected: number, n: number): void {
  const tolerance = 4 * Math.sqrt((expected * (1 - expected)) / n);
  expect(Math.abs(observed - expected)).toBeLessThanOrEqual(tolerance);
}

async function runBatch(model: string, n: number, offset = 0, segment?: string) {
  const verdicts = await pool(n, 50, async (k) => {
    const i = offset + k;
    const completion = await triage(model, i, segment);
    return { verdict: judge(completion, truthFor(i)), completion };
  });
  const count = (v: Verdict) => verdicts.filter((r) => r.verdict === v).length;
  return { verdicts, correct: count('correct'), wrong: count('wrong'), invalidJson: count('invalid-json'), violations: count('schema-violation') };
}

describe('MODEL SIMULATOR through the openai SDK', () => {
  it('answers in the shape of the real API, labelled as a simulator, with usage and logprobs', async () => {
    await control('PUT', '/scenarios/shape', { accuracy: 1, seed: 1 });
    const { data, response } = await triage('shape', 3).withResponse();

    expect(response.headers.get('x-model-simulator')).toBe('true');
    expect(data).toMatchObject({ object: 'chat.completion', model: 'shape', system_fingerprint: 'understudy-model-simulator' });
    const choice = data.choices[0]!;
    expect(choice).toMatchObject({ index: 0, finish_reason: 'stop', message: { role: 'assistant', refusal: null } });
    const answer = JSON.parse(choice.message.content!);
    expect(validate(answer)).toBe(true);
    expect(answer).toMatchObject(truthFor(3));

    const tokens = choice.logprobs!.content!;
    expect(tokens.map((t) => t.token).join('')).toBe(choice.message.content);
    expect(tokens[0]!.top_logprobs).toHaveLength(3);
    expect(tokens[0]!.bytes).toEqual([...Buffer.from(tokens[0]!.token)]);
    // the category value's tokens carry the confidence; everything else is ≈ certain
    const carrier = tokens.filter((t) => t.logprob !== -0.0001);
    expect(carrier.map((t) => t.token).join('')).toBe(answer.category);
    expect(Math.exp(carrier.reduce((s, t) => s + t.logprob, 0))).toBeCloseTo(answer.confidence, 6);

    expect(data.usage!.prompt_tokens).toBeGreaterThan(20);
    expect(data.usage!.completion_tokens).toBe(tokens.length);
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
  });

  it('agrees with the truth at the configured accuracy, with informative confidence', async () => {
    await control('PUT', '/scenarios/accuracy-80', { accuracy: 0.8, seed: 7 });
    const n = 2000;
    const batch = await runBatch('accuracy-80', n);
    expect(batch.invalidJson + batch.violations).toBe(0);
    expectRate(batch.correct / n, 0.8, n);

    const meanConfidence = (v: Verdict) => {
      const xs = batch.verdicts.filter((r) => r.verdict === v).map((r) => JSON.parse(r.completion.choices[0]!.message.content!).confidence);
      return xs.reduce((s, x) => s + x, 0) / xs.length;
    };
    expect(meanConfidence('correct') - meanConfidence('wrong')).toBeGreaterThan(0.2);

    const { json: stats } = await control('GET', '/stats?model=accuracy-80');
    expect(stats).toMatchObject({ total: n, outcomes: { ok: batch.correct, wrong: batch.wrong } });
    expect((stats as ModelStats).segments['email|eu']!.ok).toBe(batch.correct);
  });

  it('applies per-segment accuracy', async () => {
    await control('PUT', '/scenarios/segments', { accuracy: 0.8, segments: { 'email|eu': { accuracy: 0.95 }, 'chat|us': { accuracy: 0.4 } } });
    const n = 600;
    const [email, chat, other] = await Promise.all([
      runBatch('segments', n, 0, 'email|eu'),
      runBatch('segments', n, 0, 'chat|us'),
      runBatch('segments', n, 0, 'phone|apac'),
    ]);
    expectRate(email.correct / n, 0.95, n);
    expectRate(chat.correct / n, 0.4, n);
    expectRate(other.correct / n, 0.8, n);
    const stats = simulator.stats('segments');
    expect(stats.segments['chat|us']).toMatchObject({ ok: chat.correct, wrong: chat.wrong });
  });

  it('returns malformed output at the configured rate: truncated JSON and schema violations', async () => {
    await control('PUT', '/scenarios/malformed', { accuracy: 1, malformedRate: 0.3 });
    const n = 1000;
    const batch = await runBatch('malformed', n);
    const malformed = batch.invalidJson + batch.violations;
    expectRate(malformed / n, 0.3, n);
    expectRate(batch.invalidJson / malformed, 0.5, malformed);
    expect(batch.wrong).toBe(0);
    expect(simulator.stats('malformed').outcomes.malformed).toBe(malformed);
  });

  it('sends 429 with Retry-After, and 500, that the SDK surfaces as its own errors', async () => {
    await control('PUT', '/scenarios/always-429', { errors: { rate429: 1, retryAfterSeconds: 2 } });
    const limited = await triage('always-429', 1).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).status).toBe(429);
    expect((limited as RateLimitError).headers?.get('retry-after')).toBe('2');
    expect((limited as RateLimitError).code).toBe('rate_limit_exceeded');
    expect((limited as RateLimitError).message).toMatch(/MODEL SIMULATOR/);

    await control('PUT', '/scenarios/always-500', { errors: { rate500: 1 } });
    const failed = await triage('always-500', 1).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(InternalServerError);
    expect((failed as InternalServerError).status).toBe(500);

    await control('PUT', '/scenarios/flaky', { errors: { rate429: 0.1, rate500: 0.15 } });
    const n = 1000;
    const outcomes = await pool(n, 50, (i) =>
      triage('flaky', i).then(
        () => 'ok',
        (e: unknown) => (e instanceof RateLimitError ? '429' : e instanceof InternalServerError ? '500' : 'other'),
      ),
    );
    expectRate(outcomes.filter((o) => o === '429').length / n, 0.1, n);
    expectRate(outcomes.filter((o) => o === '500').length / n, 0.15, n);
    expect(outcomes).not.toContain('other');
  });

  it('hangs until the client times out, then lets the request go', async () => {
    await control('PUT', '/scenarios/hang', { errors: { rateHang: 1, hangMs: 20_000 } });
    const impatient = new OpenAI({ baseURL: client.baseURL, apiKey: 'sim', maxRetries: 0, timeout: 300, fetch: realmSafeFetch });
    const started = Date.now();
    const err = await impatient.chat.completions.create({ model: 'hang', messages: messagesFor(1) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(simulator.stats('hang').outcomes.hang).toBe(1);
    for (let i = 0; i < 50 && simulator.pendingResponses() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(simulator.pendingResponses()).toBe(0);
  });

  it('adds latency', async () => {
    await control('PUT', '/scenarios/slow', { latencyMs: { distribution: 'uniform', min: 150, max: 200 } });
    const started = Date.now();
    await triage('slow', 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
  });

  it('gives logprobs only when the provider offers them and they are asked for', async () => {
    await control('PUT', '/scenarios/no-logprobs', { logprobs: false });
    expect((await triage('no-logprobs', 1)).choices[0]!.logprobs).toBeNull();
    await control('PUT', '/scenarios/logprobs', { logprobs: true });
    expect((await triage('logprobs', 1, undefined, { logprobs: false, top_logprobs: undefined })).choices[0]!.logprobs).toBeNull();
    const withLogprobs = await triage('logprobs', 1, undefined, { top_logprobs: 0 });
    expect(withLogprobs.choices[0]!.logprobs!.content!.length).toBeGreaterThan(5);
    expect(withLogprobs.choices[0]!.logprobs!.content![0]!.top_logprobs).toEqual([]);
  });

  it('drifts after N requests, and at runtime through PATCH', async () => {
    await control('PUT', '/scenarios/drift', { accuracy: 0.9, drift: [{ afterRequests: 300, accuracy: 0.3 }] });
    const n = 300;
    const before = await runBatch('drift', n, 0);
    const after = await runBatch('drift', n, n);
    expectRate(before.correct / n, 0.9, n);
    expectRate(after.correct / n, 0.3, n);

    const patched = await control('PATCH', '/scenarios/drift', { drift: [], accuracy: 0.6 });
    expect(patched.json.scenario).toMatchObject({ accuracy: 0.6, drift: [] });
    const later = await runBatch('drift', n, 2 * n);
    expectRate(later.correct / n, 0.6, n);
    expect(simulator.stats('drift').requestsSinceScenario).toBe(3 * n);
  });

  it('records what reached the model', async () => {
    await control('PUT', '/scenarios/recorded', {});
    for (let i = 0; i < 5; i++) await triage('recorded', i);

    const { json } = await control('GET', '/requests?model=recorded&limit=3');
    expect(json.count).toBe(3);
    const requests = json.requests as RecordedRequest[];
    expect(requests.map((r) => (r.body as { messages: unknown }).messages)).toEqual([2, 3, 4].map((i) => messagesFor(i)));
    expect(requests[0]!.body).toMatchObject({ model: 'recorded', logprobs: true, top_logprobs: 3, response_format: { type: 'json_schema' } });
    expect(requests[0]).toMatchObject({ segment: 'email|eu', status: 200, outcome: expect.stringMatching(/^(ok|wrong)$/) });

    await control('DELETE', '/requests?model=recorded');
    expect((await control('GET', '/requests?model=recorded')).json.count).toBe(0);
    expect(simulator.stats('recorded').total).toBe(0);
  });

  it('replays the same outcomes for the same seed', async () => {
    const outcomes = async () => {
      await control('PUT', '/scenarios/seeded', { accuracy: 0.5, seed: 42 });
      const answers: string[] = [];
      for (let i = 0; i < 40; i++) answers.push((await triage('seeded', i)).choices[0]!.message.content!);
      return answers;
    };
    expect(await outcomes()).toEqual(await outcomes());
  });

  it('counts items without ground truth as no-truth and still answers schema-valid', async () => {
    const completion = await client.chat.completions.create({
      model: 'no-truth',
      messages: [{ role: 'user', content: 'Ticket: {"subject": "hello"}' }],
      response_format: { type: 'json_schema', json_schema: { name: 'ticket_triage', schema: triageSchema, strict: true } },
    });
    expect(validate(JSON.parse(completion.choices[0]!.message.content!))).toBe(true);
    expect(simulator.stats('no-truth').outcomes['no-truth']).toBe(1);
  });

  it('refuses streaming and bad bodies with OpenAI-style errors naming the parameter', async () => {
    const streamed = await client.chat.completions.create({ model: 'bad', messages: messagesFor(1), stream: true }).catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(BadRequestError);
    expect((streamed as BadRequestError).param).toBe('stream');

    const missing = await fetch(`${client.baseURL}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'bad' }) });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({
      error: { message: "Missing required parameter: 'messages'.", type: 'invalid_request_error', param: 'messages', code: 'missing_required_parameter' },
    });

    const badRole = await client.chat.completions.create({ model: 'bad', messages: [{ role: 'robot', content: 'x' } as never] }).catch((e: unknown) => e);
    expect((badRole as BadRequestError).param).toBe('messages[0].role');

    const notJson = await fetch(`${client.baseURL}/chat/completions`, { method: 'POST', body: '{"model":' });
    expect(notJson.status).toBe(400);
    // stream, missing messages and bad role named the model; the unparsable body did not
    expect(simulator.stats('bad').outcomes['bad-request']).toBe(3);
  });

  it('validates scenarios through the control API and lists models', async () => {
    const invalid = await control('PUT', '/scenarios/invalid', { errors: { rate429: 1.5 } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error).toMatchObject({ param: 'errors.rate429', code: 'invalid_scenario' });

    const slashName = 'vendor/model-x';
    await control('PUT', `/scenarios/${encodeURIComponent(slashName)}`, { accuracy: 0.7 });
    expect((await control('GET', `/scenarios/${encodeURIComponent(slashName)}`)).json).toMatchObject({
      model: slashName,
      source: 'explicit',
      scenario: { accuracy: 0.7 },
    });
    expect((await control('GET', '/scenarios/never-set')).json).toMatchObject({ source: 'default', scenario: { accuracy: 0.9 } });

    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(expect.arrayContaining([slashName, 'accuracy-80', 'segments']));
  });
});
