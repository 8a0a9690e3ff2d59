import { ErrorCode } from '../../common/domain-error';
import type { WorkflowRole, WorkflowVersion } from './workflow-definition';
import { activeWorkflowsOf, fileVersionRefusal, newVersionRefusal, roleChangeRefusal } from './versions';

const version = (workflow: string, n: number, role: WorkflowRole) => ({ workflow, version: n, role, definitionHash: `h${n}` }) as WorkflowVersion;

describe('the workflows in force', () => {
  it('are those with a champion, each with its challengers; retired versions and workflows without a champion run nothing', () => {
    const active = activeWorkflowsOf([
      version('triage', 1, 'retired'),
      version('triage', 3, 'challenger'),
      version('triage', 2, 'champion'),
      version('triage', 4, 'challenger'),
      version('invoice', 1, 'challenger'),
    ]);
    expect([...active.keys()]).toEqual(['triage']);
    expect(active.get('triage')!.champion.version).toBe(2);
    expect(active.get('triage')!.challengers.map((v) => v.version)).toEqual([3, 4]);
  });
});

describe('a new version', () => {
  it('must be numbered above every stored version of its workflow', () => {
    const refused = newVersionRefusal([1, 3, 2], 'triage', 3, 'challenger');
    expect(refused?.code).toBe(ErrorCode.Conflict);
    expect(refused?.message).toBe('version must be above 3, the highest stored version of triage');
    expect(refused?.details).toEqual({ highest: 3 });
    expect(newVersionRefusal([1, 3, 2], 'triage', 4, 'challenger')).toBeNull();
  });

  it('of a new workflow must be its champion', () => {
    expect(newVersionRefusal([], 'claims', 1, 'challenger')?.code).toBe(ErrorCode.Validation);
    expect(newVersionRefusal([], 'claims', 1, 'champion')).toBeNull();
  });
});

describe('a version given again by the workflows file', () => {
  it('must be the stored one: a stored version never changes', () => {
    expect(fileVersionRefusal('abc', 'abc', 'workflows.yaml', 'triage', 2)).toBeNull();
    const refused = fileVersionRefusal('abc', 'abd', 'workflows.yaml', 'triage', 2);
    expect(refused?.code).toBe(ErrorCode.InvalidWorkflow);
    expect(refused?.message).toMatch(/^workflows\.yaml: version 2 of triage differs from the stored one; .*give the change a new version number$/);
  });
});

describe('a role change', () => {
  it('never leaves a workflow without a champion: the champion steps down only when another takes over', () => {
    expect(roleChangeRefusal('triage', 2, 'champion', 'retired')?.code).toBe(ErrorCode.InvalidTransition);
    expect(roleChangeRefusal('triage', 2, 'champion', 'challenger')?.message).toBe('v2 is the champion of triage: make another version champion first');
    expect(roleChangeRefusal('triage', 2, 'champion', 'champion')).toBeNull();
    expect(roleChangeRefusal('triage', 3, 'challenger', 'champion')).toBeNull();
    expect(roleChangeRefusal('triage', 3, 'challenger', 'retired')).toBeNull();
    expect(roleChangeRefusal('triage', 1, 'retired', 'challenger')).toBeNull();
  });
});
