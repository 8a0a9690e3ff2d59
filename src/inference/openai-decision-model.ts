import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ModelAnswer, DecisionModel, ModelCallError } from './decision-model';
import type { ModelRequest } from './domain/model-request';
import { parseRetryAfter } from './domain/retry-policy';
import { keepAliveFetch } from './keep-alive-fetch';

/** The chat completion request for a model request: structured output against the workflow's schema, logprobs where wanted. */
export function chatCompletionBody(req: ModelRequest): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
  return {
    model: req.model,
    messages: [
      { role: 'system', content: req.system },
      { role: 'user', content: req.user },
    ],
    response_format: { type: 'json_schema', json_schema: { name: req.schemaName, schema: req.schema, strict: true } },
    temperature: req.temperature,
    max_tokens: req.maxTokens,
    ...(req.wantLogprobs ? { logprobs: true } : {}),
  };
}

/**
 * The decision model through the official openai SDK against any OpenAI-compatible base URL.
 * The SDK's own retries are off: the runner retries with its own backoff, through the job
 * queue, so that a retry survives a restart and shows in the job's state. Calls go over
 * keep-alive node:http connections (keep-alive-fetch.ts): a third of the CPU of Node's fetch per call.
 */
export class OpenAiDecisionModel implements DecisionModel {
  private readonly client: OpenAI;

  constructor(opts: { baseUrl: string; apiKey: string; timeoutMs: number }) {
    this.client = new OpenAI({ baseURL: opts.baseUrl, apiKey: opts.apiKey, timeout: opts.timeoutMs, maxRetries: 0, fetch: keepAliveFetch() });
  }

  async complete(req: ModelRequest, signal?: AbortSignal): Promise<ModelAnswer> {
    const started = performance.now();
    try {
      const res = await this.client.chat.completions.create(chatCompletionBody(req), { signal });
      const choice = res.choices[0];
      return {
        content: choice?.message?.content ?? null,
        logprobs: choice?.logprobs?.content?.map((t) => ({ token: t.token, logprob: t.logprob })) ?? null,
        promptTokens: res.usage?.prompt_tokens ?? 0,
        completionTokens: res.usage?.completion_tokens ?? 0,
        latencyMs: Math.round(performance.now() - started),
      };
    } catch (e) {
      throw classify(e);
    }
  }
}

export function classify(e: unknown): ModelCallError {
  if (e instanceof ModelCallError) return e;
  if (e instanceof APIConnectionTimeoutError) return new ModelCallError({ kind: 'timeout', message: 'model call timed out' });
  if (e instanceof APIUserAbortError) return new ModelCallError({ kind: 'timeout', message: 'model call aborted' });
  if (e instanceof APIConnectionError) return new ModelCallError({ kind: 'connection', message: `cannot reach the model: ${e.message}` });
  if (e instanceof APIError) {
    const status = e.status ?? 0;
    if (status === 429) {
      return new ModelCallError({
        kind: 'rate_limited',
        message: `model rate limit (429): ${e.message}`,
        retryAfterMs: parseRetryAfter(e.headers?.get('retry-after'), new Date()),
      });
    }
    if (status >= 500 || status === 408 || status === 409)
      return new ModelCallError({ kind: 'server_error', message: `model server error (${status}): ${e.message}` });
    return new ModelCallError({ kind: 'client_error', message: `model refused the request (${status}): ${e.message}` });
  }
  return new ModelCallError({ kind: 'connection', message: e instanceof Error ? e.message : String(e) });
}
