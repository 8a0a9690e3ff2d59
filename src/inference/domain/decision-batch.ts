import { labelOf } from '../../comparison/domain/compare-decisions';
import { type AiCallFacts, decisionCellKey } from '../../comparison/domain/rollup';
import type { Amount } from './budget-ledger';
import type { ClaimedJob, FinishedJob, JobOutcome } from './job';

/**
 * What one batch of finished jobs becomes, before any of it is written: which answers are stored,
 * the jobs' new states, the model calls counted in the rollups and the usage charged to the budget.
 */

export type Decided = Extract<FinishedJob, { kind: 'decided' }>;

/** Decisions are unique per workflow, item and version. */
export function decisionKey(job: Pick<ClaimedJob, 'workflow' | 'itemId' | 'version'>): string {
  return `${job.workflow}\u0001${job.itemId}\u0001${job.version}`;
}

/**
 * The first answer for each item and version in the batch. A job whose lease expired while its call
 * was still out is claimed again, so the same job can finish twice and both answers can land in one
 * batch; only the first is a candidate for storing, else both would be routed and counted.
 */
export function firstAnswers(decided: Decided[]): Map<string, Decided> {
  const first = new Map<string, Decided>();
  for (const d of decided) {
    const key = decisionKey(d.job);
    if (!first.has(key)) first.set(key, d);
  }
  return first;
}

/** A decided job is completed when its answer is valid, failed (with the validation error) when not. */
export function decidedOutcome(d: Decided): JobOutcome {
  return { id: d.job.id, state: d.record.valid ? 'completed' : 'failed', error: d.record.error };
}

/** The model call of a stored decision, as the rollups count it; a valid answer with a confidence also counts in its drift-monitor cell. */
export function decidedCall(d: Decided, at: Date, labelField?: string): AiCallFacts {
  const r = d.record;
  const cell = r.valid && r.confidence !== null && r.decision ? decisionCellKey(r.confidence, labelOf(r.decision, labelField)) : null;
  return {
    workflow: d.job.workflow,
    segment: d.job.segment,
    version: d.job.version,
    at,
    outcome: r.valid ? 'ok' : 'invalid',
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    costUsd: r.costUsd,
    latencyMs: r.latencyMs,
    cell,
  };
}

/**
 * The jobs of a batch that ended without a decision: retried (at their next attempt, the attempt
 * given back when the call never happened), failed, or skipped (budget, kill switch); with the calls
 * the rollups count for them — a failed call that was billed, and every skip.
 */
export function undecidedOutcomes(batch: FinishedJob[], at: Date): { outcomes: JobOutcome[]; calls: AiCallFacts[] } {
  const outcomes: JobOutcome[] = [];
  const calls: AiCallFacts[] = [];
  for (const f of batch) {
    const where = { workflow: f.job.workflow, segment: f.job.segment, version: f.job.version, at };
    if (f.kind === 'retry') {
      outcomes.push({ id: f.job.id, state: 'retrying', error: f.error, nextAttemptAt: f.nextAttemptAt, refundAttempt: f.refundAttempt });
      if (f.usage) calls.push({ ...where, outcome: 'failed', ...f.usage });
    } else if (f.kind === 'failed') {
      outcomes.push({ id: f.job.id, state: 'failed', error: f.error });
      if (f.usage) calls.push({ ...where, outcome: 'failed', ...f.usage });
    } else if (f.kind === 'skipped') {
      outcomes.push({ id: f.job.id, state: 'skipped', skipReason: f.reason });
      calls.push({ ...where, outcome: 'skipped', promptTokens: 0, completionTokens: 0, costUsd: 0, latencyMs: null });
    }
  }
  return { outcomes, calls };
}

/** What the batch's calls actually cost, per workflow (answers, and failed calls that were billed); null when nothing. */
export function usageByWorkflow(batch: FinishedJob[]): Map<string, Amount> | null {
  const byWorkflow = new Map<string, Amount>();
  for (const f of batch) {
    const usage = f.kind === 'decided' ? f.record : f.kind === 'retry' || f.kind === 'failed' ? f.usage : undefined;
    if (!usage) continue;
    const u = byWorkflow.get(f.job.workflow) ?? { tokens: 0, cost: 0 };
    u.tokens += usage.promptTokens + usage.completionTokens;
    u.cost += usage.costUsd;
    byWorkflow.set(f.job.workflow, u);
  }
  return byWorkflow.size === 0 ? null : byWorkflow;
}
