import { z } from 'zod';

/**
 * A workflow version: everything that decides how the AI is asked, how its answer is judged
 * and how the rollout may proceed. Versions are immutable once stored; a change is a new version.
 */

const fieldPath = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*(\.([A-Za-z_][A-Za-z0-9_-]*|\*))*$/, 'a dot path such as customer.email or lines.*.iban');

// Every field carries a description: schemas/workflows.schema.json and docs/workflows.md are
// generated from them (npm run workflows:schema), so say what a field does, not how it is typed.
export const fieldMatchSchema = z
  .discriminatedUnion('match', [
    z.object({
      match: z.literal('exact').describe('Equal values: strings compared after trimming, arrays and objects compared deeply.'),
      caseInsensitive: z.boolean().default(false).describe('When both values are strings, also ignore upper and lower case.'),
    }),
    z.object({
      match: z
        .literal('number')
        .describe(
          'Numbers (or numeric strings) that differ by at most the larger of absTolerance and relTolerance × the larger magnitude; anything else never agrees.',
        ),
      absTolerance: z.number().min(0).default(0).describe('Largest absolute difference that still agrees, e.g. 0.01 for cents.'),
      relTolerance: z.number().min(0).max(1).default(0).describe('Largest difference relative to the larger of the two magnitudes, e.g. 0.001 for 0.1 %.'),
    }),
    z.object({
      match: z
        .literal('date')
        .describe('Dates: the first ten characters (YYYY-MM-DD) are compared, within toleranceDays; a value that does not start with a date never agrees.'),
      toleranceDays: z.number().int().min(0).default(0).describe('Days apart that still agree.'),
    }),
    z.object({
      match: z
        .literal('text')
        .describe(
          'Free text, equal after Unicode NFKC normalisation, lower-casing, replacing the punctuation . , ; : ! ? \' " ( ) by spaces and collapsing whitespace.',
        ),
    }),
    z.object({
      match: z.literal('set').describe('Arrays holding the same distinct elements, in any order; anything else never agrees.'),
      caseInsensitive: z.boolean().default(false).describe('Compare string elements ignoring upper and lower case and surrounding spaces.'),
    }),
  ])
  .describe(
    'How one decision field is compared. A field missing on both sides (absent, null or a blank string) agrees; missing on one side only, it does not.',
  );
export type FieldMatch = z.infer<typeof fieldMatchSchema>;

const gateSchema = z.object({
  minSample: z
    .number()
    .int()
    .min(1)
    .default(200)
    .describe(
      "Fewest blind labels (people who decided without seeing the AI's answer) in the current step before the gate can pass; below it the gate waits, it never fails for want of data.",
    ),
  minDwellMinutes: z.number().min(0).default(60).describe('Least time at the current step before the gate can pass, in minutes (fractions allowed).'),
  agreementTarget: z
    .number()
    .gt(0)
    .lt(1)
    .describe(
      'Blind agreement with people the AI must be shown to reach: the lower bound of its anytime-valid confidence sequence (at `confidence`) must be at or above it; ' +
        "the gate fails when even the upper bound is below. The supervised gate's target is also what the supervised guard defends when too few blind labels measure a baseline.",
    ),
  confidence: z
    .number()
    .gt(0.5)
    .lt(1)
    .default(0.95)
    .describe(
      'Confidence level of every interval this gate judges (agreement, override rate, error rate, human parity): the chance that a segment whose true agreement sits at the target ' +
        'is ever promoted stays under 1 − confidence, however many cycles look. With falsePromotionControl e-bh, 1 − confidence is also the e-BH level of promotions into this stage.',
    ),
  maxOverrideRate: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe(
      'Ceiling on the share of AI suggestions people overrode when they reviewed them: the upper bound of its confidence sequence must be at or under it. ' +
        'Judged only while the segment is at supervised (shadow has no reviews; at confidence-routed the reviews are of low-confidence items, overridden more by design). Off when absent.',
    ),
  maxErrorRate: z
    .number()
    .min(0)
    .max(1)
    .default(0.05)
    .describe(
      'Ceiling on the share of model calls that failed (error, timeout or invalid output): the upper bound of its confidence sequence must be at or under it.',
    ),
  approval: z
    .boolean()
    .default(false)
    .describe("Entering this stage also waits for a program manager's approval once every criterion holds (steps within the stage do not ask again)."),
  humanParityMargin: z
    .number()
    .min(0)
    .max(0.5)
    .optional()
    .describe(
      'Human parity: the AI may agree with people less often than a second person does by at most this much, shown by a paired non-inferiority test at `confidence` ' +
        'on blind double-labelled items of the last thresholdWindowDays (rollout.doubleLabelShare, drawn in shadow). Until it is shown the gate waits. Off when absent.',
    ),
});
export type GateConfig = z.infer<typeof gateSchema>;

const guardSchema = z.object({
  minDetectableDrop: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.06)
    .describe(
      'The drop in blind agreement below the baseline the guard is tuned to catch fastest: its CUSUM weighs the baseline against baseline − minDetectableDrop.',
    ),
  targetArl0: z
    .number()
    .int()
    .min(1000)
    .default(500_000)
    .describe(
      'Expected blind labels between false reverts when nothing has changed (the in-control average run length); it sets the CUSUM threshold. Higher: fewer false reverts, slower detection.',
    ),
  baselineConfidence: z
    .number()
    .gt(0.5)
    .lt(1)
    .default(0.95)
    .describe(
      "Confidence level of the baseline's lower bound. The baseline is blind agreement measured before the stage (at supervised: the shadow and supervised arms' blind labels " +
        "of the last thresholdWindowDays; at confidence-routed: the certified threshold's accuracy above it), and the CUSUM threshold is raised until targetArl0 holds even if " +
        "the true baseline is only its Wilson lower bound at this confidence. With too few blind labels (under 100) or too uncertain a baseline, the stage's target is " +
        "defended instead (the supervised gate's agreementTarget, or accuracyTarget).",
    ),
  threshold: z
    .number()
    .gt(0)
    .max(30)
    .optional()
    .describe(
      'A fixed CUSUM threshold h instead of the one derived from targetArl0 and the baseline. Off when absent. At most 30: the in-control run length is at least e^h ' +
        "blind labels (e^30 ≈ 10^13), and the guard's risk arithmetic grows with h (a threshold of 10^6 once stopped every controller cycle).",
    ),
});
export type GuardConfig = z.infer<typeof guardSchema>;

const guardrailLimit = (max: z.ZodNumber, description: string) =>
  z
    .object({
      max: max.describe(description),
      policy: z.enum(['revert', 'pause', 'alert']).optional().describe("What a breach does; the workflow's regressionPolicy when absent."),
    })
    .describe(description);

export const rolloutSchema = z.object({
  steps: z
    .array(z.number().int().min(1).max(100))
    .min(1)
    .default([10, 25, 50, 100])
    .refine((s) => s.every((v, i) => i === 0 || v > s[i - 1]) && s[s.length - 1] === 100, 'increasing percentages ending at 100')
    // uniqueItems and contains say in JSON Schema part of what the refinement checks.
    .meta({
      description:
        'Traffic percentages of the steps within supervised and within confidence-routed: a segment enters each stage at the first step and climbs one step at a time, ' +
        'each step judged by the gate of the stage it goes into. Whole numbers from 1 to 100, strictly increasing, ending at 100.',
      uniqueItems: true,
      contains: { const: 100 },
    }),
  gates: z
    .object({
      supervised: gateSchema.describe('The gate of every step into and within supervised. From shadow it judges the shadow arm, where every label is blind.'),
      'confidence-routed': gateSchema.describe(
        'The gate of every step into and within confidence-routed. Entering the stage also needs a certified (or fixed) confidence threshold.',
      ),
    })
    .describe(
      "The promotion gates, one per stage a segment can enter. Every controller cycle judges a segment's next step on the blind labels of its current step " +
        "(items the AI decided since the step began, in the arm at the segment's stage); every criterion must hold to promote.",
    ),
  guard: guardSchema
    .default(guardSchema.parse({}))
    .describe(
      "The regression guard: a CUSUM over the blind labels of a segment's live arm, armed whenever the segment enters supervised or confidence-routed " +
        '(and, at confidence-routed, for each new threshold). When it crosses its threshold, rollout.regressionPolicy says what happens (by default the segment is reverted and the auto decisions it covers are listed for re-review).',
    ),
  regressionPolicy: z
    .enum(['revert', 'pause', 'alert'])
    .default('revert')
    .describe(
      'What a breach of the regression guard does. `revert`: the segment goes down (rollout.revert), is locked until a person resumes, and the `auto` decisions the ' +
        'breaching evidence covers are listed for re-review. `pause`: the stage and its routing stay, promotions hold until a person resumes, an alert is sent. ' +
        '`alert`: an alert and an audit entry only. Under `pause` and `alert` the guard starts again after each breach, so a drop that persists alerts again.',
    ),
  guardrails: z
    .object({
      errorRate: guardrailLimit(z.number().gt(0).lt(1), 'Most share of model calls that fail or answer invalid output (e.g. 0.05).').optional(),
      latencyP95Ms: guardrailLimit(
        z.number().positive(),
        "Most p95 of the model's latency in ms, judged at the latency histogram's next bucket bound up.",
      ).optional(),
      costPerItemUsd: guardrailLimit(z.number().positive(), 'Most mean cost per model call in USD.').optional(),
      confidence: z
        .number()
        .gt(0.5)
        .lt(1)
        .default(0.99)
        .describe(
          '1 − the chance of a false breach of the error-rate and latency guardrails over a stage (split between them); their bounds are anytime-valid, so every look may judge.',
        ),
      minCalls: z.number().int().min(1).default(200).describe('Fewest model calls since the stage began (or the last breach) before a guardrail is judged.'),
    })
    .default({ confidence: 0.99, minCalls: 200 })
    .describe(
      "Guardrails beyond agreement, judged on the model calls of a segment's stage above shadow every cycle: each has its own maximum and policy (default: regressionPolicy). " +
        'None when absent. See rollout/domain/guardrails.ts.',
    ),
  monitors: z
    .object({
      enabled: z.boolean().default(true).describe('Watch the AI’s decisions for drift that needs no label, above shadow.'),
      targetArl0: z
        .number()
        .int()
        .min(10_000)
        .default(500_000)
        .describe(
          'Expected decisions between false alarms of the label-free monitor, however often it looks (at 2,000 a day, 500,000 is 4 per 1,000 segment-days).',
        ),
      minReference: z
        .number()
        .int()
        .min(100)
        .default(1000)
        .describe("Fewest decisions in the monitor's reference (the window before the stage); with fewer, the stage's first decisions complete it."),
      auditFactor: z
        .number()
        .min(1)
        .default(8)
        .describe('After an alarm the segment’s blind share (auditShare at confidence-routed, supervisedBlindShare at supervised) is multiplied by this…'),
      auditCap: z
        .number()
        .gt(0)
        .max(1)
        .default(0.4)
        .describe('…up to this share, until the blind labels since the alarm rule out the drop the guard is tuned for.'),
      holdPromotions: z.boolean().default(false).describe('Promotions wait while a monitor’s alarm keeps the blind share raised.'),
    })
    .default({ enabled: true, targetArl0: 500_000, minReference: 1000, auditFactor: 8, auditCap: 0.4, holdPromotions: false })
    .describe(
      "Early warning without labels: a drift monitor over the AI's decisions (confidence × answer on decision.labelField) against the window the stage was promoted on, " +
        'with a stated false-alarm rate under continuous looks. An alarm alerts, is audited, and raises the segment’s blind share so the regression guard hears more; ' +
        'back to the base share once the blind labels since the alarm rule out the drop the guard is tuned for. See rollout/domain/drift-watch.ts.',
    ),
  revert: z
    .enum(['one-stage', 'to-shadow'])
    .default('one-stage')
    .describe(
      'Where a regressed segment goes: `one-stage` to the stage below at 100 % (confidence-routed → supervised, supervised → shadow); `to-shadow` straight to shadow.',
    ),
  accuracyTarget: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.9)
    .describe(
      'The accuracy the confidence threshold guarantees above it (the items routed `auto`): the lowest threshold whose accuracy above it is shown to be at least this, ' +
        'with probability at least 1 − delta, on blind calibration labels (drawn alike at every confidence) is certified. Also what the confidence-routed guard defends when it has no measured baseline.',
    ),
  delta: z
    .number()
    .gt(0)
    .lt(0.5)
    .default(0.1)
    .describe(
      "The accepted chance that the threshold's guarantee fails. The tests are anytime-valid, so the threshold may be recomputed every cycle; blind audits above a threshold " +
        'withdraw it as soon as their 1 − delta confidence sequence puts its accuracy below accuracyTarget.',
    ),
  minLabelsPerThreshold: z
    .number()
    .int()
    .min(1)
    .default(100)
    .describe(
      'Candidate thresholds with fewer calibration labels at or above them are skipped, not tested: a rule on counts only, so the guarantee holds. Candidates are tested ' +
        'from the highest down and the first one not certified stops the search, so too low a value lets a few top labels decide: at 30, one error among them blocks every lower threshold.',
    ),
  thresholdWindowDays: z
    .number()
    .gt(0)
    .default(7)
    .describe(
      "How many past days of labels count: the threshold's calibration set, the supervised guard's measured baseline and human parity (fractions allowed).",
    ),
  auditShare: z
    .number()
    .min(0)
    .max(1)
    .default(0.05)
    .describe(
      'Share of the confidence-routed items at or above the threshold routed `audit` instead of `auto` (a person decides blind), and of every confidence-routed item while no threshold ' +
        "is certified. These audits certify and watch the threshold and are the blind evidence of confidence-routed's gate and guard.",
    ),
  supervisedBlindShare: z
    .number()
    .min(0)
    .max(1)
    .default(0.1)
    .describe(
      'Share of the supervised arm routed `audit` instead of `suggest`: a person decides without seeing the suggestion, so supervised has blind evidence of its own for its gate and guard. ' +
        'Raise it where traffic is thin: each step needs minSample blind labels.',
    ),
  doubleLabelShare: z
    .number()
    .min(0)
    .max(1)
    .default(0.05)
    .describe(
      'Share of shadow items routed `double-label`: a second person decides the item too, blind, for the human-vs-human baseline (human parity, reports).',
    ),
  falsePromotionControl: z
    .enum(['per-segment', 'e-bh'])
    .default('per-segment')
    .describe(
      '`per-segment`: each gate keeps its own chance of a false promotion under 1 − confidence. `e-bh`: promotions into a stage are also chosen by e-BH across the ' +
        "workflow's segments, so the expected share of false promotions among them stays under 1 − confidence however many segments there are.",
    ),
  maxSegments: z
    .number()
    .int()
    .min(1)
    .max(5000)
    .default(200)
    .describe(
      'Most segments the workflow may have, not counting the overflow segment: each is a database row, an Unleash strategy and metric series. ' +
        'Items whose segment key would make a segment beyond it are stored in the overflow segment (their attributes keep their values).',
    ),
  overflowSegment: z
    .string()
    .min(1)
    .max(200)
    .refine((v) => v === v.trim().toLowerCase(), 'lower-case without surrounding spaces, as segment keys are')
    .default('(other)')
    .describe(
      'The segment that pools the items beyond maxSegments. It stays in shadow: it is never promoted, and a stage set for it in Unleash is written back. ' +
        'Lower-case without surrounding spaces, as segment keys are.',
    ),
});
export type RolloutConfig = z.infer<typeof rolloutSchema>;

export const workflowDefinitionSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes, starting with a letter')
    .describe(
      "The workflow's id, as work items and decisions name it in `workflow`; its Unleash flag is `understudy.<name>`. 2 to 63 characters: lower-case letters, digits and dashes, starting with a letter.",
    ),
  version: z
    .number()
    .int()
    .min(1)
    .describe(
      "This definition's version number. A stored version never changes (the service refuses to start when the file's entry differs from the stored one): any change needs a higher number. Decisions and reports carry it.",
    ),
  title: z.string().min(1).describe('Name shown to people (dashboard, API).'),
  description: z.string().default('').describe('Longer text for people (dashboard, API).'),
  segmentBy: z
    .array(z.string().min(1))
    .min(1)
    .describe(
      "Work-item attributes whose values name an item's segment, in this order: [channel, region] makes `email|eu`. Every work item must carry each of them, non-empty and without `|`, " +
        "or it is refused to the DLQ; values are trimmed and lower-cased (see Segment keys). The champion's list is the one in force.",
    ),
  decision: z
    .object({
      schema: z
        .record(z.string(), z.unknown())
        // required/properties state in JSON Schema the rule parseWorkflowDefinition checks below.
        .meta({
          description:
            'JSON Schema of the decision. The model is asked to answer in exactly this format (OpenAI structured output with `strict: true`: a strict provider wants ' +
            '`additionalProperties: false` and every property in `required`, a value that may be absent taking a `null` type), and an answer that does not validate is an ' +
            'invalid output: the item stays with people. Must be `type: object` with `properties`. Unless model.confidence is `logprobs`, the property `confidence` is reserved: the service adds it.',
          required: ['type', 'properties'],
          properties: { type: { const: 'object' }, properties: { type: 'object' } },
        }),
      labelField: z
        .string()
        .optional()
        .describe(
          "A categorical property of decision.schema (e.g. category) whose values give the reports' confusion matrix and Cohen's kappa. None when absent.",
        ),
      criticalClasses: z
        .array(
          z.object({
            field: z.string().min(1).describe('A property of decision.schema.'),
            value: z.union([z.string(), z.number(), z.boolean()]).describe('The answer on that field whose mistakes cost more (equal values only).'),
            minDetectableDrop: z
              .number()
              .gt(0)
              .lt(1)
              .default(0.2)
              .describe("The drop in the class's blind recall or precision below its baseline that its guard is tuned to catch fastest."),
            target: z
              .number()
              .gt(0)
              .lt(1)
              .default(0.8)
              .describe('The recall and precision defended while fewer than 100 blind labels of the class measure a baseline.'),
          }),
        )
        .max(10)
        .default([])
        .describe(
          'Answers whose mistakes cost more (e.g. priority `urgent`, queue `fraud`). Each gets a regression guard of its own on its blind recall and precision, so the collapse ' +
            'of a rare class is caught while overall agreement still looks fine; a breach is handled as rollout.regressionPolicy says. Armed with the overall guard ' +
            '(rollout.guard: targetArl0, baselineConfidence) on the blind labels of the class over thresholdWindowDays before the stage. None when empty.',
        ),
    })
    .describe('What the AI answers.'),
  prompt: z
    .object({
      version: z
        .string()
        .min(1)
        .describe(
          'Your name for this prompt, e.g. triage-2026-11-a: recorded with every AI decision and routing event, and a dimension of the reports. Change it whenever a template changes.',
        ),
      system: z.string().min(1).describe('Template of the system message (see Prompt placeholders).'),
      user: z
        .string()
        .min(1)
        .regex(/\{\{input(\}\}|\.[^}]+\}\})/, 'must include {{input}} or {{input.<field>}}')
        .describe(
          'Template of the user message (see Prompt placeholders). It must contain `{{input}}` or `{{input.<field>}}`, written without spaces inside the braces.',
        ),
    })
    .describe('The prompt: two templates, and the version that names them.'),
  model: z
    .object({
      name: z.string().min(1).describe('Model name sent to the OpenAI-compatible endpoint (MODEL_BASE_URL); also how MODEL_PRICES_JSON prices its tokens.'),
      temperature: z.number().min(0).max(2).default(0).describe('Sampling temperature.'),
      maxTokens: z
        .number()
        .int()
        .min(16)
        .max(32000)
        .default(400)
        .describe('Most completion tokens per call; the budget reserves this many for the answer before each call.'),
      confidence: z
        .enum(['logprobs', 'self-reported', 'auto'])
        .default('auto')
        .describe(
          "Where a decision's confidence, which confidence-routed compares with the threshold, comes from. `logprobs`: the probability the model gave to the tokens of the " +
            "compared fields' values; it needs a provider that returns logprobs, and a decision without them has no confidence and goes to review, never `auto`. " +
            '`self-reported`: the service adds a required `confidence` field (0 to 1) to the decision schema, which the model fills with its own probability that the decision is ' +
            'what an expert would decide; logprobs are not requested, and an answer without a valid confidence is invalid. `auto`: logprobs when the provider returns them, ' +
            'the self-reported field otherwise (it is asked for on every call).',
        ),
    })
    .describe('The model and how it is called.'),
  comparator: z
    .object({
      fields: z
        .record(z.string(), fieldMatchSchema)
        .refine((f) => Object.keys(f).length > 0, 'at least one field')
        .meta({
          description:
            "The decision fields that must all agree for two decisions (the AI's and a person's, or two people's) to agree, each with its rule; fields not listed (a reply draft, say) " +
            "never count. Each must be a property of decision.schema, and people's decisions must carry every one of them or they are refused to the DLQ.",
          minProperties: 1,
        }),
    })
    .describe("How an AI decision is judged against a person's."),
  redact: z
    .array(fieldPath)
    .default([])
    .describe(
      'Dot paths of input fields replaced by "[redacted]" before the prompt is filled, so the model never sees them; `*` matches every key of an object or every element ' +
        'of an array (lines.*.iban). Paths an item lacks are skipped.',
    ),
  budget: z
    .object({
      dailyTokens: z.number().int().min(1).optional().describe('Most prompt plus completion tokens a day. No limit when absent.'),
      dailyCostUsd: z
        .number()
        .gt(0)
        .optional()
        .describe(
          'Most US dollars a day, priced with MODEL_PRICES_JSON (a model without a price there is refused: it would count as free). Shared by every instance. No limit when absent.',
        ),
    })
    .default({})
    .describe(
      'Daily spending limits of the workflow over all instances, per UTC day. Before each call its worst case (estimated prompt tokens plus maxTokens, and their price) is ' +
        'reserved; a call that would go over is not made and the item stays with people, and the gates hold every segment while the budget is exhausted.',
    ),
  rateLimitPerSecond: z.number().gt(0).default(200).describe('Model calls a second for this workflow, per instance: with several instances the calls add up.'),
  rollout: rolloutSchema.describe('How segments move from shadow through supervised to confidence-routed, and back.'),
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

/** One problem of a definition: the field's path (rollout.gates.supervised.minSample, redact[2]) and what is wrong. */
export interface WorkflowIssue {
  path: string;
  message: string;
}

export class WorkflowDefinitionError extends Error {
  constructor(
    readonly where: string,
    readonly problems: string[],
    /** The same problems with their paths apart ('' when a problem has none). */
    readonly issues: WorkflowIssue[] = problems.map((message) => ({ path: '', message })),
  ) {
    super(`${where}: ${problems.join('; ')}`);
    this.name = 'WorkflowDefinitionError';
  }
}

/** `['rollout', 'steps', 0]` → `rollout.steps[0]`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

const EXPECTED: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

/** Zod's messages, said the way docs/workflows.md states the limits ("must be ≥ 1"); undefined keeps zod's own. */
const workflowErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      if (issue.origin === 'number' || issue.origin === 'int') return `must be ${small ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<'} ${bound}`;
      if (issue.origin === 'string') return small && bound === 1 ? 'must not be empty' : `must have ${small ? 'at least' : 'at most'} ${bound} characters`;
      if (issue.origin === 'array') return `must have ${small ? 'at least' : 'at most'} ${bound} ${bound === 1 ? 'entry' : 'entries'}`;
      return undefined;
    }
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describeValue(issue.input)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union': {
      // A discriminated union names the values its discriminator may take.
      const options = (issue as { options?: unknown[] }).options;
      return Array.isArray(options) && options.length > 0 ? `must be one of ${options.map((v) => JSON.stringify(v)).join(', ')}` : undefined;
    }
    default:
      return undefined;
  }
};

/** Validates a definition, including the cross-field rules zod alone cannot state. */
export function parseWorkflowDefinition(raw: unknown, where = 'workflow'): WorkflowDefinition {
  const parsed = workflowDefinitionSchema.safeParse(raw, { error: workflowErrorMap });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: formatFieldPath(i.path), message: i.message }));
    throw new WorkflowDefinitionError(
      where,
      issues.map((i) => `${i.path || '(root)'}: ${i.message}`),
      issues,
    );
  }
  const def = parsed.data;
  const issues: WorkflowIssue[] = [];
  const schema = def.decision.schema as { type?: unknown; properties?: Record<string, unknown> };
  if (schema.type !== 'object' || typeof schema.properties !== 'object' || schema.properties === null) {
    issues.push({ path: 'decision.schema', message: 'must be an object schema with properties' });
  } else {
    for (const field of Object.keys(def.comparator.fields)) {
      if (!(field in schema.properties)) issues.push({ path: `comparator.fields.${field}`, message: 'not a property of decision.schema' });
    }
    if (def.decision.labelField && !(def.decision.labelField in schema.properties)) {
      issues.push({ path: 'decision.labelField', message: `"${def.decision.labelField}" is not a property of decision.schema` });
    }
    def.decision.criticalClasses.forEach((c, i) => {
      if (!(c.field in schema.properties!))
        issues.push({ path: `decision.criticalClasses.${i}.field`, message: `"${c.field}" is not a property of decision.schema` });
    });
    const names = def.decision.criticalClasses.map((c) => `${c.field}=${String(c.value)}`);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) issues.push({ path: `decision.criticalClasses.${i}`, message: `${n} is named twice` });
    });
    if ('confidence' in schema.properties && def.model.confidence !== 'logprobs') {
      issues.push({ path: 'decision.schema', message: '"confidence" is reserved for the model\'s self-reported confidence' });
    }
  }
  if (issues.length) {
    throw new WorkflowDefinitionError(
      where,
      issues.map((i) => `${i.path}: ${i.message}`),
      issues,
    );
  }
  return def;
}
