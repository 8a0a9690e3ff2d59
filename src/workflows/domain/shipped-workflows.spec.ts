import Ajv2020, { ErrorObject } from 'ajv/dist/2020';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { checkWorkflowFile } from './workflow-check';
import { parseWorkflowFile } from './workflow-file';
import { WORKFLOWS_SCHEMA_PATH } from './workflow-schema';

const root = join(__dirname, '../../..');
// The checked-in schema, as editors read it (workflow-reference.spec.ts keeps it in step with the code).
const schema = JSON.parse(readFileSync(join(root, WORKFLOWS_SCHEMA_PATH), 'utf8')) as Record<string, unknown>;
const validate = new Ajv2020({ allErrors: true, allowUnionTypes: true }).compile(schema);

/** Every workflows file the repository ships: the YAML files in config/ with a top-level `workflows`. */
const shipped = readdirSync(join(root, 'config'))
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => join('config', f))
  .filter((f) => Array.isArray((parseYaml(readFileSync(join(root, f), 'utf8')) as { workflows?: unknown } | null)?.workflows));
const read = (file: string) => readFileSync(join(root, file), 'utf8');

function schemaErrors(text: string): ErrorObject[] {
  return validate(parseYaml(text)) ? [] : (validate.errors ?? []);
}

describe('the shipped workflow files', () => {
  it('are found', () => {
    expect(shipped).toEqual(expect.arrayContaining([join('config', 'workflows.yaml'), join('config', 'workflows.demo.yaml')]));
  });

  describe.each(shipped)('%s', (file) => {
    it('points editors at the schema on its first line', () => {
      const first = read(file).split('\n')[0]!;
      const ref = /^# yaml-language-server: \$schema=(\S+)$/.exec(first)?.[1];
      expect(ref).toBeDefined();
      expect(resolve(root, dirname(file), ref!)).toBe(join(root, WORKFLOWS_SCHEMA_PATH));
      expect(existsSync(resolve(root, dirname(file), ref!))).toBe(true);
    });

    it('is valid under the JSON Schema', () => {
      expect(schemaErrors(read(file))).toEqual([]);
    });

    it("loads with the service's loader, with no key it would ignore", () => {
      expect(() => parseWorkflowFile(read(file), file)).not.toThrow();
      expect(checkWorkflowFile(read(file), file)).toMatchObject({ errors: [], ignored: [] });
    });
  });
});

describe('a broken workflow file', () => {
  const text = read(join('config', 'workflows.yaml'));
  const broken = text.replace('minSample: 300', 'minSample: 0');

  it('is refused by the JSON Schema at the field', () => {
    expect(schemaErrors(broken)).toEqual([expect.objectContaining({ instancePath: '/workflows/0/rollout/gates/supervised/minSample', keyword: 'minimum' })]);
  });

  it("is refused by the service's loader at the field", () => {
    expect(() => parseWorkflowFile(broken, 'w.yaml')).toThrow('w.yaml workflows[0] (support-triage v1): rollout.gates.supervised.minSample: must be ≥ 1');
    expect(checkWorkflowFile(broken, 'w.yaml').errors).toEqual([{ path: 'workflows[0].rollout.gates.supervised.minSample', message: 'must be ≥ 1' }]);
  });

  it('with a misspelt field is refused by the schema and flagged by the check, though the service would load it', () => {
    const misspelt = text.replace('minSample: 300', 'minSamples: 300');
    expect(schemaErrors(misspelt)).toEqual([
      expect.objectContaining({
        instancePath: '/workflows/0/rollout/gates/supervised',
        keyword: 'additionalProperties',
        params: { additionalProperty: 'minSamples' },
      }),
    ]);
    const check = checkWorkflowFile(misspelt, 'w.yaml');
    expect(check.errors).toEqual([]);
    expect(check.ignored).toEqual([{ path: 'workflows[0].rollout.gates.supervised.minSamples', message: 'not a field of a workflow: the service ignores it' }]);
  });
});
