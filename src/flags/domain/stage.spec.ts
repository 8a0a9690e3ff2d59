import { STAGES, isStage, nextStage, previousStage, stageIndex } from './stage';

describe('stage', () => {
  it('orders the stages shadow < supervised < confidence-routed', () => {
    expect(STAGES.map(stageIndex)).toEqual([0, 1, 2]);
  });

  it('steps up and down one stage, with null at the ends', () => {
    expect(nextStage('shadow')).toBe('supervised');
    expect(nextStage('supervised')).toBe('confidence-routed');
    expect(nextStage('confidence-routed')).toBeNull();
    expect(previousStage('confidence-routed')).toBe('supervised');
    expect(previousStage('supervised')).toBe('shadow');
    expect(previousStage('shadow')).toBeNull();
  });

  it('recognises only the three stage names', () => {
    expect(isStage('supervised')).toBe(true);
    expect(isStage('Supervised')).toBe(false);
    expect(isStage('disabled')).toBe(false);
    expect(isStage(undefined)).toBe(false);
    expect(() => stageIndex('auto' as never)).toThrow(RangeError);
  });
});
