import type { WorkflowDefinition } from '../../workflows/domain/workflow-definition';
import { redact } from '../../workflows/domain/redact';
import { canonicalJson, renderTemplate, sha256 } from '../../workflows/domain/render-prompt';

/** What the runner asks the model, independent of any SDK. */
export interface ModelRequest {
  model: string;
  system: string;
  user: string;
  schemaName: string;
  schema: Record<string, unknown>;
  temperature: number;
  maxTokens: number;
  wantLogprobs: boolean;
}

export interface ItemForModel {
  itemId: string;
  segment: string;
  attributes: Record<string, string>;
  input: Record<string, unknown>;
}

export const CONFIDENCE_FIELD = 'confidence';

/** Whether the model must fill a confidence field (self-reported, or as fallback when logprobs are missing). */
export function asksSelfReportedConfidence(def: WorkflowDefinition): boolean {
  return def.model.confidence !== 'logprobs';
}

/**
 * Builds the request for one item: redacts the configured fields before anything else, renders
 * the prompt, and extends the decision schema with the confidence field when the model must fill it.
 * The input hash covers exactly what the model sees (redacted input, prompt version, model).
 */
export function buildModelRequest(def: WorkflowDefinition, item: ItemForModel): { request: ModelRequest; inputHash: string } {
  const safeInput = redact(item.input, def.redact);
  const ctx = { input: safeInput, attributes: item.attributes, segment: item.segment, itemId: item.itemId };
  const schema = asksSelfReportedConfidence(def) ? withConfidenceField(def.decision.schema) : def.decision.schema;
  const request: ModelRequest = {
    model: def.model.name,
    system: renderTemplate(def.prompt.system, ctx),
    user: renderTemplate(def.prompt.user, ctx),
    schemaName: def.name.replace(/[^a-zA-Z0-9_-]/g, '_'),
    schema,
    temperature: def.model.temperature,
    maxTokens: def.model.maxTokens,
    wantLogprobs: def.model.confidence !== 'self-reported',
  };
  const inputHash = sha256(canonicalJson({ input: safeInput, attributes: item.attributes, model: def.model.name, prompt: def.prompt.version }));
  return { request, inputHash };
}

function withConfidenceField(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = { ...(schema.properties as Record<string, unknown>) };
  properties[CONFIDENCE_FIELD] = {
    type: 'number',
    minimum: 0,
    maximum: 1,
    description: 'Your probability, between 0 and 1, that this decision is exactly what an expert would decide.',
  };
  const required = Array.isArray(schema.required) ? [...(schema.required as string[])] : [];
  if (!required.includes(CONFIDENCE_FIELD)) required.push(CONFIDENCE_FIELD);
  return { ...schema, properties, required };
}

/** A rough upper bound on the tokens a request may use, for budget checks before the call. */
export function estimateMaxTokens(req: ModelRequest): { prompt: number; completion: number } {
  // ~3 characters per token errs on the high side for English and JSON.
  return { prompt: Math.ceil((req.system.length + req.user.length + JSON.stringify(req.schema).length) / 3), completion: req.maxTokens };
}
