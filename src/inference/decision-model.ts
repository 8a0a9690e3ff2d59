import type { TokenLogprob } from './domain/logprob-confidence';
import type { ModelRequest } from './domain/model-request';
import type { CallFailure } from './domain/retry-policy';

/** The answer of a model call, independent of the SDK that made it. */
export interface ModelAnswer {
  content: string | null;
  logprobs: TokenLogprob[] | null;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
}

/** A failed call, classified for the retry policy and the circuit breaker. */
export class ModelCallError extends Error {
  constructor(readonly failure: CallFailure) {
    super(failure.message);
    this.name = 'ModelCallError';
  }
}

/** The decision model: any OpenAI-compatible endpoint in production, the simulator in tests. */
export interface DecisionModel {
  complete(request: ModelRequest, signal?: AbortSignal): Promise<ModelAnswer>;
}

export const DECISION_MODEL = Symbol('DECISION_MODEL');
