import { defaultGuardParams } from '../../stats/domain';
import { armGuard, MIN_BASELINE_LABELS, needsArming, rereviewFrom } from './guard-arming';

const guard = { minDetectableDrop: 0.06, targetArl0: 500_000, baselineConfidence: 0.95 };
const at = new Date('2026-11-30T12:00:00Z');

describe('arming the regression guard', () => {
  it('defends blind agreement measured on the kind of evidence it watches, its uncertainty paid in the threshold', () => {
    const { params, baseline } = armGuard({ stage: 'supervised', measured: { n: 2000, agree: 1840 }, target: 0.85, guard, at });
    expect(baseline).toMatchObject({ stage: 'supervised', source: 'measured', n: 2000, agree: 1840, rate: 0.92 });
    expect(baseline.lower).toBeLessThan(0.92);
    expect(params).toMatchObject({ p0: 0.92, p1: 0.86 });
    expect(params.h).toBeGreaterThan(defaultGuardParams(0.92, guard).h);
  });

  it('defends the stage target when there are too few blind labels', () => {
    const { params, baseline } = armGuard({
      stage: 'confidence-routed',
      measured: { n: MIN_BASELINE_LABELS - 1, agree: MIN_BASELINE_LABELS - 1 },
      target: 0.9,
      guard,
      at,
    });
    expect(baseline).toMatchObject({ source: 'target', rate: 0.9, lower: 0.9 });
    expect(params).toEqual(defaultGuardParams(0.9, guard));
    expect(armGuard({ stage: 'supervised', measured: null, target: 0.9, guard, at }).baseline.source).toBe('target');
  });

  it('defends the target when the measurement is too uncertain to tell from the drop', () => {
    // 100 labels at 0.9: the lower bound (~0.83) is below 0.9 − 0.06.
    expect(armGuard({ stage: 'supervised', measured: { n: 100, agree: 90 }, target: 0.85, guard, at }).baseline.source).toBe('target');
  });

  it('takes a fixed CUSUM threshold from the workflow', () => {
    expect(armGuard({ stage: 'supervised', measured: { n: 2000, agree: 1840 }, target: 0.85, guard: { ...guard, threshold: 4.2 }, at }).params.h).toBe(4.2);
  });

  it('arms every stage above shadow, and re-arms a guard armed for another stage', () => {
    const p = defaultGuardParams(0.9);
    expect(needsArming('shadow', null, null)).toBe(false);
    expect(needsArming('supervised', null, null)).toBe(true);
    expect(needsArming('supervised', p, { stage: 'supervised' })).toBe(false);
    expect(needsArming('supervised', p, { stage: 'confidence-routed' })).toBe(true); // after a revert
    expect(needsArming('confidence-routed', p, null)).toBe(true);
  });
});

describe('the re-review window', () => {
  const windowStart = new Date('2026-11-30T12:00:00Z');
  it('starts at the earliest AI decision the window evidence covers, which labels reach late', () => {
    const early = new Date('2026-11-30T07:30:00Z');
    expect(rereviewFrom(windowStart, early)).toEqual(early);
    expect(rereviewFrom(windowStart, new Date('2026-11-30T12:05:00Z'))).toEqual(windowStart);
    expect(rereviewFrom(windowStart, null)).toEqual(windowStart);
  });
});
