import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { checkWorkflowFile, formatWorkflowFileCheck } from './workflow-check';
import { parseWorkflowFile } from './workflow-file';

const shipped = readFileSync(join(__dirname, '../../../config/workflows.yaml'), 'utf8');

/** The shipped file with its entries changed by `edit` (entries as parsed YAML). */
function edited(edit: (entries: Array<Record<string, any>>) => void): string {
  const doc = parseYaml(shipped) as { workflows: Array<Record<string, any>> };
  edit(doc.workflows);
  return stringify(doc);
}

describe('checkWorkflowFile', () => {
  it('reports the problems of every entry at once, each at its path in the file', () => {
    const text = edited(([triage, invoice]) => {
      triage!.rollout.gates.supervised.minSample = 0;
      triage!.model.temperature = 'warm';
      invoice!.rollout.guard = { targetArl0: 10 };
      delete invoice!.title;
    });
    expect(checkWorkflowFile(text, 'w.yaml').errors).toEqual([
      { path: 'workflows[0].model.temperature', message: 'must be a number, not "warm"' },
      { path: 'workflows[0].rollout.gates.supervised.minSample', message: 'must be ≥ 1' },
      { path: 'workflows[1].title', message: 'is required' },
      { path: 'workflows[1].rollout.guard.targetArl0', message: 'must be ≥ 1000' },
    ]);
    // The service stops at the first entry, naming it as before.
    expect(() => parseWorkflowFile(text, 'w.yaml')).toThrow(/^w\.yaml workflows\[0\] \(support-triage v1\): model\.temperature: must be a number/);
  });

  it('says what a field must be in the words of the reference', () => {
    const text = edited(([triage]) => {
      triage!.model.confidence = 'guess';
      triage!.model.maxTokens = 10.5;
      triage!.comparator.fields.priority = { match: 'fuzzy' };
      triage!.rollout.delta = 0.5;
      triage!.segmentBy = [];
      triage!.redact = ['customer.email', 'bad path'];
    });
    expect(checkWorkflowFile(text, 'w.yaml').errors).toEqual([
      { path: 'workflows[0].segmentBy', message: 'must have at least 1 entry' },
      { path: 'workflows[0].model.maxTokens', message: 'must be a whole number, not 10.5' },
      { path: 'workflows[0].model.confidence', message: 'must be one of "logprobs", "self-reported", "auto"' },
      { path: 'workflows[0].comparator.fields.priority.match', message: 'must be one of "exact", "number", "date", "text", "set"' },
      { path: 'workflows[0].redact[1]', message: 'a dot path such as customer.email or lines.*.iban' },
      { path: 'workflows[0].rollout.delta', message: 'must be < 0.5' },
    ]);
  });

  it('places the rules across fields and across entries', () => {
    const text = edited((entries) => {
      entries[0]!.comparator.fields.urgency = { match: 'exact' };
      entries[1]!.role = 'understudy';
      entries.push({ ...entries[0], version: 2, comparator: { fields: { category: { match: 'exact' } } } });
    });
    expect(checkWorkflowFile(text, 'w.yaml').errors).toEqual([
      { path: 'workflows[0].comparator.fields.urgency', message: 'not a property of decision.schema' },
      { path: 'workflows[1].role', message: 'must be "champion" or "challenger"' },
      { path: 'workflows[2].role', message: 'support-triage already has a champion (v1)' },
    ]);
    const again = edited((entries) => entries.push({ ...entries[0], role: 'challenger' }));
    expect(checkWorkflowFile(again, 'w.yaml').errors).toEqual([{ path: 'workflows[2].version', message: 'version 1 of support-triage appears twice' }]);
  });

  it('names the whole file when it is not a workflows file', () => {
    expect(checkWorkflowFile('foo: 1', 'w.yaml').errors).toEqual([
      { path: 'workflows', message: 'expected a top-level "workflows" list with at least one entry' },
    ]);
    expect(checkWorkflowFile(': : :', 'w.yaml').errors).toEqual([{ path: '', message: expect.stringMatching(/^not valid YAML/) }]);
  });

  it('flags keys the service would ignore, at any depth, but not beside `workflows`', () => {
    const text = edited(([triage]) => {
      triage!.rollout.gates.supervised.minSamples = 50;
      triage!.comparator.fields.category.caseInsensitiv = true;
      triage!.modle = { name: 'x' };
    });
    const check = checkWorkflowFile(`defaults: &d { a: 1 }\n${text}`, 'w.yaml');
    expect(check.errors).toEqual([]);
    expect(check.ignored.map((p) => p.path)).toEqual([
      'workflows[0].comparator.fields.category.caseInsensitiv',
      'workflows[0].rollout.gates.supervised.minSamples',
      'workflows[0].modle',
    ]);
  });
});

describe('formatWorkflowFileCheck', () => {
  it('prints one line per problem, then the verdict', () => {
    const text = edited(([triage]) => {
      triage!.rollout.gates.supervised.minSample = 0;
      triage!.rollout.gates.supervised.minSamples = 50;
    });
    expect(formatWorkflowFileCheck(checkWorkflowFile(text, 'w.yaml'), 'w.yaml')).toEqual([
      'w.yaml: workflows[0].rollout.gates.supervised.minSample: must be ≥ 1',
      'w.yaml: warning: workflows[0].rollout.gates.supervised.minSamples: not a field of a workflow: the service ignores it',
      'w.yaml: 1 error: the service would not start with this file',
    ]);
  });

  it('names the versions of a good file', () => {
    expect(formatWorkflowFileCheck(checkWorkflowFile(shipped, 'w.yaml'), 'w.yaml')).toEqual([
      'w.yaml: OK, 2 workflow versions: support-triage v1 (champion), invoice-extraction v1 (champion)',
    ]);
  });
});
