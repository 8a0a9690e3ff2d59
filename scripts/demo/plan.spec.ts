import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { parseScenario } from '../../tools/simulator/scenario';
import { confidenceSequence, priorCentredOn } from '../../src/stats/domain';
import { parseWorkflowFile } from '../../src/workflows/domain/workflow-file';
import { parseDemoArgs } from './options';
import { buildPlan, demoWorkflowsYaml, driftPatch, SHOWCASE_SEGMENT, segmentKey, simulatorScenario, weightedSegments } from './plan';

const DEMO_FILE = readFileSync(path.join(__dirname, '..', '..', 'config', 'workflows.demo.yaml'), 'utf8');
const SHIPPED_FILE = readFileSync(path.join(__dirname, '..', '..', 'config', 'workflows.yaml'), 'utf8');

describe('the demo plan', () => {
  const normal = buildPlan(parseDemoArgs([]), false);
  const fast = buildPlan(parseDemoArgs(['--fast']), false);

  it('config/workflows.demo.yaml is the shipped file with demo gates only', () => {
    const demo = parseWorkflowFile(DEMO_FILE, 'demo');
    const shipped = parseWorkflowFile(SHIPPED_FILE, 'shipped');
    expect(demo.map((v) => v.definition.name)).toEqual(shipped.map((v) => v.definition.name));
    demo.forEach((v, i) => {
      const s = shipped[i]!.definition;
      const d = v.definition;
      expect({ ...d, rollout: null }).toEqual({ ...s, rollout: null });
      expect(d.rollout.steps).toEqual([25, 50, 100]);
      expect(d.rollout.gates['confidence-routed'].approval).toBe(true);
      expect(d.rollout.guard).toEqual(s.rollout.guard);
      for (const gate of Object.values(d.rollout.gates)) expect(gate).toMatchObject({ minSample: 300, minDwellMinutes: 0.5 });
    });
  });

  it('tells the intended story: the showcase segment can pass every gate in a step, the others cannot go far', () => {
    for (const plan of [normal, fast]) {
      const file = parseWorkflowFile(demoWorkflowsYaml(DEMO_FILE, plan), 'demo');
      const triage = file.find((v) => v.definition.name === plan.workflows.triage)!.definition.rollout;
      const showcase = plan.triage.find((m) => segmentKey(m) === SHOWCASE_SEGMENT)!;
      const weight = plan.triage.reduce((a, m) => a + m.weight, 0);
      const perSecond = plan.rate * plan.triageShare * (showcase.weight / weight);
      // The slowest evidence of a stage: its lowest step, and only the blind share of it (supervised's
      // blind share, confidence-routed's audits); shadow judges every item.
      const lowest = triage.steps[0] / 100;
      const blindPerSecond = {
        supervised: perSecond, // the gate into supervised judges the shadow arm: every item is blind
        'confidence-routed': perSecond * lowest * Math.min(triage.supervisedBlindShare, triage.auditShare),
      };
      for (const [stage, gate] of Object.entries(triage.gates) as Array<[keyof typeof blindPerSecond, (typeof triage.gates)['supervised']]>) {
        // Enough blind labels within a minute and a half of each step in fast mode (fifteen minutes in the normal demo) …
        const window = plan.fast ? 90 : 900;
        expect(blindPerSecond[stage] * Math.max(window, gate.minDwellMinutes * 60)).toBeGreaterThanOrEqual(gate.minSample);
        // … and the expected agreement clears the gate's confidence sequence at the minimum sample.
        const agreement = showcase.accuracy * (1 - plan.humanErrorRate);
        const n = gate.minSample;
        expect(confidenceSequence(Math.round(agreement * n), n, gate.confidence, priorCentredOn(gate.agreementTarget)).lower).toBeGreaterThan(
          gate.agreementTarget,
        );
      }
      const best = Math.max(...[...plan.triage, ...plan.invoice].filter((m) => segmentKey(m) !== SHOWCASE_SEGMENT).map((m) => m.accuracy));
      expect(best).toBeLessThan(showcase.accuracy - 0.05);
    }
  });

  it('normal mode takes minutes and runs on; fast mode finishes by itself and times out', () => {
    expect(normal).toMatchObject({ fast: false, finishAfterRevert: false, timeoutMs: null, driftEndsAfterMs: 60_000 });
    expect(fast).toMatchObject({ fast: true, finishAfterRevert: true, timeoutMs: 300_000, driftEndsAfterMs: null });
    expect(buildPlan(parseDemoArgs(['--fast', '--timeout', '0']), false).timeoutMs).toBeNull();
  });

  it('a suffix renames the workflows and the kill switch, so flags do not collide in a shared Unleash', () => {
    const plan = buildPlan(parseDemoArgs(['--suffix', 'x1']), false);
    expect(plan.workflows).toEqual({ triage: 'support-triage-x1', invoice: 'invoice-extraction-x1' });
    expect(plan.killSwitchFlag).toBe('understudy.kill-switch-x1');
    expect(plan.showcase).toEqual({ workflow: 'support-triage-x1', segment: 'email|eu' });
    const names = (parse(demoWorkflowsYaml(DEMO_FILE, plan)) as { workflows: Array<{ name: string }> }).workflows.map((w) => w.name);
    expect(names).toEqual(['support-triage-x1', 'invoice-extraction-x1']);
  });

  it("a real model never sees the simulator's ground truth, and gets a slow work floor", () => {
    const plan = buildPlan(parseDemoArgs(['--model', 'gpt-4.1-mini']), true);
    expect(plan.rate).toBe(2);
    const doc = parse(demoWorkflowsYaml(DEMO_FILE, plan)) as { workflows: Array<{ redact: string[]; model: { name: string } }> };
    for (const w of doc.workflows) {
      expect(w.redact).toContain('simulation');
      expect(w.model.name).toBe('gpt-4.1-mini');
    }
  });

  it('the simulator scenario and the drift patch are valid scenarios', () => {
    const scenario = parseScenario(simulatorScenario(normal));
    expect(scenario.segments[SHOWCASE_SEGMENT]!.accuracy).toBe(0.96);
    expect(scenario.segments['phone|apac']!.accuracy).toBe(0.7);
    const drifted = parseScenario({ ...simulatorScenario(normal), ...driftPatch(normal, new Date('2026-11-23T12:00:00Z')) });
    // Wrong answers slide to `other`: the answer mix moves, which the label-free drift monitor sees before any label.
    expect(drifted.drift).toEqual([
      { segment: SHOWCASE_SEGMENT, atTime: '2026-11-23T12:00:00.000Z', accuracy: 0.5, answerBias: { field: 'category', value: 'other', share: 0.8 } },
    ]);
    expect(drifted.confidence.wrongMean).toBeGreaterThan(0.85); // confidently wrong: audits above the threshold see it
  });

  it('weights segments by listing them as often as their weight', () => {
    const list = weightedSegments(normal.triage);
    expect(list).toHaveLength(normal.triage.reduce((a, m) => a + m.weight, 0));
    expect(list.filter(([c, r]) => `${c}|${r}` === SHOWCASE_SEGMENT)).toHaveLength(5);
  });
});
