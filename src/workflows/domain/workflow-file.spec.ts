import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorkflowFile } from './workflow-file';
import { WorkflowDefinitionError } from './workflow-definition';

const shipped = readFileSync(join(__dirname, '../../../config/workflows.yaml'), 'utf8');

function errorOf(fn: () => unknown): WorkflowDefinitionError {
  try {
    fn();
  } catch (e) {
    if (e instanceof WorkflowDefinitionError) return e;
    throw e;
  }
  throw new Error('expected a WorkflowDefinitionError');
}

describe('parseWorkflowFile', () => {
  it('reads the two shipped workflows with their defaults', () => {
    const versions = parseWorkflowFile(shipped, 'workflows.yaml');
    expect(versions.map((v) => `${v.definition.name}@${v.definition.version}:${v.role}`)).toEqual([
      'support-triage@1:champion',
      'invoice-extraction@1:champion',
    ]);
    const triage = versions[0].definition;
    expect(Object.keys(triage.comparator.fields)).toEqual(['category', 'priority']);
    expect(triage.rollout.steps).toEqual([10, 25, 50, 100]);
    expect(triage.rollout.gates['confidence-routed'].approval).toBe(true);
    expect(versions[1].definition.comparator.fields.totalAmount).toEqual({ match: 'number', absTolerance: 0.01, relTolerance: 0.001 });
    expect(versions[0].hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names the entry and the field that is wrong', () => {
    const bad = shipped.replace('agreementTarget: 0.85', 'agreementTarget: 1.5');
    const e = errorOf(() => parseWorkflowFile(bad, 'w.yaml'));
    expect(e.message).toContain('w.yaml workflows[0] (support-triage v1)');
    expect(e.message).toContain('rollout.gates.supervised.agreementTarget');
  });

  it('refuses a comparator field that is not in the decision schema', () => {
    const bad = shipped.replace('priority: { match: exact }', 'urgency: { match: exact }');
    expect(errorOf(() => parseWorkflowFile(bad, 'w.yaml')).problems).toContain('comparator.fields.urgency: not a property of decision.schema');
  });

  it('refuses two champions and duplicate versions', () => {
    const doc = `workflows:\n${shipped.split('workflows:\n')[1]}`;
    const twice = doc
      .replace('name: invoice-extraction', 'name: support-triage')
      .replace(/version: 1\n    role: champion\n    title: Invoice/, 'version: 2\n    role: champion\n    title: Invoice');
    expect(errorOf(() => parseWorkflowFile(twice, 'w.yaml')).message).toMatch(/already has a champion/);
  });

  it('refuses a file without workflows', () => {
    expect(errorOf(() => parseWorkflowFile('foo: 1', 'w.yaml')).problems[0]).toMatch(/top-level "workflows" list/);
    expect(errorOf(() => parseWorkflowFile(': : :', 'w.yaml')).problems[0]).toMatch(/not valid YAML/);
  });
});
