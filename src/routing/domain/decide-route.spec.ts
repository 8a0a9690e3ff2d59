import { conservativeStage, decideRoute, RouteInput, stableDraw, storedStageFor } from './decide-route';

const base: RouteInput = {
  flag: { stage: 'confidence-routed', reason: 'variant', variant: 'confidence-routed' },
  killSwitch: false,
  valid: true,
  confidence: 0.95,
  threshold: 0.8,
  auditShare: 0.05,
  supervisedBlindShare: 0.1,
  doubleLabelShare: 0.05,
  stale: false,
  auditDraw: 0.5,
  doubleLabelDraw: 0.5,
};

describe('decideRoute (the stage table)', () => {
  it('shadow: nothing leaves, except the double-label sample', () => {
    const shadow = { ...base, flag: { stage: 'shadow' as const, reason: 'variant' as const, variant: 'shadow' as const } };
    expect(decideRoute(shadow).action).toBe('none');
    expect(decideRoute({ ...shadow, doubleLabelDraw: 0.01 }).action).toBe('double-label');
  });
  it('supervised: a suggestion for every item, whatever the confidence, except the blind share', () => {
    const sup = { ...base, flag: { stage: 'supervised' as const, reason: 'variant' as const, variant: 'supervised' as const } };
    expect(decideRoute({ ...sup, confidence: 0.1 }).action).toBe('suggest');
    expect(decideRoute({ ...sup, confidence: null }).action).toBe('suggest');
    // The blind share is drawn whatever the confidence, so it is a sample of the whole arm.
    expect(decideRoute({ ...sup, auditDraw: 0.099, confidence: 0.1 })).toEqual({
      action: 'audit',
      stage: 'supervised',
      reason: 'supervised, drawn into the blind sample: a person decides without the suggestion',
    });
    expect(decideRoute({ ...sup, auditDraw: 0.1 }).action).toBe('suggest');
    expect(decideRoute({ ...sup, auditDraw: 0, supervisedBlindShare: 0 }).action).toBe('suggest');
  });
  it('confidence-routed: auto at or above the threshold, review below, audit for the sample', () => {
    expect(decideRoute(base)).toEqual({ action: 'auto', stage: 'confidence-routed', reason: 'confidence 0.950 at or above threshold 0.800' });
    expect(decideRoute({ ...base, confidence: 0.8 }).action).toBe('auto');
    expect(decideRoute({ ...base, confidence: 0.79 }).action).toBe('review');
    expect(decideRoute({ ...base, auditDraw: 0.049 }).action).toBe('audit');
    expect(decideRoute({ ...base, confidence: 0.5, auditDraw: 0.01 }).action).toBe('review');
    expect(decideRoute({ ...base, threshold: null }).action).toBe('review');
    // With no threshold yet, the blind audit sample is drawn from every item, whatever its confidence.
    expect(decideRoute({ ...base, threshold: null, confidence: 0.2, auditDraw: 0.01 }).action).toBe('audit');
    expect(decideRoute({ ...base, confidence: null }).action).toBe('review');
  });
  it('sends nothing on kill switch, disabled flag, invalid or late decisions, or unknown state', () => {
    expect(decideRoute({ ...base, killSwitch: true }).action).toBe('none');
    expect(decideRoute({ ...base, flag: { stage: null, reason: 'flag-disabled' } })).toEqual({
      action: 'none',
      stage: null,
      reason: 'workflow flag disabled: humans only',
    });
    expect(decideRoute({ ...base, valid: false }).action).toBe('none');
    expect(decideRoute({ ...base, stale: true }).action).toBe('none');
    expect(decideRoute({ ...base, flag: { stage: 'shadow', reason: 'unknown-state' }, doubleLabelDraw: 0 }).action).toBe('none');
  });
});

describe('stableDraw', () => {
  it('is reproducible, independent between purposes and roughly uniform', () => {
    expect(stableDraw('T-1', 'audit')).toBe(stableDraw('T-1', 'audit'));
    expect(stableDraw('T-1', 'audit')).not.toBe(stableDraw('T-1', 'double-label'));
    const n = 20_000;
    let below = 0;
    for (let i = 0; i < n; i++) if (stableDraw(`item-${i}`, 'audit') < 0.05) below++;
    // 5 % of 20,000 = 1,000; the binomial sd is about 31, so ±5 sd:
    expect(Math.abs(below - 1000)).toBeLessThan(155);
  });
});

describe('the most conservative of the flag and the stored state', () => {
  const variant = (stage: 'shadow' | 'supervised' | 'confidence-routed') => ({ stage, reason: 'variant' as const, variant: stage });

  it('lowers the flag to the segment’s stored stage (a rollback Unleash has not caught up with)', () => {
    expect(conservativeStage(variant('confidence-routed'), 'supervised')).toEqual({
      stage: 'supervised',
      reason: 'stored-state',
      flagStage: 'confidence-routed',
    });
    expect(conservativeStage(variant('supervised'), 'shadow')).toEqual({ stage: 'shadow', reason: 'stored-state', flagStage: 'supervised' });
    const routed = decideRoute({ ...base, flag: conservativeStage(variant('confidence-routed'), 'shadow') });
    expect(routed).toEqual({ action: 'none', stage: 'shadow', reason: "shadow: the segment's stored stage (the flag still says confidence-routed)" });
  });

  it('keeps the flag when it is the lower one (an operator’s move down in Unleash), disabled, or the segment is not stored yet', () => {
    expect(conservativeStage(variant('shadow'), 'confidence-routed')).toEqual(variant('shadow'));
    expect(conservativeStage(variant('supervised'), 'supervised')).toEqual(variant('supervised'));
    expect(conservativeStage({ stage: null, reason: 'flag-disabled' }, 'shadow')).toEqual({ stage: null, reason: 'flag-disabled' });
    expect(conservativeStage(variant('confidence-routed'), null)).toEqual(variant('confidence-routed'));
  });
});

describe('the stored stage a decision may use', () => {
  it('is the segment’s stage for the version that earned it, and shadow for any other (a new champion earns its own)', () => {
    expect(storedStageFor({ stage: 'confidence-routed', version: 3 }, 3)).toBe('confidence-routed');
    expect(storedStageFor({ stage: 'confidence-routed', version: 3 }, 4)).toBe('shadow');
    expect(storedStageFor({ stage: 'supervised', version: null }, 4)).toBe('supervised');
    expect(storedStageFor({ stage: null, version: null }, 1)).toBeNull();
  });
});
