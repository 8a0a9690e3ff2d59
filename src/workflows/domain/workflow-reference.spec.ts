import Ajv2020 from 'ajv/dist/2020';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { checkWorkflowFile } from './workflow-check';
import { EXAMPLE_WORKFLOWS_FILE, referenceRows, workflowsReferenceMarkdown, WORKFLOWS_REFERENCE_PATH } from './workflow-reference';
import {
  baseWorkflowFileJsonSchema,
  forEachField,
  JsonSchema,
  workflowFileJsonSchema,
  workflowFileJsonSchemaText,
  WORKFLOWS_SCHEMA_PATH,
} from './workflow-schema';

const root = join(__dirname, '../../..');

function checkedIn(file: string): string | null {
  const path = join(root, file);
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

describe('the generated workflow schema and reference', () => {
  it.each([
    [WORKFLOWS_SCHEMA_PATH, workflowFileJsonSchemaText],
    [WORKFLOWS_REFERENCE_PATH, workflowsReferenceMarkdown],
  ])('%s is what the zod definition generates', (file, generate) => {
    const verdict =
      checkedIn(file) === generate() ? 'up to date' : `${file} is out of date with src/workflows/domain: run \`npm run workflows:schema\` and commit it`;
    expect(verdict).toBe('up to date');
  });

  it('describes every field of the file', () => {
    const undescribed: string[] = [];
    forEachField(baseWorkflowFileJsonSchema(), (field, _required, path) => {
      if (typeof field.description !== 'string' || field.description.trim().length < 10) undescribed.push(path);
    });
    expect(undescribed).toEqual([]);
  });

  it('describes the file as people write it: a field with a default may be left out', () => {
    const entry = (baseWorkflowFileJsonSchema().properties as Record<string, JsonSchema>).workflows!.items as JsonSchema;
    expect(entry.required).toEqual(['name', 'version', 'title', 'segmentBy', 'decision', 'prompt', 'model', 'comparator', 'rollout']);
    const gates = ((entry.properties as Record<string, JsonSchema>).rollout!.properties as Record<string, JsonSchema>).gates!;
    expect((gates.properties as Record<string, JsonSchema>).supervised!.required).toEqual(['agreementTarget']);
  });

  it('ends each description with the default and limits an editor shows on hover', () => {
    const guard = ((workflowFileJsonSchema().properties as Record<string, JsonSchema>).workflows!.items as JsonSchema).properties as Record<string, JsonSchema>;
    const targetArl0 = ((guard.rollout!.properties as Record<string, JsonSchema>).guard!.properties as Record<string, JsonSchema>).targetArl0!;
    expect(targetArl0.description).toMatch(/sets the CUSUM threshold.* Default: 500000\. Limits: ≥ 1000\.$/);
    expect(guard.version!.description).toMatch(/Required\. Limits: ≥ 1\.$/);
  });

  it('lists every field once with its type, default and limits; the two gates share their rows', () => {
    const rows = new Map(referenceRows().map((r) => [r.path, r]));
    expect(rows.get('rollout.guard.targetArl0')).toMatchObject({ type: 'integer', default: '500000', limits: '≥ 1000' });
    expect(rows.get('model.confidence')).toMatchObject({ type: '`logprobs` | `self-reported` | `auto`', default: 'auto' });
    expect(rows.get('model.confidence')!.description).toContain('`self-reported`: the service adds a required `confidence` field');
    expect(rows.get('rollout.gates.<stage>.confidence')).toMatchObject({ default: '0.95', limits: '0.5 < x < 1' });
    expect(rows.get('rollout.gates.<stage>.agreementTarget')).toMatchObject({ default: 'required', limits: '0 < x < 1' });
    expect(rows.get('rollout.steps')).toMatchObject({ default: '[10, 25, 50, 100]' });
    expect(rows.has('rollout.gates.supervised.minSample')).toBe(false);
    expect(rows.get('comparator.fields.<field>.match')!.type).toBe('`exact` | `number` | `date` | `text` | `set`');
    expect(rows.get('decision.schema')!.limits).toBe('has type: object and properties');
  });

  it("shows an example that the service's loader and the schema both accept", () => {
    const check = checkWorkflowFile(EXAMPLE_WORKFLOWS_FILE, 'example.yaml');
    expect(check).toMatchObject({ errors: [], ignored: [] });
    expect(check.versions.map((v) => v.definition.name)).toEqual(['refund-approval']);
    const validate = new Ajv2020({ allErrors: true, allowUnionTypes: true }).compile(workflowFileJsonSchema());
    expect(validate(parseYaml(EXAMPLE_WORKFLOWS_FILE))).toBe(true);
  });
});
