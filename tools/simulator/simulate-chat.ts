/**
 * One chat request to the MODEL SIMULATOR, decided without I/O: which outcome the model's scenario
 * draws (in this order: 429, 500, hang, malformed, else an answer correct with the accuracy in
 * force, its confidence and answer bias also those in force), the answer and its tokens, the
 * completion body, how long to hold it back and what the request log records. The HTTP server (model-simulator.ts) sends the reply after `delayMs`.
 *
 * Randomness: one seeded stream per model decides errors, malformed output and correctness; latency
 * has a stream of its own so changing latency never changes answers. When a request carries `seed`,
 * the answer (correct or not, which field, confidence) comes from a stream derived from
 * (scenario seed, request seed, messages) — the same request gets the same answer, like a seeded
 * model — while errors still come from the model's stream, so a retried 429 is not doomed.
 */
import { buildAnswer, drawConfidence, extractSimulation, malform, messageText, type AnswerKind } from './answer';
import type { ModelState, Outcome, RecordEntry } from './model-state';
import { NO_SEGMENT } from './model-state';
import { jsonSchemaOf, openAiError, type ChatRequest } from './openai-wire';
import { createRng, hashString, normal, type Rng } from './prng';
import { answerParamsFor, type Latency, type Scenario } from './scenario';
import { splitTokens, tokenizeJson, withLogprobs, type Token } from './tokens';

export const SIMULATOR_FINGERPRINT = 'understudy-model-simulator';

export interface SimulatedReply {
  /** Hold the reply back this long (latency, or a simulated hang); 0 sends it at once. */
  delayMs: number;
  status: number;
  payload: unknown;
  headers: Record<string, string>;
  /** What the request log records of it. */
  record: RecordEntry;
}

export interface SimulationContext {
  /** Clock for drift `atTime` (ms since epoch). */
  nowMs: number;
  /** A number unique in this simulator, for the completion's id. */
  nextSeq(): number;
}

/**
 * Decides the reply to `request` (whose raw body is `body`) for a model with state `state` under
 * `scenario`. Advances the model's random streams and drift counters.
 */
export function simulateChat(request: ChatRequest, body: unknown, state: ModelState, scenario: Scenario, ctx: SimulationContext): SimulatedReply {
  const sim = extractSimulation(request.messages);
  const segment = sim?.segment ?? null;
  const segKey = segment ?? NO_SEGMENT;
  const segmentRequests = state.segmentCounts.get(segKey) ?? 0;
  const {
    accuracy,
    confidence: confidenceParams,
    answerBias,
  } = answerParamsFor(scenario, segment, { modelRequests: state.requestCount, segmentRequests }, ctx.nowMs);
  state.requestCount++;
  state.segmentCounts.set(segKey, segmentRequests + 1);

  const { errors } = scenario;
  const u = state.rng();
  if (u < errors.rate429) {
    const seconds = errors.retryAfterSeconds;
    return {
      delayMs: 0,
      status: 429,
      payload: openAiError(
        `Rate limit reached for ${request.model} (MODEL SIMULATOR: injected 429). Please try again in ${seconds}s.`,
        'requests',
        null,
        'rate_limit_exceeded',
      ),
      headers: {
        'retry-after': String(Math.ceil(seconds)),
        'retry-after-ms': String(Math.round(seconds * 1000)),
        'x-ratelimit-remaining-requests': '0',
      },
      record: { segment, outcome: '429', status: 429, accuracy, body },
    };
  }
  const latency = drawLatency(scenario.latencyMs, state.latencyRng);
  if (u < errors.rate429 + errors.rate500) {
    return {
      delayMs: latency,
      status: 500,
      payload: openAiError(
        'The server had an error while processing your request. Sorry about that! (MODEL SIMULATOR: injected 500)',
        'server_error',
        null,
        null,
      ),
      headers: {},
      record: { segment, outcome: '500', status: 500, accuracy, body },
    };
  }
  if (u < errors.rate429 + errors.rate500 + errors.rateHang) {
    return {
      delayMs: errors.hangMs,
      status: 504,
      payload: openAiError(`MODEL SIMULATOR: simulated hang ended after ${errors.hangMs} ms without an answer`, 'timeout', null, 'simulated_hang'),
      headers: {},
      record: { segment, outcome: 'hang', status: 504, accuracy, body },
    };
  }
  const malformed = u < errors.rate429 + errors.rate500 + errors.rateHang + scenario.malformedRate;

  const arng =
    request.seed != null ? createRng(hashString(JSON.stringify(request.messages), hashString(String(request.seed), state.seedBase))) : state.answerRng;
  const correct = arng() < accuracy;
  const kind: AnswerKind = sim?.truth ? (correct ? 'correct' : 'wrong') : 'no-truth';
  const confidence = drawConfidence(arng, correct, confidenceParams);
  const schema = jsonSchemaOf(request);
  const answer = buildAnswer({ kind, truth: sim?.truth ?? null, schema, confidence, corruptFields: scenario.corruptFields, answerBias, rng: arng });

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

  const outcome: Outcome = malformed ? 'malformed' : kind === 'no-truth' ? 'no-truth' : answer.corruptedField !== undefined ? 'wrong' : 'ok';

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
    id: `chatcmpl-sim${ctx.nextSeq().toString(36)}${state.seedBase.toString(36)}`,
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
  return {
    delayMs: latency,
    status: 200,
    payload: completion,
    headers: { 'openai-processing-ms': String(Math.round(latency)) },
    record: { segment, outcome, status: 200, accuracy, confidence, corruptedField: answer.corruptedField, malformedKind, finishReason, content, body },
  };
}

/** Latency in ms: fixed, uniform in [min, max], or lognormal with the given median and 95th percentile. */
export function drawLatency(latency: Latency, rng: Rng): number {
  if (typeof latency === 'number') return latency;
  if (latency.distribution === 'uniform') return latency.min + rng() * (latency.max - latency.min);
  const mu = Math.log(latency.median);
  const sigma = (Math.log(latency.p95) - mu) / 1.6448536;
  return Math.exp(mu + sigma * normal(rng));
}
