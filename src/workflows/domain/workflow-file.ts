import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { canonicalJson, sha256 } from './render-prompt';
import { parseWorkflowDefinition, WorkflowDefinition, WorkflowDefinitionError, workflowDefinitionSchema, WorkflowRole } from './workflow-definition';

export interface FileWorkflowVersion {
  definition: WorkflowDefinition;
  role: Exclude<WorkflowRole, 'retired'>;
  hash: string;
}

export const workflowFileRoleSchema = z
  .enum(['champion', 'challenger'])
  .default('champion')
  .describe(
    '`champion`: its decisions are routed; a workflow has exactly one in the file. `challenger`: runs in shadow beside the champion on the same items, compared but never routed. ' +
      'Applies when the version is first stored; later changes of role go through the API.',
  );

const { name, version, ...definitionFields } = workflowDefinitionSchema.shape;

/**
 * The file as a whole, for its JSON Schema and reference (workflow-schema.ts); parseWorkflowFile
 * reads it entry by entry so that every problem names its entry. Keys beside `workflows` are
 * ignored, so a file may keep YAML anchors there.
 */
export const workflowFileSchema = z
  .looseObject({
    workflows: z
      .array(z.object({ name, version, role: workflowFileRoleSchema, ...definitionFields }))
      .min(1)
      .describe(
        'The workflow versions the service stores at start, one entry per version. A stored version never changes: to change anything, add an entry with a higher version. ' +
          'Each workflow needs one champion entry.',
      ),
  })
  .meta({
    title: 'Understudy workflows file',
    description: 'Workflow definitions of Understudy (WORKFLOWS_FILE, e.g. config/workflows.yaml). Reference: docs/workflows.md.',
  });

/** The stable fingerprint of a definition: a stored version must keep it for ever. */
export function definitionHash(def: WorkflowDefinition): string {
  return sha256(canonicalJson(def));
}

/** A failure as the service reports it (where + problems), and its path in the file (workflows[2], '' for the whole file). */
export interface WorkflowFileFailure {
  error: WorkflowDefinitionError;
  at: string;
}

/**
 * Reads the workflows file (YAML or JSON) as far as it can: every entry is checked, so that one
 * look at a file shows all its problems (checkWorkflowFile); the service stops at the first.
 */
export function readWorkflowFile(text: string, fileName: string): { doc: unknown; versions: FileWorkflowVersion[]; failures: WorkflowFileFailure[] } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return { doc: undefined, versions: [], failures: [{ at: '', error: new WorkflowDefinitionError(fileName, [`not valid YAML: ${(e as Error).message}`]) }] };
  }
  const list = (doc as { workflows?: unknown })?.workflows;
  if (!Array.isArray(list) || list.length === 0) {
    return {
      doc,
      versions: [],
      failures: [{ at: 'workflows', error: new WorkflowDefinitionError(fileName, ['expected a top-level "workflows" list with at least one entry']) }],
    };
  }
  const failures: WorkflowFileFailure[] = [];
  const failedNames = new Set<unknown>();
  const seen = new Set<string>();
  const champions = new Map<string, number>();
  const out: FileWorkflowVersion[] = [];
  list.forEach((entry, index) => {
    const at = `workflows[${index}]`;
    const label = `${fileName} ${at}${typeof entry?.name === 'string' ? ` (${entry.name} v${entry.version})` : ''}`;
    const fail = (where: string, problem: string, message = problem): void => {
      failures.push({ at: where, error: new WorkflowDefinitionError(label, [problem], [{ path: '', message }]) });
    };
    const { role: rawRole, ...raw } = (entry ?? {}) as { role?: unknown } & Record<string, unknown>;
    const role = workflowFileRoleSchema.safeParse(rawRole);
    if (!role.success) fail(`${at}.role`, 'role: must be "champion" or "challenger"', 'must be "champion" or "challenger"');
    let definition: WorkflowDefinition;
    try {
      definition = parseWorkflowDefinition(raw, label);
    } catch (e) {
      if (!(e instanceof WorkflowDefinitionError)) throw e;
      failures.push({ at, error: e });
      failedNames.add(raw.name);
      // Still claims its name and version, so that a later entry's clash is reported too.
      if (typeof raw.name === 'string') {
        seen.add(`${raw.name}@${String(raw.version)}`);
        if (role.success && role.data === 'champion' && !champions.has(raw.name)) champions.set(raw.name, Number(raw.version));
      }
      return;
    }
    if (!role.success) {
      failedNames.add(definition.name);
      return;
    }
    const key = `${definition.name}@${definition.version}`;
    if (seen.has(key)) return fail(`${at}.version`, `version ${definition.version} of ${definition.name} appears twice`);
    seen.add(key);
    if (role.data === 'champion') {
      if (champions.has(definition.name)) return fail(`${at}.role`, `${definition.name} already has a champion (v${champions.get(definition.name)})`);
      champions.set(definition.name, definition.version);
    }
    out.push({ definition, role: role.data, hash: definitionHash(definition) });
  });
  for (const name of new Set(out.map((v) => v.definition.name))) {
    // A champion whose entry failed is not missing: its own problem is reported.
    if (!champions.has(name) && !failedNames.has(name)) {
      failures.push({ at: 'workflows', error: new WorkflowDefinitionError(fileName, [`${name} has no champion version`]) });
    }
  }
  return { doc, versions: out, failures };
}

/** Parses the workflows file (YAML or JSON); every problem names the entry and the field. */
export function parseWorkflowFile(text: string, fileName: string): FileWorkflowVersion[] {
  const { versions, failures } = readWorkflowFile(text, fileName);
  if (failures.length > 0) throw failures[0]!.error;
  return versions;
}
