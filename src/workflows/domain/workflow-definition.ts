import { z } from 'zod';

/**
 * A workflow version: everything that decides how the AI is asked, how its answer is judged
 * and how the rollout may proceed. Versions are immutable once stored; a change is a new version.
 */

const fieldPath = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*(\.([A-Za-z_][A-Za-z0-9_-]*|\*))*$/, 'a dot path such as customer.email or lines.*.iban');

export const fieldMatchSchema = z.discriminatedUnion('match', [
  z.object({ match: z.literal('exact'), caseInsensitive: z.boolean().default(false) }),
  z.object({
    match: z.literal('number'),
    absTolerance: z.number().min(0).default(0),
    relTolerance: z.number().min(0).max(1).default(0),
  }),
  z.object({ match: z.literal('date'), toleranceDays: z.number().int().min(0).default(0) }),
  z.object({ match: z.literal('text') }),
  z.object({ match: z.literal('set'), caseInsensitive: z.boolean().default(false) }),
]);
export type FieldMatch = z.infer<typeof fieldMatchSchema>;

const gateSchema = z.object({
  minSample: z.number().int().min(1).default(200),
  minDwellMinutes: z.number().min(0).default(60),
  agreementTarget: z.number().gt(0).lt(1),
  confidence: z.number().gt(0.5).lt(1).default(0.95),
  maxOverrideRate: z.number().min(0).max(1).optional(),
  maxErrorRate: z.number().min(0).max(1).default(0.05),
  approval: z.boolean().default(false),
  /**
   * Human parity: the AI may agree with people less often than a second person does by at most this
   * much, shown by a paired non-inferiority test on blind double-labelled items (off when absent).
   */
  humanParityMargin: z.number().min(0).max(0.5).optional(),
});
export type GateConfig = z.infer<typeof gateSchema>;

const guardSchema = z.object({
  /** The drop in agreement below the baseline the guard is tuned to catch fastest. */
  minDetectableDrop: z.number().gt(0).lt(1).default(0.06),
  /** Expected comparisons between false reverts when nothing changed (sets the CUSUM threshold). */
  targetArl0: z.number().int().min(1000).default(500_000),
  /**
   * The baseline is blind agreement measured before the stage (the promotion's evidence, or recent
   * blind labels); the CUSUM's threshold is set so that its false-revert rate holds even if the true
   * baseline is as low as the baseline's lower bound at this confidence.
   */
  baselineConfidence: z.number().gt(0.5).lt(1).default(0.95),
  /** A fixed CUSUM threshold instead of the one derived from targetArl0. */
  threshold: z.number().gt(0).optional(),
});
export type GuardConfig = z.infer<typeof guardSchema>;

export const rolloutSchema = z
  .object({
    steps: z
      .array(z.number().int().min(1).max(100))
      .min(1)
      .default([10, 25, 50, 100])
      .refine((s) => s.every((v, i) => i === 0 || v > s[i - 1]) && s[s.length - 1] === 100, 'increasing percentages ending at 100'),
    gates: z.object({ supervised: gateSchema, 'confidence-routed': gateSchema }),
    guard: guardSchema.default(guardSchema.parse({})),
    revert: z.enum(['one-stage', 'to-shadow']).default('one-stage'),
    /** Accuracy the auto threshold must guarantee above it, with probability at least 1 - delta. */
    accuracyTarget: z.number().gt(0).lt(1).default(0.9),
    delta: z.number().gt(0).lt(0.5).default(0.1),
    // Candidates with fewer labels above them are skipped (a rule on counts only, so the guarantee holds):
    // at 30, one error among the top labels already blocks every lower threshold.
    minLabelsPerThreshold: z.number().int().min(1).default(100),
    /** Labels (comparisons with a confidence) from this many past days feed the threshold. */
    thresholdWindowDays: z.number().gt(0).default(7),
    auditShare: z.number().min(0).max(1).default(0.05),
    /**
     * Share of the supervised arm routed `audit` instead of `suggest`: a person decides it without
     * seeing the suggestion, so supervised has blind evidence of its own.
     */
    supervisedBlindShare: z.number().min(0).max(1).default(0.1),
    doubleLabelShare: z.number().min(0).max(1).default(0.05),
    /**
     * per-segment: each gate keeps its own chance of a false promotion under 1 − confidence.
     * e-bh: promotions into a stage are also chosen by e-BH across the workflow's segments, so the
     * expected share of false promotions among them stays under 1 − confidence however many segments.
     */
    falsePromotionControl: z.enum(['per-segment', 'e-bh']).default('per-segment'),
    /**
     * Most segments the workflow may have (each is a row, an Unleash strategy and metric series):
     * items of attribute values beyond it are pooled in the overflow segment, which stays in shadow.
     */
    maxSegments: z.number().int().min(1).max(5000).default(200),
    /** The segment that pools the values beyond maxSegments (never promoted). */
    overflowSegment: z
      .string()
      .min(1)
      .max(200)
      .refine((v) => v === v.trim().toLowerCase(), 'lower-case without surrounding spaces, as segment keys are')
      .default('(other)'),
  });
export type RolloutConfig = z.infer<typeof rolloutSchema>;

export const workflowDefinitionSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes, starting with a letter'),
  version: z.number().int().min(1),
  title: z.string().min(1),
  description: z.string().default(''),
  segmentBy: z.array(z.string().min(1)).min(1),
  decision: z.object({
    /** JSON Schema of the decision; also sent to the model as its structured-output format. */
    schema: z.record(z.string(), z.unknown()),
    /** A categorical field used for the confusion matrix and Cohen's kappa. */
    labelField: z.string().optional(),
  }),
  prompt: z.object({
    version: z.string().min(1),
    system: z.string().min(1),
    user: z.string().min(1).refine((s) => s.includes('{{input}}') || /\{\{input\.[^}]+\}\}/.test(s), 'must include {{input}} or {{input.<field>}}'),
  }),
  model: z.object({
    name: z.string().min(1),
    temperature: z.number().min(0).max(2).default(0),
    maxTokens: z.number().int().min(16).max(32000).default(400),
    /** Where confidence comes from: answer-token logprobs, a field the model fills, or logprobs when offered. */
    confidence: z.enum(['logprobs', 'self-reported', 'auto']).default('auto'),
  }),
  comparator: z.object({ fields: z.record(z.string(), fieldMatchSchema).refine((f) => Object.keys(f).length > 0, 'at least one field') }),
  redact: z.array(fieldPath).default([]),
  budget: z
    .object({ dailyTokens: z.number().int().min(1).optional(), dailyCostUsd: z.number().gt(0).optional() })
    .default({}),
  rateLimitPerSecond: z.number().gt(0).default(200),
  rollout: rolloutSchema,
});

export type WorkflowDefinition = z.infer<typeof workflowDefinitionSchema>;
export type WorkflowDefinitionInput = z.input<typeof workflowDefinitionSchema>;

export type WorkflowRole = 'champion' | 'challenger' | 'retired';

export interface WorkflowVersion {
  workflow: string;
  version: number;
  role: WorkflowRole;
  definition: WorkflowDefinition;
  definitionHash: string;
}

export class WorkflowDefinitionError extends Error {
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super(`${where}: ${problems.join('; ')}`);
    this.name = 'WorkflowDefinitionError';
  }
}

/** Validates a definition, including the cross-field rules zod alone cannot state. */
export function parseWorkflowDefinition(raw: unknown, where = 'workflow'): WorkflowDefinition {
  const parsed = workflowDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    throw new WorkflowDefinitionError(
      where,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const def = parsed.data;
  const problems: string[] = [];
  const schema = def.decision.schema as { type?: unknown; properties?: Record<string, unknown> };
  if (schema.type !== 'object' || typeof schema.properties !== 'object' || schema.properties === null) {
    problems.push('decision.schema: must be an object schema with properties');
  } else {
    for (const field of Object.keys(def.comparator.fields)) {
      if (!(field in schema.properties)) problems.push(`comparator.fields.${field}: not a property of decision.schema`);
    }
    if (def.decision.labelField && !(def.decision.labelField in schema.properties)) {
      problems.push(`decision.labelField: "${def.decision.labelField}" is not a property of decision.schema`);
    }
    if ('confidence' in schema.properties && def.model.confidence !== 'logprobs') {
      problems.push('decision.schema: "confidence" is reserved for the model\'s self-reported confidence');
    }
  }
  if (problems.length) throw new WorkflowDefinitionError(where, problems);
  return def;
}
