import { FileWorkflowVersion, readWorkflowFile } from './workflow-file';
import { unknownKeys } from './workflow-schema';

/** A problem of a workflows file at its path in the file (workflows[0].rollout.gates.supervised.minSample; '' for the whole file). */
export interface WorkflowFileProblem {
  path: string;
  message: string;
}

export interface WorkflowFileCheck {
  /** The entries that are valid, in file order. */
  versions: FileWorkflowVersion[];
  /** Everything that stops the service from loading the file; empty when it loads. */
  errors: WorkflowFileProblem[];
  /** Keys the service ignores without a word: almost always a misspelt field, whose default stays in force. */
  ignored: WorkflowFileProblem[];
}

/** Everything wrong with a workflows file, as the service's loader sees it, each problem at its path in the file. */
export function checkWorkflowFile(text: string, fileName: string): WorkflowFileCheck {
  const { doc, versions, failures } = readWorkflowFile(text, fileName);
  const errors = failures.flatMap(({ error, at }) => error.issues.map((i) => ({ path: [at, i.path].filter(Boolean).join('.'), message: i.message })));
  const ignored = unknownKeys(doc).map((path) => ({ path, message: 'not a field of a workflow: the service ignores it' }));
  return { versions, errors, ignored };
}

/** What `npm run workflows:check` prints for a file: one line per problem, then the verdict. */
export function formatWorkflowFileCheck(check: WorkflowFileCheck, fileName: string): string[] {
  const at = (p: WorkflowFileProblem) => (p.path ? `${p.path}: ${p.message}` : p.message);
  const lines = [...check.errors.map((p) => `${fileName}: ${at(p)}`), ...check.ignored.map((p) => `${fileName}: warning: ${at(p)}`)];
  if (check.errors.length > 0) {
    lines.push(`${fileName}: ${check.errors.length} error${check.errors.length === 1 ? '' : 's'}: the service would not start with this file`);
  } else {
    const versions = check.versions.map((v) => `${v.definition.name} v${v.definition.version} (${v.role})`).join(', ');
    lines.push(`${fileName}: OK, ${check.versions.length} workflow version${check.versions.length === 1 ? '' : 's'}: ${versions}`);
  }
  return lines;
}
