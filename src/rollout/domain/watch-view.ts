import { raisedShare } from '../../routing/domain/blind-share';
import type { RolloutConfig } from '../../workflows/domain/workflow-definition';
import type { SegmentState } from './segment-state';

/**
 * What people see of a segment's watchers beyond the regression guard (the segment page and
 * GET …/segments/{segment}): the label-free drift monitor with its numbers, the blind share in
 * force, and each critical class's two guards.
 */
export function watchView(s: SegmentState, rollout: RolloutConfig | undefined) {
  const w = s.driftMonitor;
  const base = s.stage === 'confidence-routed' ? rollout?.auditShare : s.stage === 'supervised' ? rollout?.supervisedBlindShare : undefined;
  return {
    monitor: w
      ? {
          status: w.params ? 'watching' : 'collecting',
          referenceN: w.reference.reduce((a, b) => a + b, 0),
          n: w.state?.n ?? 0,
          statistic: w.last?.statistic ?? null,
          threshold: w.params ? Math.log(w.params.targetArl0) : null,
          leading: w.last?.leading ?? [],
          raised: w.audit.raised,
          raisedAt: w.raisedAt,
          labelsSinceRaise: w.audit.n,
          agreeSinceRaise: w.audit.agree,
        }
      : null,
    blindShare: base === undefined ? null : raisedShare(base, s.auditFactor, rollout?.monitors.auditCap ?? 1),
    classGuards: Object.entries(s.classGuards ?? {}).map(([name, g]) => {
      const stream = (which: 'recall' | 'precision') => ({
        statistic: g.state[which].s,
        threshold: g.params[which].h,
        baseline: g.params[which].p0,
        alternative: g.params[which].p1,
        source: g.baseline[which].source,
      });
      return { name, recall: stream('recall'), precision: stream('precision') };
    }),
  };
}
