import { DomainError, ErrorCode } from '../../common/domain-error';
import type { WorkflowRole, WorkflowVersion } from './workflow-definition';

/** A workflow in force: its champion and the challengers that run beside it in shadow. */
export interface ActiveWorkflow {
  champion: WorkflowVersion;
  challengers: WorkflowVersion[];
}

/** The workflows in force among stored versions: those with a champion, each with its challengers. */
export function activeWorkflowsOf(versions: Iterable<WorkflowVersion>): Map<string, ActiveWorkflow> {
  const all = [...versions];
  const active = new Map<string, ActiveWorkflow>();
  for (const v of all) if (v.role === 'champion') active.set(v.workflow, { champion: v, challengers: [] });
  for (const v of all) if (v.role === 'challenger') active.get(v.workflow)?.challengers.push(v);
  return active;
}

/**
 * Why a version cannot be stored beside a workflow's stored versions, or null: versions only go
 * up, and a new workflow starts with its champion (nothing would run otherwise).
 */
export function newVersionRefusal(stored: readonly number[], name: string, version: number, role: WorkflowRole): DomainError | null {
  const highest = Math.max(0, ...stored);
  if (version <= highest) {
    return new DomainError(ErrorCode.Conflict, `version must be above ${highest}, the highest stored version of ${name}`, { highest });
  }
  if (stored.length === 0 && role !== 'champion') {
    return new DomainError(ErrorCode.Validation, `${name} is a new workflow: its first version must be the champion`);
  }
  return null;
}

/** A version the workflows file gives again must be the one stored: a stored version never changes. */
export function fileVersionRefusal(storedHash: string, fileHash: string, path: string, name: string, version: number): DomainError | null {
  if (storedHash === fileHash) return null;
  return new DomainError(
    ErrorCode.InvalidWorkflow,
    `${path}: version ${version} of ${name} differs from the stored one; a stored version never changes — give the change a new version number`,
  );
}

/** Why a version may not take a role, or null: a champion steps down only by another becoming champion. */
export function roleChangeRefusal(workflow: string, version: number, from: WorkflowRole, to: WorkflowRole): DomainError | null {
  if (from === 'champion' && to !== 'champion') {
    return new DomainError(ErrorCode.InvalidTransition, `v${version} is the champion of ${workflow}: make another version champion first`);
  }
  return null;
}
