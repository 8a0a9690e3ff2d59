import type { WorkflowDefinition } from '../../workflows/domain/workflow-definition';
import { canonicalJson, sha256 } from '../../workflows/domain/render-prompt';

/**
 * What retention and erasure remove, what they keep, and when.
 *
 * Personal content is the item's input, the model's free text (its raw answer when it was invalid,
 * the error quoting it, and every decision field that is not compared), and people's free text in
 * their decisions. What statistics need stays: every field the workflow's comparators compare and
 * its label field (so comparisons of labels that arrive late still work, and the confusion matrix
 * keeps its labels), confidences, tokens, costs, comparisons and rollups. A SHA-256 of what was
 * removed is kept, so anyone holding the original can show it is the one that was here.
 */

/** What a removed decision field is replaced with (the key stays, so the decision keeps its shape). */
export const REMOVED = '[removed]';

/** Why personal data was removed: its retention ran out, or someone asked for it. */
export type RemovalCause = 'retention' | 'erasure';

export interface RetentionPolicy {
  /** Days work-item inputs and people's free text are kept; null: kept for ever. */
  inputDays: number | null;
  /** Days the model's free text is kept; null: kept for ever. */
  modelOutputDays: number | null;
  /** Rows changed per transaction. */
  batchSize: number;
  /** Batches per run and kind of row, so one run never holds the leader for long. */
  maxBatchesPerRun: number;
}

export interface Cutoffs {
  /** Rows received before this lose their input / free text; null: none do. */
  inputs: Date | null;
  /** AI decisions made before this lose their free text; null: none do. */
  modelOutputs: Date | null;
}

const DAY_MS = 86_400_000;

/** A retention of 0 days (or none) turns that part off; a positive one cuts at now minus the days. */
export function retentionCutoffs(policy: Pick<RetentionPolicy, 'inputDays' | 'modelOutputDays'>, now: Date): Cutoffs {
  const cut = (days: number | null) => (days === null || days <= 0 ? null : new Date(now.getTime() - days * DAY_MS));
  return { inputs: cut(policy.inputDays), modelOutputs: cut(policy.modelOutputDays) };
}

/** Whether the schedule has anything to do at all. */
export function retentionEnabled(policy: Pick<RetentionPolicy, 'inputDays' | 'modelOutputDays'>): boolean {
  const c = retentionCutoffs(policy, new Date(0));
  return c.inputs !== null || c.modelOutputs !== null;
}

/** The decision fields statistics rely on: every compared field, the label field and the critical classes' fields, of every version given. */
export function keptDecisionFields(definitions: Array<Pick<WorkflowDefinition, 'comparator' | 'decision'>>): string[] {
  const kept = new Set<string>();
  for (const d of definitions) {
    for (const field of Object.keys(d.comparator.fields)) kept.add(field);
    if (d.decision.labelField) kept.add(d.decision.labelField);
    for (const c of d.decision.criticalClasses) kept.add(c.field);
  }
  return [...kept].sort();
}

/** The model's own confidence is a number the calibration needs, never free text. */
export const AI_ONLY_KEPT_FIELDS = ['confidence'];

/**
 * A decision with every field outside `kept` replaced by REMOVED (null stays null: nothing to
 * remove). Keys are kept so the shape still says which fields the decision had.
 */
export function removeFreeText(decision: Record<string, unknown> | null, kept: readonly string[]): Record<string, unknown> | null {
  if (decision === null || typeof decision !== 'object' || Array.isArray(decision)) return decision;
  const keep = new Set(kept);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(decision)) out[key] = keep.has(key) || value === null ? value : REMOVED;
  return out;
}

/**
 * An error message without the part that may quote the model's answer: parse errors end in a
 * parenthesis quoting it (`invalid output: not JSON (Unexpected token … "…")`), which goes.
 */
export function scrubModelError(error: string | null): string | null {
  if (error === null) return null;
  const cut = error.indexOf(' (');
  return cut === -1 ? error : error.slice(0, cut);
}

/** The hash kept of a removed value: SHA-256 of its canonical JSON (keys sorted), hex. */
export function contentHash(value: unknown): string {
  return sha256(canonicalJson(value ?? null));
}

export interface StoredAiOutput {
  id: string;
  decision: Record<string, unknown> | null;
  rawOutput: string | null;
  error: string | null;
}

export interface AiOutputRemoval {
  id: string;
  decision: Record<string, unknown> | null;
  rawOutput: null;
  error: string | null;
  outputSha256: string;
}

/** What an AI decision becomes: its free text removed, its labels, confidence and numbers kept. */
export function removeAiOutput(row: StoredAiOutput, kept: readonly string[]): AiOutputRemoval {
  return {
    id: row.id,
    decision: removeFreeText(row.decision, [...kept, ...AI_ONLY_KEPT_FIELDS]),
    rawOutput: null,
    error: scrubModelError(row.error),
    outputSha256: contentHash({ decision: row.decision, rawOutput: row.rawOutput, error: row.error }),
  };
}

export interface StoredHumanDecision {
  id: string;
  decision: Record<string, unknown>;
}

/** What a person's decision becomes: the compared fields stay, their free text goes. */
export function removeHumanFreeText(
  row: StoredHumanDecision,
  kept: readonly string[],
): { id: string; decision: Record<string, unknown>; decisionSha256: string } {
  return { id: row.id, decision: removeFreeText(row.decision, kept) ?? {}, decisionSha256: contentHash(row.decision) };
}

/** What a work item's input becomes: nothing, and the hash of what it was. */
export function removeInput(row: { id: string; input: unknown }): { id: string; input: Record<string, never>; inputSha256: string } {
  return { id: row.id, input: {}, inputSha256: contentHash(row.input) };
}

/** A routing event sent on Kafka carries the AI's decision: the copy kept in the outbox loses its free text alike. */
export function removeRoutingPayload(payload: Record<string, unknown>, kept: readonly string[]): Record<string, unknown> {
  const decision = payload.decision;
  if (decision === null || typeof decision !== 'object' || Array.isArray(decision)) return payload;
  return { ...payload, decision: removeFreeText(decision as Record<string, unknown>, [...kept, ...AI_ONLY_KEPT_FIELDS]) };
}

export interface RemovalCounts {
  inputs: number;
  aiOutputs: number;
  humanDecisions: number;
  routingEvents: number;
}

export const NO_REMOVALS: RemovalCounts = { inputs: 0, aiOutputs: 0, humanDecisions: 0, routingEvents: 0 };

export function addCounts(a: RemovalCounts, b: RemovalCounts): RemovalCounts {
  return {
    inputs: a.inputs + b.inputs,
    aiOutputs: a.aiOutputs + b.aiOutputs,
    humanDecisions: a.humanDecisions + b.humanDecisions,
    routingEvents: a.routingEvents + b.routingEvents,
  };
}

export function anyRemoved(c: RemovalCounts): boolean {
  return c.inputs + c.aiOutputs + c.humanDecisions + c.routingEvents > 0;
}

/**
 * Whether a purge goes on with another batch of one kind of row: a full batch means more may be
 * waiting; a short one means the backlog is done; and a run stops at maxBatchesPerRun (the next
 * run goes on), so that no run holds the lead or the rows for long.
 */
export function nextBatchWanted(lastBatchRows: number, batchesDone: number, policy: Pick<RetentionPolicy, 'batchSize' | 'maxBatchesPerRun'>): boolean {
  return lastBatchRows >= policy.batchSize && batchesDone < policy.maxBatchesPerRun;
}

/** The one-line reason of a purge run's audit entry. */
export function purgeReason(policy: Pick<RetentionPolicy, 'inputDays' | 'modelOutputDays'>): string {
  const part = (what: string, days: number | null) => (days === null || days <= 0 ? `${what} kept (retention off)` : `${what} older than ${days} days`);
  return `retention: ${part("inputs and people's free text", policy.inputDays)}; ${part('model free text', policy.modelOutputDays)}`;
}

/** What an erasure does with the item's AI jobs. */
export type ErasureJobPlan = { kind: 'in-flight'; running: number } | { kind: 'go'; skip: string[] };

/**
 * A call in flight would store the model's answer after the erasure: the request is refused until
 * it lands (an erasure then removes it with the rest). Jobs not started yet are skipped: the input
 * they need is being removed. Finished jobs are left as they are.
 */
export function planErasureJobs(jobs: Array<{ id: string; state: string }>): ErasureJobPlan {
  const running = jobs.filter((j) => j.state === 'processing').length;
  if (running > 0) return { kind: 'in-flight', running };
  return { kind: 'go', skip: jobs.filter((j) => j.state === 'pending' || j.state === 'retrying').map((j) => j.id) };
}
