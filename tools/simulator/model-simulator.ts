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
 * drift), with a confidence drawn from the confidence parameters in force, a wrong one landing on
 * `answerBias.value` with the share in force. Latency applies to everything but 429s.
 *
 * A drift entry can change accuracy, confidence and the answer mix together, so that a label-free
 * monitor sees the drift before human labels do, e.g. (PATCH):
 *   {"drift": [{"atTime": "2026-01-01T12:00:00Z", "accuracy": 0.7,
 *     "confidence": {"correctMean": 0.8, "wrongMean": 0.5},
 *     "answerBias": {"field": "category", "value": "other", "share": 0.8}}]}
 *
 * Randomness: see simulate-chat.ts.
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
 *
 * ## Files
 * This file is the HTTP server: routes, request bodies, holding replies back, the state per model.
 * What a chat request is answered with is decided in simulate-chat.ts (on answer.ts, tokens.ts and
 * json-schema.ts), the control API in control-api.ts, the wire format in openai-wire.ts, the state
 * per model in model-state.ts.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { control } from './control-api';
import { ModelState, NO_SEGMENT, statsOf, type ModelStats, type RecordEntry, type RecordedRequest } from './model-state';
import { HttpError, modelNameOf, openAiError, parseChatRequest, parseJsonBody, type ChatRequest } from './openai-wire';
import { DEFAULT_SCENARIO, ScenarioError, mergeScenario, parseScenario, type Scenario } from './scenario';
import { SIMULATOR_FINGERPRINT, simulateChat } from './simulate-chat';

export { OUTCOMES, type ModelStats, type Outcome, type OutcomeCounts, type RecordedRequest } from './model-state';
export { SIMULATOR_FINGERPRINT, drawLatency } from './simulate-chat';

const LOG_PREFIX = '[model-simulator]';

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
    const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, (req, res) => this.route(req, res));
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

  /** The scenarios of models that have one of their own. */
  explicitScenarios(): Record<string, Scenario> {
    return Object.fromEntries([...this.models].filter(([, s]) => s.explicit).map(([k, s]) => [k, s.explicit!]));
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
    return statsOf(model, this.models.get(model));
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
        return run((body) => {
          const reply = control(this, method, path, query, body);
          this.json(res, reply.status, reply.payload);
        });
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
    let request: ChatRequest;
    try {
      request = parseChatRequest(body);
    } catch (err) {
      const modelName = modelNameOf(body);
      if (err instanceof HttpError && modelName !== null) this.record(this.state(modelName), { segment: null, outcome: 'bad-request', status: 400, body });
      throw err;
    }
    const state = this.state(request.model);
    const reply = simulateChat(request, body, state, state.explicit ?? this.defaultScenario, { nowMs: this.now(), nextSeq: () => ++this.seq });
    this.record(state, reply.record);
    this.after(res, reply.delayMs, () => this.json(res, reply.status, reply.payload, reply.headers));
  }

  private record(state: ModelState, entry: RecordEntry): void {
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
