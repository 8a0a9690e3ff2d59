/**
 * What the MODEL SIMULATOR does for one model name: how often it answers like the ground truth, how
 * confident it says it is, where its wrong answers land, how slow it is, how often it fails and how
 * its quality drifts.
 *
 * A scenario is plain JSON (it travels through the control API and the CLI's --scenario file); every
 * field is optional and validated here, and an error names the offending field.
 */
import { z } from 'zod';

const probability = z.number().min(0).max(1);

const latencySchema = z.union(
  [
    z.number().min(0),
    z.discriminatedUnion('distribution', [
      z
        .strictObject({ distribution: z.literal('uniform'), min: z.number().min(0), max: z.number().min(0) })
        .refine((v) => v.max >= v.min, { message: 'max must be >= min', path: ['max'] }),
      z
        .strictObject({ distribution: z.literal('lognormal'), median: z.number().positive(), p95: z.number().positive() })
        .refine((v) => v.p95 >= v.median, { message: 'p95 must be >= median', path: ['p95'] }),
    ]),
  ],
  { error: "expected milliseconds, {distribution:'uniform',min,max} or {distribution:'lognormal',median,p95}" },
);

/**
 * A shift of the answer mix: when the model answers WRONGLY, with probability `share` the wrong
 * answer sets `field` to `value` instead of corrupting a random field — the way a model on unfamiliar
 * input falls back on one class (e.g. category "other"). It applies only where it makes the answer
 * wrong and keeps it schema-valid: the truth has `field`, its value there differs from `value`, and
 * the response schema (if any) allows `value` on `field`; otherwise the answer is wrong as usual.
 * It names its field explicitly, so `corruptFields` does not restrict it.
 */
const answerBiasSchema = z.strictObject({
  field: z.string().min(1),
  value: z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' }),
  share: probability,
});

const driftSchema = z
  .strictObject({
    segment: z.string().min(1).optional(),
    afterRequests: z.number().int().min(0).optional(),
    atTime: z
      .string()
      .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO 8601 date-time' })
      .optional(),
    /** accuracy, confidence and answerBias: each one given replaces the value in force from then on. */
    accuracy: probability.optional(),
    /** Only the parameters it names; the others stay as they were. */
    confidence: z
      .strictObject({
        correctMean: probability.optional(),
        wrongMean: probability.optional(),
        spread: z.number().min(0).max(1).optional(),
      })
      .optional(),
    /** `share: 0` ends a bias in force. */
    answerBias: answerBiasSchema.optional(),
  })
  .refine((d) => d.afterRequests !== undefined || d.atTime !== undefined, {
    message: 'a drift entry needs afterRequests or atTime (or both)',
  })
  .refine((d) => d.accuracy !== undefined || d.confidence !== undefined || d.answerBias !== undefined, {
    message: 'a drift entry needs accuracy, confidence or answerBias (what it changes)',
  });

export const scenarioSchema = z
  .strictObject({
    /** Free text for people reading the control API. */
    description: z.string().optional(),
    /** Probability that the answer equals the ground truth. */
    accuracy: probability.default(0.9),
    /** Per-segment accuracy overrides; the key is the `simulation.segment` of the item. */
    segments: z.record(z.string(), z.strictObject({ accuracy: probability })).default({}),
    /** Fields a wrong answer may corrupt (default: every field of the truth). */
    corruptFields: z.array(z.string().min(1)).min(1).optional(),
    /** Where wrong answers land on one field (see answerBiasSchema); absent: no preference. */
    answerBias: answerBiasSchema.optional(),
    /** Stated confidence ~ Normal(correctMean or wrongMean, spread); see answer.ts. */
    confidence: z
      .strictObject({
        correctMean: probability.default(0.9),
        wrongMean: probability.default(0.6),
        spread: z.number().min(0).max(1).default(0.1),
      })
      .prefault({}),
    /** Whether this "provider" offers logprobs at all; when false, `logprobs` is always null. */
    logprobs: z.boolean().default(true),
    latencyMs: latencySchema.default(0),
    errors: z
      .strictObject({
        rate429: probability.default(0),
        retryAfterSeconds: z.number().min(0).default(1),
        rate500: probability.default(0),
        rateHang: probability.default(0),
        hangMs: z.number().int().min(0).default(120_000),
      })
      .prefault({}),
    /** Probability that a 200 answer is unusable: invalid JSON, or JSON that violates the schema. */
    malformedRate: probability.default(0),
    malformed: z.strictObject({ invalidJsonShare: probability.default(0.5) }).prefault({}),
    /**
     * Changes from a request count or a time on: accuracy, confidence and answerBias. Lowering
     * accuracy alone only shows in agreement with humans; lowering confidence and biasing the answer
     * mix as well shows to a label-free drift monitor before the labels do.
     */
    drift: z.array(driftSchema).default([]),
    /** Seed of the per-model PRNG; without one it is derived from the model name. */
    seed: z.number().int().optional(),
  })
  .refine((s) => s.errors.rate429 + s.errors.rate500 + s.errors.rateHang + s.malformedRate <= 1, {
    message: 'errors.rate429 + errors.rate500 + errors.rateHang + malformedRate must not exceed 1',
    path: ['errors'],
  });

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Latency = Scenario['latencyMs'];
export type DriftEntry = Scenario['drift'][number];
export type ConfidenceParams = Scenario['confidence'];
export type AnswerBias = z.output<typeof answerBiasSchema>;

export class ScenarioError extends Error {
  constructor(
    message: string,
    /** Dotted path of the first offending field, e.g. `errors.rate429`; '' for the whole scenario. */
    readonly field: string,
  ) {
    super(message);
    this.name = 'ScenarioError';
  }
}

export function parseScenario(input: unknown): Scenario {
  const result = scenarioSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = flattenIssues(result.error.issues);
  const first = issues[0];
  const message = issues.map((i) => `${i.path || '(scenario)'}: ${i.message}`).join('; ');
  throw new ScenarioError(`invalid scenario: ${message}`, first?.path ?? '');
}

export const DEFAULT_SCENARIO: Scenario = parseScenario({});

/**
 * JSON merge patch (RFC 7386) of a scenario: objects merge, arrays and scalars replace, `null`
 * removes a field so it falls back to its default. The result is validated as a whole.
 */
export function mergeScenario(base: Scenario, patch: unknown): Scenario {
  if (!isPlainObject(patch)) throw new ScenarioError('invalid scenario patch: expected a JSON object', '');
  return parseScenario(mergePatch(base, patch));
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

export interface DriftCounters {
  /** Chat requests for this model that arrived before the current one (since the scenario was set). */
  modelRequests: number;
  /** The same, counted only for the current request's segment. */
  segmentRequests: number;
}

/** How the model answers one request, after segment overrides and drift. */
export interface AnswerParams {
  accuracy: number;
  confidence: ConfidenceParams;
  answerBias: AnswerBias | undefined;
}

/**
 * Answer parameters in force for one request. Base: the segment's accuracy override, else
 * `accuracy`; `confidence`; `answerBias`. Then each drift entry, in the order listed, that matches
 * (its segment, if any, is this request's segment) and is due (every condition it names holds: at
 * least `afterRequests` earlier requests — of the model, or of the segment when the entry names one
 * — and `now >= atTime`) replaces what it names; for each parameter the last due entry naming it
 * wins. A drift entry without a segment therefore overrides per-segment accuracies too.
 */
export function answerParamsFor(scenario: Scenario, segment: string | null, counters: DriftCounters, nowMs: number): AnswerParams {
  let accuracy = (segment !== null ? scenario.segments[segment]?.accuracy : undefined) ?? scenario.accuracy;
  let confidence = scenario.confidence;
  let answerBias = scenario.answerBias;
  for (const entry of scenario.drift) {
    if (entry.segment !== undefined && entry.segment !== segment) continue;
    const seen = entry.segment !== undefined ? counters.segmentRequests : counters.modelRequests;
    if (entry.afterRequests !== undefined && seen < entry.afterRequests) continue;
    if (entry.atTime !== undefined && nowMs < Date.parse(entry.atTime)) continue;
    if (entry.accuracy !== undefined) accuracy = entry.accuracy;
    if (entry.confidence !== undefined) {
      confidence = {
        correctMean: entry.confidence.correctMean ?? confidence.correctMean,
        wrongMean: entry.confidence.wrongMean ?? confidence.wrongMean,
        spread: entry.confidence.spread ?? confidence.spread,
      };
    }
    if (entry.answerBias !== undefined) answerBias = entry.answerBias;
  }
  return { accuracy, confidence, answerBias };
}

/** Accuracy in force for one request (see answerParamsFor). */
export function accuracyFor(scenario: Scenario, segment: string | null, counters: DriftCounters, nowMs: number): number {
  return answerParamsFor(scenario, segment, counters, nowMs).accuracy;
}

export interface FlatIssue {
  path: string;
  message: string;
}

/**
 * Zod reports a failed union as one "Invalid input" at the union's path; descend into the branch
 * that got furthest so the message names the real field (e.g. `latencyMs.max`).
 */
export function flattenIssues(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[] = []): FlatIssue[] {
  const out: FlatIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branches = issue.errors.filter((b) => !(b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0));
      if (branches.length === 1) {
        out.push(...flattenIssues(branches[0]!, path));
        continue;
      }
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: 'unknown field' });
      continue;
    }
    out.push({ path: formatPath(path), message: issue.message });
  }
  return out;
}

/** `['messages', 0, 'role']` → `messages[0].role`, the way the OpenAI API names parameters. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
