import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { CONFIDENCE_FIELD } from './model-request';

export type ParsedOutput = { ok: true; decision: Record<string, unknown>; selfConfidence: number | null } | { ok: false; error: string };

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const cache = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  let v = cache.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    cache.set(schema, v);
  }
  return v;
}

/**
 * Validates the model's answer against the workflow's decision schema. Anything else — not
 * JSON, a missing field, a value outside an enum — is an invalid output: a recorded failure
 * that sends the item to humans, never a decision.
 */
export function parseModelOutput(content: string | null, decisionSchema: Record<string, unknown>, expectConfidence: boolean): ParsedOutput {
  if (content === null || content.trim() === '') return { ok: false, error: 'invalid output: empty answer' };
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (e) {
    return { ok: false, error: `invalid output: not JSON (${(e as Error).message})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: 'invalid output: not a JSON object' };
  const { [CONFIDENCE_FIELD]: rawConfidence, ...decision } = value as Record<string, unknown>;
  let selfConfidence: number | null = null;
  if (expectConfidence) {
    if (typeof rawConfidence !== 'number' || !Number.isFinite(rawConfidence) || rawConfidence < 0 || rawConfidence > 1) {
      return { ok: false, error: 'invalid output: confidence must be a number between 0 and 1' };
    }
    selfConfidence = rawConfidence;
  }
  const validate = validatorFor(decisionSchema);
  if (!validate(decision)) {
    const problems = (validate.errors ?? [])
      .slice(0, 3)
      .map(
        (e) =>
          `${e.instancePath || '(root)'} ${e.message}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`,
      );
    return { ok: false, error: `invalid output: ${problems.join('; ')}` };
  }
  return { ok: true, decision, selfConfidence };
}
