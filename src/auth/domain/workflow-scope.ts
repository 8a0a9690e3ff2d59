/**
 * Per-workflow authorisation. A token may be scoped to a list of workflows: it then acts on and
 * reads those workflows only. No scope (null) means every workflow, as tokens always did.
 * The role still decides *what* a token may do; the scope decides *which workflows* it may do it to.
 */

/** The workflows a token may act on and read; null: every workflow. */
export type WorkflowScope = readonly string[] | null;

export interface ScopedCaller {
  name: string;
  role: string;
  workflows: WorkflowScope;
}

/** As a workflow definition names it (src/workflows/domain/workflow-definition.ts). */
export const WORKFLOW_NAME_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;
/** More than this is not a scope but a list to keep up to date: leave such a token unscoped. */
export const MAX_SCOPED_WORKFLOWS = 100;

export function inScope(scope: WorkflowScope, workflow: string): boolean {
  return scope === null || scope.includes(workflow);
}

/**
 * Why the caller may not act on or read `workflow`, or null when it may. The refusal names the
 * workflow and the scope, so whoever holds the token knows which token to use instead.
 */
export function workflowRefusal(caller: ScopedCaller, workflow: string): string | null {
  if (inScope(caller.workflows, workflow)) return null;
  return `token "${caller.name}" is scoped to workflow${caller.workflows!.length === 1 ? '' : 's'} ${caller.workflows!.join(', ')}: it may not act on or read workflow ${workflow}`;
}

/** The items of a list the caller may see (items of no workflow are global: unscoped callers only). */
export function filterToScope<T>(scope: WorkflowScope, items: readonly T[], workflowOf: (item: T) => string | null | undefined): T[] {
  if (scope === null) return [...items];
  return items.filter((item) => {
    const w = workflowOf(item);
    return typeof w === 'string' && scope.includes(w);
  });
}

/**
 * The workflows a request names, wherever it names them: the `workflow` path parameter, query
 * parameter or body field. Checking all three in one place is what makes a new route safe by
 * default. A value that is not a string (a repeated query parameter, a number in a body) is
 * reported as `malformed`: a scoped caller is refused rather than have it slip past the check.
 */
export function requestedWorkflows(req: { params?: unknown; query?: unknown; body?: unknown }): { workflows: string[]; malformed: boolean } {
  const workflows: string[] = [];
  let malformed = false;
  for (const source of [req.params, req.query, req.body]) {
    if (source === null || typeof source !== 'object' || Array.isArray(source)) continue;
    if (!Object.prototype.hasOwnProperty.call(source, 'workflow')) continue;
    const v = (source as Record<string, unknown>).workflow;
    if (v === undefined) continue;
    if (typeof v === 'string') workflows.push(v);
    else malformed = true;
  }
  return { workflows: [...new Set(workflows)], malformed };
}

/**
 * The request-level rule: null when the caller may go on, else the refusal. `crossWorkflow` marks
 * a route that names no workflow and restricts itself to the caller's scope in its handler (lists,
 * the kill switch); any other route must name the workflow it is about, or a scoped caller is
 * refused — so a new route is closed to scoped tokens until someone decides how it is scoped.
 */
export function requestRefusal(caller: ScopedCaller, req: { params?: unknown; query?: unknown; body?: unknown }, crossWorkflow: boolean): string | null {
  if (caller.workflows === null) return null;
  const { workflows, malformed } = requestedWorkflows(req);
  if (malformed) return 'workflow must be a single workflow name for a workflow-scoped token';
  for (const w of workflows) {
    const refusal = workflowRefusal(caller, w);
    if (refusal) return refusal;
  }
  if (workflows.length === 0 && !crossWorkflow) {
    return `token "${caller.name}" is scoped to workflows (${caller.workflows.join(', ')}): this route must name one of them (workflow)`;
  }
  return null;
}

/**
 * The kill switch is global. A scoped token of a role that may use it may pull it — stopping
 * everything is always safe, and the person who sees their workflow misbehave should not wait
 * for someone else — but only an unscoped token may release it, since that lets the AI act again
 * in workflows outside the scope.
 */
export function killSwitchRefusal(caller: ScopedCaller, enable: boolean): string | null {
  if (caller.workflows === null || enable) return null;
  return `token "${caller.name}" is scoped to workflows (${caller.workflows.join(', ')}): it may pull the global kill switch but not release it; ask someone with an unscoped token`;
}

/**
 * A scope as given to the token CLI (`--workflows a,b`) or the API (`["a","b"]`): trimmed,
 * de-duplicated, sorted; throws naming what is wrong. Admins cannot be scoped: they manage tokens,
 * and could create themselves an unscoped one.
 */
export function parseWorkflowScope(input: string | readonly string[], role: string): string[] {
  const names = (typeof input === 'string' ? input.split(',') : [...input]).map((n) => (typeof n === 'string' ? n.trim() : n));
  if (role === 'admin') throw new Error('workflows: an admin token cannot be scoped to workflows (admins manage tokens, which spans every workflow)');
  if (names.length === 0 || names.every((n) => n === '')) throw new Error('workflows: name at least one workflow (leave it out for a token of every workflow)');
  for (const n of names) {
    if (typeof n !== 'string' || !WORKFLOW_NAME_PATTERN.test(n)) {
      throw new Error(`workflows: "${String(n)}" is not a workflow name (lower-case letters, digits and dashes, starting with a letter, 2 to 63 characters)`);
    }
  }
  const unique = [...new Set(names as string[])].sort();
  if (unique.length > MAX_SCOPED_WORKFLOWS) throw new Error(`workflows: at most ${MAX_SCOPED_WORKFLOWS} workflows`);
  return unique;
}

/** How the caller appears in the audit log: "<name> (<role>)", and the scope when there is one. */
export function actorName(caller: ScopedCaller): string {
  return caller.workflows === null ? `${caller.name} (${caller.role})` : `${caller.name} (${caller.role}; workflows ${caller.workflows.join(', ')})`;
}
