import { parse as parseYaml, stringify } from 'yaml';
import type { ScenarioInput } from '../../tools/simulator/scenario';
import { parseWorkflowFile } from '../../src/workflows/domain/workflow-file';
import type { DemoOptions } from './options';

/**
 * What the demo does, as data: the work floor's mix of segments, how good the (simulated) model
 * is in each, the timings of each mode, and the workflows file the service runs with. Pure, so a
 * unit test can check that the numbers tell the intended story.
 */

/** A segment of the work floor: its attributes, its share of the workflow's items, the simulated model's accuracy there. */
export interface SegmentMix {
  attributes: [string, string];
  weight: number;
  accuracy: number;
}

export interface DemoPlan {
  fast: boolean;
  realModel: boolean;
  workflows: { triage: string; invoice: string };
  killSwitchFlag: string;
  /** The segment the story follows: clearly good, so it climbs; later it drifts and is reverted. */
  showcase: { workflow: string; segment: string };
  /** Work items per second, and the share of them that are support tickets (the rest: invoices). */
  rate: number;
  triageShare: number;
  triage: SegmentMix[];
  invoice: SegmentMix[];
  /** Simulated people: how long they take to act, how often they err. */
  thinkTimeMs: number;
  humanErrorRate: number;
  /** Anchoring: the share of wrong suggestions the simulated reviewers accept. */
  acceptWrongRate: number;
  agents: number;
  controllerIntervalMs: number;
  unleashRefreshMs: number;
  /** How long the demo's program manager takes to approve a step that waits for approval. */
  approveDelayMs: number;
  /** How long the showcase holds at the top before the model drifts. */
  holdAtTopMs: number;
  /** The simulated model's accuracy in the showcase segment once it drifts. */
  driftAccuracy: number;
  /** Normal mode: the drift ends this long after the revert (the segment stays locked until a person resumes). */
  driftEndsAfterMs: number | null;
  /** Fast mode: after the revert, finish. */
  finishAfterRevert: boolean;
  timeoutMs: number | null;
  summaryEveryMs: number;
  model: string | null;
}

const TRIAGE: SegmentMix[] = [
  { attributes: ['email', 'eu'], weight: 5, accuracy: 0.96 },
  { attributes: ['email', 'us'], weight: 2, accuracy: 0.87 },
  { attributes: ['chat', 'eu'], weight: 2, accuracy: 0.84 },
  { attributes: ['chat', 'us'], weight: 1, accuracy: 0.8 },
  { attributes: ['phone', 'apac'], weight: 1, accuracy: 0.7 },
];

const INVOICE: SegmentMix[] = [
  { attributes: ['invoice', 'eu'], weight: 3, accuracy: 0.9 },
  { attributes: ['invoice', 'us'], weight: 2, accuracy: 0.86 },
  { attributes: ['claim', 'eu'], weight: 1, accuracy: 0.8 },
  { attributes: ['claim', 'uk'], weight: 1, accuracy: 0.74 },
];

export const SHOWCASE_SEGMENT = 'email|eu';

export function segmentKey(m: SegmentMix): string {
  return m.attributes.join('|');
}

export function buildPlan(o: DemoOptions, realModel: boolean): DemoPlan {
  const suffix = o.suffix ? `-${o.suffix}` : '';
  const workflows = { triage: `support-triage${suffix}`, invoice: `invoice-extraction${suffix}` };
  const fast = o.fast;
  const triage = fast ? TRIAGE.map((m) => (segmentKey(m) === SHOWCASE_SEGMENT ? { ...m, weight: 8, accuracy: 0.97 } : m)) : TRIAGE;
  return {
    fast,
    realModel,
    workflows,
    killSwitchFlag: `understudy.kill-switch${suffix}`,
    showcase: { workflow: workflows.triage, segment: SHOWCASE_SEGMENT },
    rate: o.rate ?? (realModel ? 2 : fast ? 40 : 30),
    triageShare: fast ? 0.7 : 0.6,
    triage,
    invoice: INVOICE,
    thinkTimeMs: fast ? 2500 : 4000,
    humanErrorRate: fast ? 0.01 : 0.02,
    // Reviewers shown a wrong suggestion accept it this often: the demo's reports show anchored agreement above blind.
    acceptWrongRate: 0.3,
    agents: 40,
    controllerIntervalMs: fast ? 500 : 2000,
    unleashRefreshMs: fast ? 500 : 1000,
    approveDelayMs: fast ? 1000 : 5000,
    holdAtTopMs: fast ? 5000 : 40_000,
    driftAccuracy: 0.5,
    driftEndsAfterMs: fast || realModel ? null : 60_000,
    finishAfterRevert: fast,
    timeoutMs: o.timeoutSeconds !== null ? (o.timeoutSeconds === 0 ? null : o.timeoutSeconds * 1000) : fast ? 300_000 : null,
    summaryEveryMs: fast ? 5000 : 10_000,
    model: o.model,
  };
}

/** The work floor's segment lists: a segment listed k times is picked k times as often. */
export function weightedSegments(mix: SegmentMix[]): Array<[string, string]> {
  return mix.flatMap((m) => Array.from({ length: m.weight }, () => m.attributes));
}

/** The model simulator's scenario: per-segment accuracy, realistic latency and a few failures. */
export function simulatorScenario(plan: DemoPlan): ScenarioInput {
  const segments: Record<string, { accuracy: number }> = {};
  for (const m of [...plan.triage, ...plan.invoice]) segments[segmentKey(m)] = { accuracy: m.accuracy };
  return {
    description: 'Understudy demo: good on support-triage email|eu, mediocre elsewhere',
    accuracy: 0.8,
    segments,
    confidence: CALIBRATED_CONFIDENCE,
    latencyMs: { distribution: 'lognormal', median: 250, p95: 900 },
    errors: { rate429: 0.002, retryAfterSeconds: 1, rate500: 0.002 },
    malformedRate: 0.001,
    seed: 2026,
  };
}

/** The simulator's confidence model: calibrated, and — once the model drifts — confidently wrong. */
export const CALIBRATED_CONFIDENCE = { correctMean: 0.9, wrongMean: 0.6, spread: 0.1 };
export const DRIFT_ANSWER_BIAS = { field: 'category', value: 'other', share: 0.8 };
export const DRIFTED_CONFIDENCE = { correctMean: 0.9, wrongMean: 0.88, spread: 0.06 };

/**
 * The merge patch that makes the showcase segment drift from now on. A real drift is confidently
 * wrong: wrong answers stop looking uncertain, so they pass the threshold and the blind audits
 * (which the regression guard watches at confidence-routed) catch them.
 */
export function driftPatch(plan: DemoPlan, now: Date): Record<string, unknown> {
  return {
    // Wrong answers slide to `other` (a model meeting inputs it does not know): the answer mix moves, so the label-free drift monitor warns before labels arrive.
    drift: [{ segment: plan.showcase.segment, atTime: now.toISOString(), accuracy: plan.driftAccuracy, answerBias: DRIFT_ANSWER_BIAS }],
    confidence: DRIFTED_CONFIDENCE,
  };
}

/** The merge patch that ends the drift. */
export function driftEndPatch(): Record<string, unknown> {
  return { drift: [], confidence: CALIBRATED_CONFIDENCE };
}

/**
 * The workflows file the service runs with: config/workflows.demo.yaml, renamed with the suffix,
 * with shorter gates in fast mode, another model name if asked, and — for a real model — the
 * simulator's ground truth (input.simulation) redacted, so the model never sees the answer.
 */
export function demoWorkflowsYaml(source: string, plan: DemoPlan): string {
  const doc = parseYaml(source) as { workflows: Array<Record<string, unknown>> };
  const rename: Record<string, string> = { 'support-triage': plan.workflows.triage, 'invoice-extraction': plan.workflows.invoice };
  for (const w of doc.workflows) {
    const name = w.name as string;
    if (rename[name]) w.name = rename[name];
    if (plan.model) w.model = { ...(w.model as object), name: plan.model };
    if (plan.realModel) w.redact = [...((w.redact as string[] | undefined) ?? []), 'simulation'];
    if (plan.fast) {
      const rollout = w.rollout as { gates: Record<string, Record<string, unknown>>; steps: number[]; supervisedBlindShare: number; auditShare: number };
      // Fewer steps and larger blind samples, so every step has blind evidence of its own within seconds.
      rollout.steps = [50, 100];
      rollout.supervisedBlindShare = 0.5;
      rollout.auditShare = 0.5;
      rollout.gates.supervised = { ...rollout.gates.supervised, minSample: 100, minDwellMinutes: 0.15 };
      rollout.gates['confidence-routed'] = {
        ...rollout.gates['confidence-routed'],
        minSample: 100,
        minDwellMinutes: 0.15,
        agreementTarget: 0.85,
        maxOverrideRate: 0.15,
      };
    }
  }
  const text = stringify(doc);
  parseWorkflowFile(text, 'demo workflows'); // fail here, with the field named, rather than in the service
  return text;
}
