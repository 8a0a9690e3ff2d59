import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { findRepoRoot } from '../harness/kafka-cluster';

/**
 * Builds a workflows file of a test's own from the shipped one: unique workflow names (so flags
 * in the shared Unleash do not collide), a model name of its own (so the shared simulator's
 * scenario is the test's), and optional overrides of the rollout settings.
 */
export interface TestWorkflows {
  file: string;
  triage: string;
  invoice: string;
  model: string;
}

export interface WorkflowOverrides {
  suffix: string;
  /** Deep-merged into each workflow entry. */
  triage?: Record<string, unknown>;
  invoice?: Record<string, unknown>;
  /** Extra entries (e.g. a challenger version), already complete. */
  extra?: Array<Record<string, unknown>>;
}

function merge(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch) || base === null || typeof base !== 'object' || Array.isArray(base)) return patch;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v);
  return out;
}

export function shippedWorkflows(): Array<Record<string, unknown>> {
  const root = findRepoRoot(__dirname);
  return (parse(readFileSync(path.join(root, 'config', 'workflows.yaml'), 'utf8')) as { workflows: Array<Record<string, unknown>> }).workflows;
}

export function writeTestWorkflows(o: WorkflowOverrides): TestWorkflows {
  const [triage, invoice] = shippedWorkflows();
  const model = `sim-${o.suffix}`;
  const names = { triage: `triage-${o.suffix}`, invoice: `invoice-${o.suffix}` };
  const t = merge({ ...triage, name: names.triage, model: { ...(triage.model as object), name: model } }, o.triage) as Record<string, unknown>;
  const i = merge({ ...invoice, name: names.invoice, model: { ...(invoice.model as object), name: model } }, o.invoice) as Record<string, unknown>;
  const dir = mkdtempSync(path.join(tmpdir(), 'understudy-wf-'));
  const file = path.join(dir, 'workflows.yaml');
  writeFileSync(file, stringify({ workflows: [t, i, ...(o.extra ?? [])] }));
  return { file, triage: names.triage, invoice: names.invoice, model };
}

/** Gates that a test can pass in seconds. */
export function fastGates(opts: { minSample?: number; supervisedTarget?: number; routedTarget?: number; approval?: boolean } = {}) {
  return {
    rollout: {
      gates: {
        supervised: { minSample: opts.minSample ?? 60, minDwellMinutes: 0, agreementTarget: opts.supervisedTarget ?? 0.8, approval: false },
        'confidence-routed': {
          minSample: opts.minSample ?? 60,
          minDwellMinutes: 0,
          agreementTarget: opts.routedTarget ?? 0.8,
          maxOverrideRate: 0.3,
          approval: opts.approval ?? false,
        },
      },
    },
  };
}
