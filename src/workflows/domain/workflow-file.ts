import { parse as parseYaml } from 'yaml';
import { canonicalJson, sha256 } from './render-prompt';
import { parseWorkflowDefinition, WorkflowDefinition, WorkflowDefinitionError, WorkflowRole } from './workflow-definition';

export interface FileWorkflowVersion {
  definition: WorkflowDefinition;
  role: Exclude<WorkflowRole, 'retired'>;
  hash: string;
}

/** The stable fingerprint of a definition: a stored version must keep it for ever. */
export function definitionHash(def: WorkflowDefinition): string {
  return sha256(canonicalJson(def));
}

/** Parses the workflows file (YAML or JSON); every problem names the entry and the field. */
export function parseWorkflowFile(text: string, fileName: string): FileWorkflowVersion[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new WorkflowDefinitionError(fileName, [`not valid YAML: ${(e as Error).message}`]);
  }
  const list = (doc as { workflows?: unknown })?.workflows;
  if (!Array.isArray(list) || list.length === 0) {
    throw new WorkflowDefinitionError(fileName, ['expected a top-level "workflows" list with at least one entry']);
  }
  const seen = new Set<string>();
  const champions = new Map<string, number>();
  const out: FileWorkflowVersion[] = [];
  list.forEach((entry, index) => {
    const label = `${fileName} workflows[${index}]${typeof entry?.name === 'string' ? ` (${entry.name} v${entry.version})` : ''}`;
    const { role = 'champion', ...raw } = (entry ?? {}) as { role?: unknown } & Record<string, unknown>;
    if (role !== 'champion' && role !== 'challenger') {
      throw new WorkflowDefinitionError(label, ['role: must be "champion" or "challenger"']);
    }
    const definition = parseWorkflowDefinition(raw, label);
    const key = `${definition.name}@${definition.version}`;
    if (seen.has(key)) throw new WorkflowDefinitionError(label, [`version ${definition.version} of ${definition.name} appears twice`]);
    seen.add(key);
    if (role === 'champion') {
      if (champions.has(definition.name)) {
        throw new WorkflowDefinitionError(label, [`${definition.name} already has a champion (v${champions.get(definition.name)})`]);
      }
      champions.set(definition.name, definition.version);
    }
    out.push({ definition, role, hash: definitionHash(definition) });
  });
  for (const name of new Set(out.map((v) => v.definition.name))) {
    if (!champions.has(name)) throw new WorkflowDefinitionError(fileName, [`${name} has no champion version`]);
  }
  return out;
}
