/**
 * # MODEL SIMULATOR
 *
 * An OpenAI-compatible HTTP server that Understudy ships for its tests, the demo and benchmarks. It
 * is NOT a model: it answers from the ground truth planted in each work item, right or wrong with a
 * configured probability, so that agreement, calibration, rollout and revert can be exercised
 * against known numbers. Everything it returns says so: every response carries the header
 * `x-model-simulator: true`, completions carry `system_fingerprint: "understudy-model-simulator"`,
 * and its log lines start with `[model-simulator]`.
 *
 * Point the `openai` SDK at it: `new OpenAI({ baseURL: 'http://127.0.0.1:4010/v1', apiKey: 'any' })`.
 *
 * ## Model API (what the service uses)
 * - `POST /v1/chat/completions` — the Chat Completions shape as the SDK sends it: `model`, `messages`,
 *   `response_format` (`json_schema` with `schema`, `json_object`, `text`), `logprobs`,
 *   `top_logprobs`, `max_tokens` / `max_completion_tokens` (exceeding it truncates the content and
 *   sets finish_reason "length"), `temperature`, `top_p`, `seed`. `stream: true` and `n > 1` are
 *   refused with 400; malformed bodies get 400 with an OpenAI-style `{error: {message, type, param,
 *   code}}` naming the parameter.
 * - `GET /v1/models`, `GET /v1/models/:id` — models that have a scenario or have been called.
 *
 * ## Ground truth
 * The last user message must contain the rendered work-item input as JSON with a key
 * `"simulation": {"truth": {...decision fields...}, "segment": "email|eu"}` at its top level (or one
 * level down). See answer.ts. Without it the answer is a schema-valid made-up decision, counted
 * as `no-truth`.
 *
 * ## Scenarios (see scenario.ts)
 * One scenario per model name — tests isolate themselves by using their own model name. Models
 * without one follow the default scenario (set at start, changeable through the control API).
 * Per request, in this order: 429 (rate429, answered at once with Retry-After), 500 (rate500),
 * hang (rateHang: held open for hangMs, then 504; freed if the client goes away), malformed
 * (malformedRate), else an answer that is correct with the accuracy in force (segment override,
 * drift). Latency applies to everything but 429s.
 *
 * Randomness: one seeded stream per model decides errors, malformed output and correctness; latency
 * has a stream of its own so changing latency never changes answers. When a request carries `seed`,
 * the answer (correct or not, which field, confidence) comes from a stream derived from
 * (scenario seed, request seed, messages) — the same request gets the same answer, like a seeded
 * model — while errors still come from the model's stream, so a retried 429 is not doomed.
 *
 * ## Control API (simulator only; JSON in and out)
 * - `PUT    /_simulator/scenarios/:model` — set the scenario (full replace; validated, 400 names
 *   the field). Resets that model's random streams and drift counters.
 * - `PATCH  /_simulator/scenarios/:model` — JSON merge patch (objects merge, arrays replace, null
 *   resets a field), e.g. `{"accuracy": 0.6}` to inject drift now. Keeps streams and counters.
 * - `GET    /_simulator/scenarios/:model` — `{model, source: "explicit"|"default", scenario}`.
 * - `DELETE /_simulator/scenarios/:model` — back to the default scenario.
 * - `GET    /_simulator/scenarios` — the default scenario and every explicit one.
 * - `GET|PUT|PATCH /_simulator/default-scenario` — the scenario of models without their own.
 * - `GET    /_simulator/requests?model=X&limit=N` — the last N recorded requests (full request body,
 *   outcome, segment, accuracy in force, confidence, corrupted field, content), oldest first; a ring
 *   buffer of 20,000 per model by default.
 * - `DELETE /_simulator/requests?model=X` — forget recorded requests and stats (all models when
 *   `model` is omitted). Drift counters are kept: they belong to the scenario.
 * - `GET    /_simulator/stats?model=X` — counts by outcome (ok, wrong, no-truth, malformed, 429, 500,
 *   hang, bad-request), overall and per segment; without `model`, for every model.
 * - `POST   /_simulator/reset` — forget every model, scenario and record; default back to the start one.
 * - `GET    /_simulator/health`.
 *
 * Model names in paths are URL-encoded (`encodeURIComponent`); a raw `/` also works.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { buildAnswer, drawConfidence, extractSimulation, malform, messageText, type AnswerKind } from './answer';
import type { JsonSchema } from './json-schema';
import { createRng, hashString, normal, type Rng } from './prng';
import {
  DEFAULT_SCENARIO,
  ScenarioError,
  accuracyFor,
  flattenIssues,
  mergeScenario,
  parseScenario,
  type Latency,
  type Scenario,
} from './scenario';
import { splitTokens, tokenizeJson, withLogprobs, type Token } from './tokens';

export const SIMULATOR_FINGERPRINT = 'understudy-model-simulator';
const LOG_PREFIX = '[model-simulator]';
const NO_SEGMENT = '(none)';

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

export interface ModelSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  defaultScenario?: Partial<Scenario> | Record<string, unknown>;
  /** Ring buffer size of recorded requests per model. */
  maxRecordedRequests?: number;
  maxBodyBytes?: number;
  /** Where log lines go (default: nowhere). Lines start with `[model-simulator]`. */
  log?: (line: string) => void;
  /** Also log one line per chat request. */
  logRequests?: boolean;
  /** Clock for drift `atTime` (ms since epoch). */
  now?: () => number;
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

class ModelState {
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

function emptyCounts(): OutcomeCounts {
  return { ok: 0, wrong: 0, 'no-truth': 0, malformed: 0, '429': 0, '500': 0, hang: 0, 'bad-request': 0 };
}

// The request as the openai SDK sends it. Loose objects: unknown parameters are accepted and ignored.
const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const chatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
});
const responseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 characters of a-z, A-Z, 0-9, _ or -'),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);
const chatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(chatMessage).min(1),
  response_format: responseFormat.nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  n: z.number().int().min(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
});
type ChatRequest = z.output<typeof chatRequest>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = 'invalid_request_error',
  ) {
    super(message);
  }
}

export class ModelSimulator {
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly capacity: number;
  private readonly maxBodyBytes: number;
  private readonly log: (line: string) => void;
  private readonly logRequests: boolean;
  private readonly now: () => number;
  private readonly startupDefault: Scenario;
  private defaultScenario: Scenario;
  private readonly models = new Map<string, ModelState>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: http.Server | null = null;
  private seq = 0;
  private recordSeq = 0;
  private readonly startedAt = Math.floor(Date.now() / 1000);

  constructor(opts: ModelSimulatorOptions = {}) {
    this.host = opts.host ?? '127.0.0.1';
    this.requestedPort = opts.port ?? 0;
    this.capacity = opts.maxRecordedRequests ?? 20_000;
    this.maxBodyBytes = opts.maxBodyBytes ?? 20 * 1024 * 1024;
    this.log = opts.log ?? (() => undefined);
    this.logRequests = opts.logRequests ?? false;
    this.now = opts.now ?? Date.now;
    this.startupDefault = opts.defaultScenario ? parseScenario(opts.defaultScenario) : DEFAULT_SCENARIO;
    this.defaultScenario = this.startupDefault;
  }

  async start(): Promise<{ url: string; port: number }> {
    if (this.server) throw new Error('model simulator already started');
    const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, (req, res) =>
      this.route(req, res),
    );
    server.headersTimeout = 66_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.requestedPort, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const host = this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`;
    return { url, port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    this.log(`${LOG_PREFIX} stopped`);
  }

  setScenario(model: string, scenario: unknown): Scenario {
    const parsed = parseScenario(scenario);
    const state = this.state(model);
    state.explicit = parsed;
    state.reseed(parsed.seed);
    this.log(`${LOG_PREFIX} scenario set for model "${model}"`);
    return parsed;
  }

  patchScenario(model: string, patch: unknown): Scenario {
    const state = this.state(model);
    const before = state.explicit ?? this.defaultScenario;
    const merged = mergeScenario(before, patch);
    state.explicit = merged;
    if (merged.seed !== before.seed) state.reseed(merged.seed);
    this.log(`${LOG_PREFIX} scenario patched for model "${model}": ${JSON.stringify(patch)}`);
    return merged;
  }

  getScenario(model: string): { scenario: Scenario; source: 'explicit' | 'default' } {
    const explicit = this.models.get(model)?.explicit;
    return explicit ? { scenario: explicit, source: 'explicit' } : { scenario: this.defaultScenario, source: 'default' };
  }

  removeScenario(model: string): void {
    const state = this.models.get(model);
    if (!state) return;
    state.explicit = null;
    state.reseed(this.defaultScenario.seed);
  }

  getDefaultScenario(): Scenario {
    return this.defaultScenario;
  }

  setDefaultScenario(scenario: unknown): Scenario {
    this.defaultScenario = parseScenario(scenario);
    return this.defaultScenario;
  }

  patchDefaultScenario(patch: unknown): Scenario {
    this.defaultScenario = mergeScenario(this.defaultScenario, patch);
    return this.defaultScenario;
  }

  /** Recorded requests of `model`, oldest first (the last `limit` when given). */
  requests(model: string, limit = Infinity): RecordedRequest[] {
    return this.models.get(model)?.recorded.last(limit) ?? [];
  }

  clearRequests(model?: string): void {
    if (model === undefined) for (const s of this.models.values()) s.clearRecords();
    else this.models.get(model)?.clearRecords();
  }

  stats(model: string): ModelStats {
    const s = this.models.get(model);
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

  /** Models that have a scenario or have been called. */
  modelNames(): string[] {
    return [...this.models.keys()];
  }

  /** Responses held back by latency or a simulated hang. */
  pendingResponses(): number {
    return this.timers.size;
  }

  reset(): void {
    this.models.clear();
    this.defaultScenario = this.startupDefault;
  }

  private state(model: string): ModelState {
    let s = this.models.get(model);
    if (!s) {
      s = new ModelState(model, this.capacity, this.defaultScenario.seed);
      this.models.set(model, s);
    }
    return s;
  }

  // ---------------------------------------------------------------- HTTP

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const run = (fn: (body: string) => void) => this.readBody(req, res, fn);
    try {
      if (path === '/v1/chat/completions' || path === '/chat/completions') {
        if (method !== 'POST') throw new HttpError(405, `Method ${method} not allowed; use POST`);
        return run((body) => this.chat(body, res));
      }
      if (path.startsWith('/_simulator/')) {
        const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
        return run((body) => this.control(method, path, query, body, res));
      }
      if (method === 'GET' && (path === '/v1/models' || path === '/models')) {
        return this.json(res, 200, { object: 'list', data: this.modelNames().map((id) => this.modelEntry(id)) });
      }
      const modelMatch = /^\/(?:v1\/)?models\/(.+)$/.exec(path);
      if (method === 'GET' && modelMatch) return this.json(res, 200, this.modelEntry(decodeURIComponent(modelMatch[1]!)));
      throw new HttpError(404, `MODEL SIMULATOR: no route for ${method} ${path}`, null, 'unknown_url');
    } catch (err) {
      this.fail(res, err);
    }
  }

  private readBody(req: http.IncomingMessage, res: http.ServerResponse, then: (body: string) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxBodyBytes) tooBig = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        if (tooBig) throw new HttpError(413, `Request body larger than ${this.maxBodyBytes} bytes`);
        then(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        this.fail(res, err);
      }
    });
  }

  private modelEntry(id: string) {
    return { id, object: 'model', created: this.startedAt, owned_by: SIMULATOR_FINGERPRINT };
  }

  private chat(raw: string, res: http.ServerResponse): void {
    const body = parseJsonBody(raw);
    const parsed = chatRequest.safeParse(body);
    const modelName = isObject(body) && typeof body['model'] === 'string' && body['model'] !== '' ? body['model'] : null;
    const refuse = (error: HttpError): never => {
      if (modelName !== null) this.record(this.state(modelName), { segment: null, outcome: 'bad-request', status: 400, body });
      throw error;
    };
    if (!parsed.success) {
      const issue = flattenIssues(parsed.error.issues)[0]!;
      const missing = /received undefined/.test(issue.message);
      refuse(
        new HttpError(
          400,
          missing ? `Missing required parameter: '${issue.path}'.` : `Invalid value for '${issue.path}': ${issue.message}`,
          issue.path,
          missing ? 'missing_required_parameter' : 'invalid_value',
        ),
      );
    }
    const request = parsed.data!;
    if (request.stream === true) {
      refuse(
        new HttpError(400, 'The MODEL SIMULATOR does not support streaming; send stream: false or omit it.', 'stream', 'unsupported_value'),
      );
    }
    if (request.n != null && request.n !== 1) {
      refuse(new HttpError(400, 'The MODEL SIMULATOR supports only n = 1.', 'n', 'unsupported_value'));
    }
    if ((request.top_logprobs ?? 0) > 0 && request.logprobs !== true) {
      refuse(new HttpError(400, "Invalid value for 'top_logprobs': 'logprobs' must be true when 'top_logprobs' is used.", 'top_logprobs', 'invalid_value'));
    }
    this.answer(request, body, res);
  }

  private answer(request: ChatRequest, body: unknown, res: http.ServerResponse): void {
    const state = this.state(request.model);
    const scenario = state.explicit ?? this.defaultScenario;
    const sim = extractSimulation(request.messages);
    const segment = sim?.segment ?? null;
    const segKey = segment ?? NO_SEGMENT;
    const segmentRequests = state.segmentCounts.get(segKey) ?? 0;
    const accuracy = accuracyFor(scenario, segment, { modelRequests: state.requestCount, segmentRequests }, this.now());
    state.requestCount++;
    state.segmentCounts.set(segKey, segmentRequests + 1);

    const { errors } = scenario;
    const u = state.rng();
    if (u < errors.rate429) {
      this.record(state, { segment, outcome: '429', status: 429, accuracy, body });
      const seconds = errors.retryAfterSeconds;
      return this.json(
        res,
        429,
        openAiError(
          `Rate limit reached for ${request.model} (MODEL SIMULATOR: injected 429). Please try again in ${seconds}s.`,
          'requests',
          null,
          'rate_limit_exceeded',
        ),
        {
          'retry-after': String(Math.ceil(seconds)),
          'retry-after-ms': String(Math.round(seconds * 1000)),
          'x-ratelimit-remaining-requests': '0',
        },
      );
    }
    const latency = drawLatency(scenario.latencyMs, state.latencyRng);
    if (u < errors.rate429 + errors.rate500) {
      this.record(state, { segment, outcome: '500', status: 500, accuracy, body });
      return this.after(res, latency, () =>
        this.json(
          res,
          500,
          openAiError(
            'The server had an error while processing your request. Sorry about that! (MODEL SIMULATOR: injected 500)',
            'server_error',
            null,
            null,
          ),
        ),
      );
    }
    if (u < errors.rate429 + errors.rate500 + errors.rateHang) {
      this.record(state, { segment, outcome: 'hang', status: 504, accuracy, body });
      return this.after(res, errors.hangMs, () =>
        this.json(
          res,
          504,
          openAiError(`MODEL SIMULATOR: simulated hang ended after ${errors.hangMs} ms without an answer`, 'timeout', null, 'simulated_hang'),
        ),
      );
    }
    const malformed = u < errors.rate429 + errors.rate500 + errors.rateHang + scenario.malformedRate;

    const arng =
      request.seed != null
        ? createRng(hashString(JSON.stringify(request.messages), hashString(String(request.seed), state.seedBase)))
        : state.answerRng;
    const correct = arng() < accuracy;
    const kind: AnswerKind = sim?.truth ? (correct ? 'correct' : 'wrong') : 'no-truth';
    const confidence = drawConfidence(arng, correct, scenario.confidence);
    const schema = jsonSchemaOf(request);
    const answer = buildAnswer({ kind, truth: sim?.truth ?? null, schema, confidence, corruptFields: scenario.corruptFields, rng: arng });

    let tokens: Token[];
    let malformedKind: string | undefined;
    if (malformed) {
      const bad = malform(answer.value, schema, state.rng, scenario.malformed.invalidJsonShare);
      malformedKind = bad.kind;
      tokens = splitTokens(bad.content).map((text) => ({ text, field: null }));
    } else {
      tokens = tokenizeJson(answer.value);
    }
    let finishReason: 'stop' | 'length' = 'stop';
    const maxTokens = request.max_completion_tokens ?? request.max_tokens;
    if (maxTokens != null && tokens.length > maxTokens) {
      tokens = tokens.slice(0, maxTokens);
      finishReason = 'length';
    }
    let content = '';
    for (const t of tokens) content += t.text;

    const outcome: Outcome = malformed
      ? 'malformed'
      : kind === 'no-truth'
        ? 'no-truth'
        : answer.corruptedField !== undefined
          ? 'wrong'
          : 'ok';
    this.record(state, {
      segment,
      outcome,
      status: 200,
      accuracy,
      confidence,
      corruptedField: answer.corruptedField,
      malformedKind,
      finishReason,
      content,
      body,
    });

    const logprobs =
      scenario.logprobs && request.logprobs === true
        ? {
            content: withLogprobs(tokens, {
              carrier: malformed ? null : answer.carrierField,
              confidence,
              topLogprobs: request.top_logprobs ?? 0,
              carrierAlternatives: answer.carrierAlternatives,
            }),
            refusal: null,
          }
        : null;
    let promptChars = 0;
    for (const m of request.messages) promptChars += messageText(m.content).length;
    const promptTokens = Math.ceil(promptChars / 4);
    const completion = {
      id: `chatcmpl-sim${(++this.seq).toString(36)}${state.seedBase.toString(36)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      system_fingerprint: SIMULATOR_FINGERPRINT,
      service_tier: 'default',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null, annotations: [] },
          logprobs,
          finish_reason: finishReason,
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: tokens.length,
        total_tokens: promptTokens + tokens.length,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 0,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
    };
    this.after(res, latency, () => this.json(res, 200, completion, { 'openai-processing-ms': String(Math.round(latency)) }));
  }

  private record(state: ModelState, entry: Omit<RecordedRequest, 'seq' | 'receivedAt' | 'model'>): void {
    state.count(entry.outcome, entry.segment);
    state.recorded.push({ seq: ++this.recordSeq, receivedAt: new Date().toISOString(), model: state.model, ...entry });
    if (this.logRequests) {
      this.log(`${LOG_PREFIX} ${state.model} segment=${entry.segment ?? NO_SEGMENT} outcome=${entry.outcome} status=${entry.status}`);
    }
  }

  /** Runs `fn` after `ms` unless the client went away; 0 ms runs it now. */
  private after(res: http.ServerResponse, ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!res.destroyed && !res.writableEnded) fn();
    }, ms);
    this.timers.add(timer);
    res.once('close', () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    });
  }

  // ---------------------------------------------------------------- control API

  private control(method: string, path: string, query: URLSearchParams, raw: string, res: http.ServerResponse): void {
    const rest = path.slice('/_simulator/'.length);
    const model = query.get('model') ?? undefined;
    const send = (status: number, payload: unknown) => this.json(res, status, payload);

    if (rest.startsWith('scenarios/')) {
      const name = decodeURIComponent(rest.slice('scenarios/'.length));
      if (!name) throw new HttpError(400, 'model name missing in path', 'model');
      switch (method) {
        case 'GET':
          return send(200, { model: name, ...this.getScenario(name) });
        case 'PUT':
          return send(200, { model: name, source: 'explicit', scenario: this.setScenario(name, parseJsonBody(raw)) });
        case 'PATCH':
          return send(200, { model: name, source: 'explicit', scenario: this.patchScenario(name, parseJsonBody(raw)) });
        case 'DELETE':
          this.removeScenario(name);
          return send(200, { model: name, ...this.getScenario(name) });
      }
      throw new HttpError(405, `Method ${method} not allowed on ${path}`);
    }
    const route = `${method} ${rest}`;
    switch (route) {
      case 'GET scenarios':
        return send(200, {
          default: this.defaultScenario,
          models: Object.fromEntries([...this.models].filter(([, s]) => s.explicit).map(([k, s]) => [k, s.explicit])),
        });
      case 'GET default-scenario':
        return send(200, { scenario: this.defaultScenario });
      case 'PUT default-scenario':
        return send(200, { scenario: this.setDefaultScenario(parseJsonBody(raw)) });
      case 'PATCH default-scenario':
        return send(200, { scenario: this.patchDefaultScenario(parseJsonBody(raw)) });
      case 'GET requests': {
        if (!model) throw new HttpError(400, "query parameter 'model' is required", 'model', 'missing_required_parameter');
        const limitText = query.get('limit');
        const limit = limitText === null ? Infinity : Number(limitText);
        if (!Number.isInteger(limit) && limit !== Infinity) throw new HttpError(400, "'limit' must be an integer", 'limit');
        if (limit < 0) throw new HttpError(400, "'limit' must be >= 0", 'limit');
        const requests = this.requests(model, limit);
        return send(200, { model, count: requests.length, requests });
      }
      case 'DELETE requests':
        this.clearRequests(model);
        return send(200, { cleared: model ?? 'all' });
      case 'GET stats':
        if (model) return send(200, this.stats(model));
        return send(200, { models: Object.fromEntries(this.modelNames().map((m) => [m, this.stats(m)])) });
      case 'POST reset':
        this.reset();
        return send(200, { reset: true });
      case 'GET health':
        return send(200, { status: 'ok', simulator: SIMULATOR_FINGERPRINT, models: this.models.size, pending: this.timers.size });
    }
    throw new HttpError(404, `MODEL SIMULATOR control API: no route for ${method} ${path}`, null, 'unknown_url');
  }

  // ---------------------------------------------------------------- responses

  private json(res: http.ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-model-simulator': 'true',
      'x-request-id': `req_sim_${(++this.seq).toString(36)}`,
      ...headers,
    });
    res.end(text);
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    if (err instanceof HttpError) return this.json(res, err.status, openAiError(err.message, err.type, err.param, err.code));
    if (err instanceof ScenarioError) {
      return this.json(res, 400, openAiError(err.message, 'invalid_request_error', err.field || null, 'invalid_scenario'));
    }
    const message = err instanceof Error ? err.message : String(err);
    this.log(`${LOG_PREFIX} internal error: ${err instanceof Error ? (err.stack ?? message) : message}`);
    this.json(res, 500, openAiError(`MODEL SIMULATOR internal error: ${message}`, 'server_error', null, 'simulator_bug'));
  }
}

function openAiError(message: string, type: string, param: string | null, code: string | null) {
  return { error: { message, type, param, code } };
}

function parseJsonBody(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpError(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
      null,
      'invalid_json',
    );
  }
}

function jsonSchemaOf(request: ChatRequest): JsonSchema | undefined {
  const format = request.response_format;
  if (format?.type !== 'json_schema') return undefined;
  return (format as { json_schema: { schema?: JsonSchema } }).json_schema.schema;
}

/** Latency in ms: fixed, uniform in [min, max], or lognormal with the given median and 95th percentile. */
export function drawLatency(latency: Latency, rng: Rng): number {
  if (typeof latency === 'number') return latency;
  if (latency.distribution === 'uniform') return latency.min + rng() * (latency.max - latency.min);
  const mu = Math.log(latency.median);
  const sigma = (Math.log(latency.p95) - mu) / 1.6448536;
  return Math.exp(mu + sigma * normal(rng));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
