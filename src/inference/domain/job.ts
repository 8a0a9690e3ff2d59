import type { CallFailureKind } from './retry-policy';

/** The states of an AI job (DESIGN.md, "Operating it"). */
export type JobState = 'pending' | 'processing' | 'retrying' | 'completed' | 'failed' | 'skipped';

/** A claimed job with what the runner needs of its work item. */
export interface ClaimedJob {
  id: string;
  workflow: string;
  itemId: string;
  version: number;
  attempts: number;
  segment: string;
  attributes: Record<string, string>;
  input: Record<string, unknown>;
  receivedAt: Date;
}

/** A job's new state, as the queue records it. */
export interface JobOutcome {
  id: string;
  state: Exclude<JobState, 'pending' | 'processing'>;
  error?: string | null;
  skipReason?: string | null;
  nextAttemptAt?: Date | null;
  /** When the attempt did not really happen (circuit open), the claim's attempt is given back. */
  refundAttempt?: boolean;
}

/** A validated (or refused) model answer, as it is stored in ai_decisions. */
export interface DecisionRecord {
  valid: boolean;
  decision: Record<string, unknown> | null;
  rawOutput: string | null;
  error: string | null;
  confidence: number | null;
  confidenceSource: 'logprobs' | 'self-reported' | 'none';
  inputHash: string;
  model: string;
  promptVersion: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number;
}

export interface CallUsage {
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number | null;
}

/** What became of one claimed job. */
export type FinishedJob =
  | { kind: 'decided'; job: ClaimedJob; record: DecisionRecord }
  | { kind: 'retry'; job: ClaimedJob; error: string; nextAttemptAt: Date; refundAttempt: boolean; usage?: CallUsage }
  | { kind: 'failed'; job: ClaimedJob; error: string; usage?: CallUsage }
  | { kind: 'skipped'; job: ClaimedJob; reason: string };

/** How a model call ended, as counted in understudy_ai_calls_total. */
export type CallOutcome = 'ok' | 'invalid' | CallFailureKind;
