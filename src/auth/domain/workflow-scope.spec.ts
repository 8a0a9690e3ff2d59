import {
  actorName,
  filterToScope,
  inScope,
  killSwitchRefusal,
  parseWorkflowScope,
  requestedWorkflows,
  requestRefusal,
  ScopedCaller,
  workflowRefusal,
} from './workflow-scope';

const maria: ScopedCaller = { name: 'maria', role: 'program_manager', workflows: ['support-triage'] };
const omar: ScopedCaller = { name: 'omar', role: 'ops', workflows: ['invoice-intake', 'support-triage'] };
const unscoped: ScopedCaller = { name: 'lee', role: 'program_manager', workflows: null };

describe('a token without a scope', () => {
  it('acts on and reads every workflow, as tokens always did', () => {
    expect(inScope(null, 'anything')).toBe(true);
    expect(workflowRefusal(unscoped, 'invoice-intake')).toBeNull();
    expect(requestRefusal(unscoped, { params: { workflow: 'invoice-intake' } }, false)).toBeNull();
    expect(requestRefusal(unscoped, {}, false)).toBeNull();
    expect(filterToScope(null, [{ w: 'a' }, { w: null }], (x) => x.w)).toEqual([{ w: 'a' }, { w: null }]);
    expect(killSwitchRefusal(unscoped, false)).toBeNull();
  });
});

describe('a token scoped to workflows', () => {
  it('may act on its workflows only, and a refusal names the workflow and the scope', () => {
    expect(workflowRefusal(maria, 'support-triage')).toBeNull();
    expect(workflowRefusal(maria, 'invoice-intake')).toBe(
      'token "maria" is scoped to workflow support-triage: it may not act on or read workflow invoice-intake',
    );
    expect(workflowRefusal(omar, 'claims')).toBe(
      'token "omar" is scoped to workflows invoice-intake, support-triage: it may not act on or read workflow claims',
    );
  });

  it('is checked against a workflow named in the path, the query or the body', () => {
    expect(requestRefusal(maria, { params: { workflow: 'support-triage', segment: 'email|eu' } }, false)).toBeNull();
    expect(requestRefusal(maria, { params: { workflow: 'invoice-intake' } }, false)).toMatch(/may not act on or read workflow invoice-intake/);
    expect(requestRefusal(maria, { query: { workflow: 'invoice-intake', groupBy: 'day' } }, false)).toMatch(/workflow invoice-intake/);
    expect(requestRefusal(maria, { body: { workflow: 'invoice-intake', reason: 'x' } }, false)).toMatch(/workflow invoice-intake/);
    // Any one out of scope refuses, whichever place names it.
    expect(requestRefusal(maria, { params: { workflow: 'support-triage' }, body: { workflow: 'invoice-intake' } }, false)).toMatch(/workflow invoice-intake/);
  });

  it('is refused a route that names no workflow, unless the route restricts itself to the scope', () => {
    expect(requestRefusal(maria, { params: {}, query: {} }, false)).toBe(
      'token "maria" is scoped to workflows (support-triage): this route must name one of them (workflow)',
    );
    expect(requestRefusal(maria, { params: {}, query: {} }, true)).toBeNull();
    // A cross-workflow route that is given a workflow still checks it (an audit log filtered to another workflow).
    expect(requestRefusal(maria, { query: { workflow: 'invoice-intake' } }, true)).toMatch(/workflow invoice-intake/);
  });

  it('finds the workflow wherever the request names it, once', () => {
    expect(requestedWorkflows({ params: { workflow: 'a-b' }, query: { workflow: 'a-b' }, body: { workflow: 'c-d' } })).toEqual({
      workflows: ['a-b', 'c-d'],
      malformed: false,
    });
    expect(requestedWorkflows({ params: {}, query: {}, body: [{ workflow: 'x' }] })).toEqual({ workflows: [], malformed: false });
    expect(requestedWorkflows({ body: 'workflow=x' })).toEqual({ workflows: [], malformed: false });
  });

  it('is refused a workflow that is not one name (a repeated query parameter, an object, a number)', () => {
    expect(requestRefusal(maria, { query: { workflow: ['support-triage', 'invoice-intake'] } }, true)).toMatch(/single workflow name/);
    expect(requestRefusal(maria, { query: { workflow: { $ne: 'x' } } }, true)).toMatch(/single workflow name/);
    expect(requestRefusal(maria, { body: { workflow: 7 } }, true)).toMatch(/single workflow name/);
  });

  it('sees only its workflows in a list; entries of no workflow are for unscoped tokens', () => {
    const events = [{ workflow: 'support-triage' }, { workflow: 'invoice-intake' }, { workflow: null }, {}];
    expect(filterToScope(maria.workflows, events, (e) => (e as { workflow?: string | null }).workflow)).toEqual([{ workflow: 'support-triage' }]);
    expect(filterToScope(omar.workflows, events, (e) => (e as { workflow?: string | null }).workflow)).toHaveLength(2);
  });

  it('may pull the global kill switch but not release it', () => {
    expect(killSwitchRefusal(omar, true)).toBeNull();
    expect(killSwitchRefusal(omar, false)).toMatch(/may pull the global kill switch but not release it/);
  });

  it('appears in the audit log with its scope', () => {
    expect(actorName(unscoped)).toBe('lee (program_manager)');
    expect(actorName(omar)).toBe('omar (ops; workflows invoice-intake, support-triage)');
  });
});

describe('reading a scope', () => {
  it('takes a comma-separated list or an array: trimmed, de-duplicated, sorted', () => {
    expect(parseWorkflowScope('support-triage, invoice-intake,support-triage', 'ops')).toEqual(['invoice-intake', 'support-triage']);
    expect(parseWorkflowScope(['support-triage'], 'analyst')).toEqual(['support-triage']);
  });

  it('refuses an empty scope, a name that is not a workflow name, and a scoped admin', () => {
    expect(() => parseWorkflowScope('', 'ops')).toThrow(/name at least one workflow/);
    expect(() => parseWorkflowScope([], 'ops')).toThrow(/name at least one workflow/);
    expect(() => parseWorkflowScope('support-triage,', 'ops')).toThrow(/"" is not a workflow name/);
    expect(() => parseWorkflowScope('Support Triage', 'ops')).toThrow(/"Support Triage" is not a workflow name/);
    expect(() => parseWorkflowScope(['x'], 'ops')).toThrow(/"x" is not a workflow name/);
    expect(() => parseWorkflowScope([42 as unknown as string], 'ops')).toThrow(/"42" is not a workflow name/);
    expect(() => parseWorkflowScope('support-triage', 'admin')).toThrow(/an admin token cannot be scoped/);
    expect(() =>
      parseWorkflowScope(
        Array.from({ length: 101 }, (_, i) => `w-${i}`),
        'ops',
      ),
    ).toThrow(/at most 100/);
  });
});
