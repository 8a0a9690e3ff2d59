/**
 * The OpenAI wire format as the MODEL SIMULATOR reads and writes it: the Chat Completions request
 * as the openai SDK sends it (validated; unknown parameters are accepted and ignored) and
 * OpenAI-style error bodies `{error: {message, type, param, code}}`. No I/O.
 */
import { z } from 'zod';
import type { JsonSchema } from './json-schema';
import { flattenIssues } from './scenario';

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
export type ChatRequest = z.output<typeof chatRequest>;

/** A refusal answered with `status` and an OpenAI-style error body. */
export class HttpError extends Error {
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

export function openAiError(message: string, type: string, param: string | null, code: string | null) {
  return { error: { message, type, param, code } };
}

export function parseJsonBody(raw: string): unknown {
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

/** The chat request in `body`, or an HttpError (400) naming the parameter, as OpenAI words it. */
export function parseChatRequest(body: unknown): ChatRequest {
  const parsed = chatRequest.safeParse(body);
  if (!parsed.success) {
    const issue = flattenIssues(parsed.error.issues)[0]!;
    const missing = /received undefined/.test(issue.message);
    throw new HttpError(
      400,
      missing ? `Missing required parameter: '${issue.path}'.` : `Invalid value for '${issue.path}': ${issue.message}`,
      issue.path,
      missing ? 'missing_required_parameter' : 'invalid_value',
    );
  }
  const request = parsed.data;
  if (request.stream === true) {
    throw new HttpError(400, 'The MODEL SIMULATOR does not support streaming; send stream: false or omit it.', 'stream', 'unsupported_value');
  }
  if (request.n != null && request.n !== 1) {
    throw new HttpError(400, 'The MODEL SIMULATOR supports only n = 1.', 'n', 'unsupported_value');
  }
  if ((request.top_logprobs ?? 0) > 0 && request.logprobs !== true) {
    throw new HttpError(400, "Invalid value for 'top_logprobs': 'logprobs' must be true when 'top_logprobs' is used.", 'top_logprobs', 'invalid_value');
  }
  return request;
}

/** The model name of a body, when it names one (to count a refused request under its model). */
export function modelNameOf(body: unknown): string | null {
  return isObject(body) && typeof body['model'] === 'string' && body['model'] !== '' ? body['model'] : null;
}

export function jsonSchemaOf(request: ChatRequest): JsonSchema | undefined {
  const format = request.response_format;
  if (format?.type !== 'json_schema') return undefined;
  return (format as { json_schema: { schema?: JsonSchema } }).json_schema.schema;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
