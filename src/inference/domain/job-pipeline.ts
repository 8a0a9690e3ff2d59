import type { Clock } from '../../common/clock';
import { errorMessage } from '../../common/domain-error';
import { findUnstorableString, storableText } from '../../database/domain/storable-text';
import type { WorkflowDefinition, WorkflowVersion } from '../../workflows/domain/workflow-definition';
import type { ModelAnswer } from '../decision-model';
import type { CallOutcome, ClaimedJob, DecisionRecord, FinishedJob } from './job';
import { confidenceFromLogprobs } from './logprob-confidence';
import { asksSelfReportedConfidence, buildModelRequest, estimateMaxTokens, ModelRequest } from './model-request';
import { parseModelOutput } from './parse-output';
import { backoffMs, CallFailure, costOf, decideRetry } from './retry-policy';

/** Something that can say whether the kill switch is on (the flag, and the state stored in PostgreSQL). */
export interface KillSwitchSource {
  killSwitch(): boolean | Promise<boolean>;
}

/** A budget reservation: room for the call, or why not — exhausted, or (`wait`) held by calls in flight. */
export type Reservation = { ok: true } | { ok: false; reason: string; wait: boolean };

/** The daily token and cost budget, across instances (BudgetService). */
export interface BudgetGate {
  reserve(def: WorkflowDefinition, tokens: number, cost: number): Promise<Reservation>;
  /** Ends a reservation, with the call's actual usage when it was answered. */
  release(workflow: string, tokens: number, cost: number, actual?: { tokens: number; cost: number }): void;
}

/** Calls the model for a version (through its rate limit and the circuit breaker). */
export interface ModelCaller {
  call(version: WorkflowVersion, request: ModelRequest): Promise<ModelAnswer>;
}

export interface PipelineMetrics {
  latency(workflow: string, latencyMs: number): void;
  usage(workflow: string, promptTokens: number, completionTokens: number, costUsd: number): void;
  call(workflow: string, outcome: CallOutcome): void;
}

export interface RetrySettings {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How long an open circuit stays open: a job it refused is tried again after this. */
  circuitResetMs: number;
  prices: Record<string, { inputPerMillion: number; outputPerMillion: number }>;
}

export interface JobPipelineDeps {
  versions: { version(workflow: string, version: number): WorkflowVersion | undefined };
  killSwitch: KillSwitchSource;
  budget: BudgetGate;
  model: ModelCaller;
  /** What a failed call was (kind `circuit_open` when the breaker refused it without calling). */
  classify(error: unknown): CallFailure;
  metrics: PipelineMetrics;
  clock: Clock;
  /** A number in [0, 1), for the backoff's jitter. */
  random(): number;
  settings: RetrySettings;
}

/** A model answer longer than this is cut before it is kept as the raw output of an invalid decision. */
const MAX_RAW_OUTPUT = 10_000;

/**
 * One claimed job, run to an outcome: the kill switch, the budget reservation, the model call,
 * the validation of its answer. It never throws for an expected failure: a missing version
 * fails, the kill switch and an exhausted budget skip (the item stays with people), a kill switch
 * that cannot be read, or a budget held by calls in flight or unreadable, retries soon with the
 * attempt given back, a failed call
 * retries with backoff until its attempts run out, and an open circuit retries once it may close.
 */
export class JobPipeline {
  constructor(private readonly d: JobPipelineDeps) {}

  async process(job: ClaimedJob): Promise<FinishedJob> {
    const version = this.d.versions.version(job.workflow, job.version);
    if (!version) return { kind: 'failed', job, error: `workflow version ${job.workflow} v${job.version} is not stored` };
    let killed: boolean;
    try {
      killed = await this.d.killSwitch.killSwitch();
    } catch (e) {
      // The stored kill switch could not be read (database away): the AI is not called while it
      // cannot be known to be off, and the job is retried after a backoff with its attempt given
      // back, rather than left 'processing' until its lease expires.
      return this.retrySoon(job, `kill switch check failed: ${errorMessage(e)}`, job.attempts);
    }
    if (killed) return { kind: 'skipped', job, reason: 'kill switch on: the AI is not called' };

    const def = version.definition;
    const { request, inputHash } = buildModelRequest(def, job);
    const est = estimateMaxTokens(request);
    const estTokens = est.prompt + est.completion;
    const estCost = this.cost(def.model.name, { promptTokens: est.prompt, completionTokens: est.completion });
    let reservation: Reservation;
    try {
      reservation = await this.d.budget.reserve(def, estTokens, estCost);
    } catch (e) {
      // The budget could not be read (database away): the call is not made and the job is retried
      // after a backoff, rather than left 'processing' until its lease expires.
      return this.retrySoon(job, `budget check failed: ${errorMessage(e)}`, job.attempts);
    }
    // Not exhausted, only held by calls in flight: try again shortly rather than give the item up.
    if (!reservation.ok && reservation.wait) return this.retrySoon(job, reservation.reason, 1);
    if (!reservation.ok) return { kind: 'skipped', job, reason: reservation.reason };

    let answer: ModelAnswer | null = null;
    try {
      answer = await this.d.model.call(version, request);
      this.d.metrics.latency(job.workflow, answer.latencyMs);
    } catch (e) {
      return this.failure(job, e);
    } finally {
      const usage = answer ? { tokens: answer.promptTokens + answer.completionTokens, cost: this.cost(def.model.name, answer) } : undefined;
      this.d.budget.release(def.name, estTokens, estCost, usage);
    }
    return { kind: 'decided', job, record: this.toRecord(version, answer, inputHash) };
  }

  /** Retried after the backoff of `attempt`, the claim's attempt given back: the model was not called. */
  private retrySoon(job: ClaimedJob, error: string, attempt: number): FinishedJob {
    const { backoffBaseMs, backoffMaxMs } = this.d.settings;
    const delayMs = backoffMs(attempt, backoffBaseMs, backoffMaxMs, this.d.random());
    return { kind: 'retry', job, error, nextAttemptAt: new Date(this.d.clock.now().getTime() + delayMs), refundAttempt: true };
  }

  /** The answer validated against the workflow's schema: a valid decision with its confidence, or an invalid one with why. */
  private toRecord(version: WorkflowVersion, answer: ModelAnswer, inputHash: string): DecisionRecord {
    const def = version.definition;
    let parsed = parseModelOutput(answer.content, def.decision.schema, asksSelfReportedConfidence(def));
    // An answer PostgreSQL cannot store (a NUL character, a broken surrogate) is an invalid answer,
    // not a batch that fails to commit for ever.
    const unstorable = parsed.ok ? findUnstorableString(parsed.decision, 'decision') : null;
    if (unstorable) parsed = { ok: false, error: `invalid output: ${unstorable}` };
    const costUsd = this.cost(def.model.name, answer);
    this.d.metrics.usage(def.name, answer.promptTokens, answer.completionTokens, costUsd);
    const base = {
      inputHash,
      model: def.model.name,
      promptVersion: def.prompt.version,
      promptTokens: answer.promptTokens,
      completionTokens: answer.completionTokens,
      costUsd,
      latencyMs: answer.latencyMs,
    };
    if (!parsed.ok) {
      this.d.metrics.call(def.name, 'invalid');
      return {
        ...base,
        valid: false,
        decision: null,
        rawOutput: storableText((answer.content ?? '').slice(0, MAX_RAW_OUTPUT)),
        error: parsed.error,
        confidence: null,
        confidenceSource: 'none',
      };
    }
    this.d.metrics.call(def.name, 'ok');
    const fromLogprobs =
      def.model.confidence === 'self-reported' ? null : confidenceFromLogprobs(answer.content ?? '', answer.logprobs, Object.keys(def.comparator.fields));
    const confidence = fromLogprobs ?? parsed.selfConfidence;
    return {
      ...base,
      valid: true,
      decision: parsed.decision,
      rawOutput: null,
      error: null,
      confidence,
      confidenceSource: fromLogprobs !== null ? 'logprobs' : parsed.selfConfidence !== null ? 'self-reported' : 'none',
    };
  }

  private failure(job: ClaimedJob, e: unknown): FinishedJob {
    const now = this.d.clock.now();
    const failure = this.d.classify(e);
    this.d.metrics.call(job.workflow, failure.kind);
    const s = this.d.settings;
    if (failure.kind === 'circuit_open') {
      return {
        kind: 'retry',
        job,
        error: 'model circuit open: call not attempted',
        nextAttemptAt: new Date(now.getTime() + s.circuitResetMs),
        refundAttempt: true,
      };
    }
    const decision = decideRetry(failure, job.attempts, s.maxAttempts, s.backoffBaseMs, s.backoffMaxMs, this.d.random());
    if (decision.action === 'retry') {
      return { kind: 'retry', job, error: failure.message, nextAttemptAt: new Date(now.getTime() + decision.delayMs), refundAttempt: false };
    }
    return { kind: 'failed', job, error: `${failure.message} (after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'})` };
  }

  private cost(model: string, usage: { promptTokens: number; completionTokens: number }): number {
    return costOf(model, usage, this.d.settings.prices).costUsd;
  }
}

export function createJobPipeline(deps: JobPipelineDeps): JobPipeline {
  return new JobPipeline(deps);
}
