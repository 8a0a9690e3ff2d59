import { segmentState, testRollout } from '../../../test/factories/segments';
import { armClassGuards } from './class-guards';
import { armDrift } from './drift-watch';
import { watchView } from './watch-view';

const MONITORS = { enabled: true, targetArl0: 500_000, minReference: 10, auditFactor: 8, auditCap: 0.4, holdPromotions: false };
const rollout = { ...testRollout, auditShare: 0.05, supervisedBlindShare: 0.1, monitors: MONITORS };

describe('what people see of a segment’s watchers', () => {
  it('shows nothing in shadow', () => {
    expect(watchView(segmentState(), rollout)).toEqual({ monitor: null, blindShare: null, classGuards: [] });
  });

  it('shows the monitor’s numbers, the blind share in force (raised by the factor up to the cap) and each class’s two guards', () => {
    const watch = armDrift(
      'confidence-routed',
      { answers: ['a', 'b'], stageCells: {}, referenceCells: { '9|a': 30, '8|b': 20 } },
      { n: 0, agree: 0 },
      MONITORS,
    );
    const classGuards = armClassGuards(
      [{ field: 'priority', value: 'urgent', minDetectableDrop: 0.2, target: 0.8 }],
      'confidence-routed',
      { classes: [], stage: {}, baseline: {} },
      testRollout.guard,
      new Date(0),
    );
    const s = segmentState({
      stage: 'confidence-routed',
      trafficPct: 100,
      driftMonitor: { ...watch, audit: { raised: true, n: 12, agree: 11 }, raisedAt: '2026-12-01T10:00:00.000Z' },
      auditFactor: 8,
      classGuards,
    });
    const v = watchView(s, rollout);
    expect(v.monitor).toMatchObject({
      status: 'watching',
      referenceN: 50,
      n: 0,
      raised: true,
      labelsSinceRaise: 12,
      agreeSinceRaise: 11,
      raisedAt: '2026-12-01T10:00:00.000Z',
    });
    expect(v.monitor!.threshold).toBeCloseTo(Math.log(500_000), 9);
    expect(v.blindShare).toBeCloseTo(0.4, 12);
    expect(v.classGuards).toEqual([
      {
        name: 'priority=urgent',
        recall: { statistic: 0, threshold: expect.any(Number), baseline: 0.8, alternative: expect.closeTo(0.6, 9), source: 'target' },
        precision: { statistic: 0, threshold: expect.any(Number), baseline: 0.8, alternative: expect.closeTo(0.6, 9), source: 'target' },
      },
    ]);
    expect(watchView({ ...s, stage: 'supervised', auditFactor: null }, rollout).blindShare).toBe(0.1);
  });
});
