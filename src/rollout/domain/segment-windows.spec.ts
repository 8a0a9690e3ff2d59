import { minutesAfter, segmentState, T0, testRollout } from '../../../test/factories/segments';
import { calibrationFrom, guardWindowStart } from './segment-machine';

const DAY = 86_400_000;
const guardState = (s: number) => ({ s, n: 10, agree: 5, windowStartIndex: 0, windowN: 10, windowAgree: 5, totalsN: 10, totalsAgree: 5 });

describe('where the regression guard’s window starts', () => {
  it('is where the CUSUM left zero, while it has not come back', () => {
    const s = segmentState({ stage: 'supervised', guardState: guardState(1.5), guardWindowStartedAt: minutesAfter(20), lastEvaluatedAt: minutesAfter(50) });
    expect(guardWindowStart(s)).toEqual(minutesAfter(20));
  });

  it('opens at the last look when the CUSUM is at zero, or at the stage’s start before any look', () => {
    expect(
      guardWindowStart(
        segmentState({ stage: 'supervised', guardState: guardState(0), guardWindowStartedAt: minutesAfter(20), lastEvaluatedAt: minutesAfter(50) }),
      ),
    ).toEqual(minutesAfter(50));
    expect(guardWindowStart(segmentState({ stage: 'supervised', stageStartedAt: minutesAfter(5) }))).toEqual(minutesAfter(5));
  });
});

describe('where the threshold’s calibration set starts', () => {
  const now = new Date(T0.getTime() + 30 * DAY);
  const windowFrom = new Date(now.getTime() - testRollout.thresholdWindowDays * DAY);

  it('is the threshold window', () => {
    expect(calibrationFrom(segmentState(), testRollout, now)).toEqual(windowFrom);
  });

  it('is the last withdrawal by blind audits when that is later: labels of what the AI decided before it do not count', () => {
    const withdrawn = new Date(now.getTime() - 3_600_000);
    expect(calibrationFrom(segmentState({ thresholdDetails: { calibrationFrom: withdrawn.toISOString() } }), testRollout, now)).toEqual(withdrawn);
    const old = new Date(windowFrom.getTime() - DAY);
    expect(calibrationFrom(segmentState({ thresholdDetails: { calibrationFrom: old.toISOString() } }), testRollout, now)).toEqual(windowFrom);
  });
});
