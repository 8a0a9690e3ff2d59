import { evaluateGate, GateInput } from './gate';
import { confidenceSequence, priorCentredOn, sequenceSamplesNeeded } from './confidence-sequence';
import { wilsonInterval } from './wilson-interval';

/** The gate's bound: a 95 % confidence sequence whose prior is centred on the limit it is compared with. */
const sequence = (successes: number, n: number, limit: number) => confidenceSequence(successes, n, 0.95, priorCentredOn(limit));

const HOUR = 3_600_000;

function input(overrides: Partial<GateInput> = {}, metrics: Partial<GateInput['metrics']> = {}): GateInput {
  return {
    stage: 'shadow',
    step: 0,
    dwellMs: 48 * HOUR,
    budgetOk: true,
    approvalRequired: false,
    approved: false,
    ...overrides,
    metrics: { n: 1000, agree: 960, reviews: 0, overridden: 0, aiCalls: 1000, aiFailures: 5, ...metrics },
    criteria: { minSample: 500, minDwellMs: 24 * HOUR, agreementTarget: 0.9, confidence: 0.95, maxErrorRate: 0.02, ...overrides.criteria },
  };
}

const criterion = (result: ReturnType<typeof evaluateGate>, name: string) => result.criteria.find((c) => c.name === name)!;

describe('evaluateGate: pass', () => {
  it('passes when every criterion holds, with margins a person can read', () => {
    const result = evaluateGate(input());
    expect(result.verdict).toBe('pass');
    expect(result.moreSamplesNeeded).toBeNull();
    const agreement = criterion(result, 'agreement');
    const interval = sequence(960, 1000, 0.9);
    expect(agreement).toMatchObject({ holds: true, actual: 0.96, required: 0.9 });
    expect(agreement.margin).toBeCloseTo(interval.lower - 0.9, 15);
    expect(agreement.interval!.lower).toBe(interval.lower);
    expect(agreement.detail).toContain('960/1000 = 0.9600');
    expect(criterion(result, 'minimum-sample')).toMatchObject({ holds: true, margin: 500 });
    expect(criterion(result, 'minimum-dwell')).toMatchObject({ holds: true, margin: 24 * HOUR });
    expect(criterion(result, 'error-rate').holds).toBe(true);
    expect(criterion(result, 'budget').holds).toBe(true);
    // In shadow there are no reviews, so the override ceiling does not apply.
    expect(result.criteria.map((c) => c.name)).not.toContain('override-rate');
    expect(result.criteria.map((c) => c.name)).not.toContain('approval');
  });

  it('waits for a person when approval is required, and passes once given', () => {
    const waiting = evaluateGate(input({ approvalRequired: true }));
    expect(waiting.verdict).toBe('awaiting-approval');
    expect(criterion(waiting, 'approval')).toMatchObject({ holds: false, required: true });
    expect(evaluateGate(input({ approvalRequired: true, approved: true })).verdict).toBe('pass');
  });

  it('does not ask for approval while the evidence is incomplete', () => {
    expect(evaluateGate(input({ approvalRequired: true, approved: true }, { n: 100, agree: 99 })).verdict).toBe('inconclusive');
  });
});

describe('evaluateGate: inconclusive — too little data never passes', () => {
  it('holds on too few comparisons even when every one agreed', () => {
    const result = evaluateGate(input({}, { n: 100, agree: 100 }));
    expect(result.verdict).toBe('inconclusive');
    expect(criterion(result, 'minimum-sample')).toMatchObject({ holds: false, margin: -400 });
    expect(criterion(result, 'minimum-sample').detail).toContain('400 more needed');
    expect(result.moreSamplesNeeded).toBe(400);
  });

  it('holds until the dwell time has passed', () => {
    const result = evaluateGate(input({ dwellMs: 20 * HOUR + 30 * 60_000 }));
    expect(result.verdict).toBe('inconclusive');
    expect(criterion(result, 'minimum-dwell')).toMatchObject({ holds: false, margin: -(3 * HOUR + 30 * 60_000) });
    expect(criterion(result, 'minimum-dwell').detail).toContain('3 h 30 min to go');
    expect(result.moreSamplesNeeded).toBeNull();
  });

  it('holds while the sequence straddles the target and says how much more data should settle it', () => {
    // 560/600 = 0.9333: the 95 % sequence straddles the target 0.92.
    const result = evaluateGate(input({ criteria: { minSample: 500, minDwellMs: 0, agreementTarget: 0.92, confidence: 0.95 } }, { n: 600, agree: 560 }));
    const agreement = criterion(result, 'agreement');
    const interval = sequence(560, 600, 0.92);
    expect(interval.lower).toBeLessThan(0.92);
    expect(interval.upper).toBeGreaterThan(0.92);
    expect(result.verdict).toBe('inconclusive');
    expect(agreement.holds).toBeNull();
    expect(agreement.margin).toBeCloseTo(interval.lower - 0.92, 15);
    const needed = sequenceSamplesNeeded(560 / 600, 0.92, 0.95, priorCentredOn(0.92))!;
    // More than the 1,591 a fixed-sample Wilson bound would ask: the price of looking every cycle.
    expect(needed).toBeGreaterThan(1591);
    expect(result.moreSamplesNeeded).toBe(needed - 600);
    expect(agreement.detail).toContain(`about ${needed - 600} more comparisons (${needed} in all)`);
  });

  it('says when more data at this rate cannot help, without calling it a failure', () => {
    const result = evaluateGate(input({}, { n: 600, agree: 535 })); // 0.8917, interval straddles 0.9
    expect(result.verdict).toBe('inconclusive');
    expect(criterion(result, 'agreement').holds).toBeNull();
    expect(result.moreSamplesNeeded).toBeNull();
    expect(criterion(result, 'agreement').detail).toContain('cannot show it is met');
  });

  it('has no rate and no margin with no comparisons at all', () => {
    const result = evaluateGate(input({}, { n: 0, agree: 0, aiCalls: 0, aiFailures: 0 }));
    expect(result.verdict).toBe('inconclusive');
    expect(criterion(result, 'agreement')).toMatchObject({ holds: null, actual: null, margin: null });
    expect(criterion(result, 'error-rate')).toMatchObject({ holds: null, actual: null });
  });

  it('needs reviews before the override ceiling can hold in supervised', () => {
    const result = evaluateGate(
      input({ stage: 'supervised', criteria: { minSample: 500, minDwellMs: 0, agreementTarget: 0.9, confidence: 0.95, maxOverrideRate: 0.1 } }),
    );
    expect(result.verdict).toBe('inconclusive');
    expect(criterion(result, 'override-rate')).toMatchObject({ holds: null, detail: 'No reviews yet; the ceiling is 0.1000.' });
  });
});

describe('evaluateGate: fail — clearly not met', () => {
  it('fails when even the upper bound is below the target, however little data', () => {
    const result = evaluateGate(input({}, { n: 100, agree: 70 }));
    const interval = sequence(70, 100, 0.9);
    expect(interval.upper).toBeLessThan(0.9);
    expect(result.verdict).toBe('fail');
    expect(criterion(result, 'agreement')).toMatchObject({ holds: false, actual: 0.7 });
    expect(criterion(result, 'agreement').margin).toBeCloseTo(interval.upper - 0.9, 15);
    expect(result.moreSamplesNeeded).toBeNull();
    expect(result.summary).toMatch(/^Fails on agreement/);
  });

  it('fails on an override rate clearly over its ceiling in supervised', () => {
    const result = evaluateGate(
      input(
        { stage: 'supervised', criteria: { minSample: 500, minDwellMs: 0, agreementTarget: 0.9, confidence: 0.95, maxOverrideRate: 0.05 } },
        { reviews: 800, overridden: 80 },
      ),
    );
    const interval = sequence(80, 800, 0.05);
    expect(result.verdict).toBe('fail');
    const override = criterion(result, 'override-rate');
    expect(override).toMatchObject({ holds: false, actual: 0.1, required: 0.05 });
    expect(override.margin).toBeCloseTo(0.05 - interval.lower, 15);
    expect(override.detail).toContain('80 of 800 reviews overridden');
  });

  it('passes an override rate whose upper bound is under the ceiling', () => {
    const result = evaluateGate(
      input(
        { stage: 'confidence-routed', criteria: { minSample: 500, minDwellMs: 0, agreementTarget: 0.9, confidence: 0.95, maxOverrideRate: 0.05 } },
        { reviews: 2000, overridden: 40 },
      ),
    );
    expect(result.verdict).toBe('pass');
    expect(criterion(result, 'override-rate').margin).toBeCloseTo(0.05 - sequence(40, 2000, 0.05).upper, 15);
  });

  it('fails on model errors clearly over the ceiling', () => {
    const result = evaluateGate(input({}, { aiCalls: 1000, aiFailures: 60 }));
    expect(result.verdict).toBe('fail');
    expect(criterion(result, 'error-rate').holds).toBe(false);
  });

  it('fails when the budget is exhausted', () => {
    const result = evaluateGate(input({ budgetOk: false }));
    expect(result.verdict).toBe('fail');
    expect(criterion(result, 'budget')).toMatchObject({ holds: false, detail: 'The token or cost budget is exhausted.' });
  });

  it('reports a clear failure ahead of missing data', () => {
    expect(evaluateGate(input({ dwellMs: 0, budgetOk: false }, { n: 10, agree: 10 })).verdict).toBe('fail');
  });
});

describe('evaluateGate: judged every cycle', () => {
  it('is stricter than a fixed-sample Wilson bound on the same counts', () => {
    // 1,000 comparisons at 0.93 against a 0.91 target: Wilson alone would pass it.
    expect(wilsonInterval(930, 1000).lower).toBeGreaterThan(0.91);
    expect(evaluateGate(input({ criteria: { minSample: 500, minDwellMs: 0, agreementTarget: 0.91, confidence: 0.95 } }, { agree: 930 })).verdict).toBe(
      'inconclusive',
    );
  });
});

describe('evaluateGate: input checks', () => {
  it('refuses impossible metrics and criteria', () => {
    expect(() => evaluateGate(input({}, { agree: 1001 }))).toThrow(RangeError);
    expect(() => evaluateGate(input({}, { reviews: 1, overridden: 2 }))).toThrow(RangeError);
    expect(() => evaluateGate(input({}, { aiCalls: 1, aiFailures: 2 }))).toThrow(RangeError);
    expect(() => evaluateGate(input({}, { n: -1 }))).toThrow(RangeError);
    expect(() => evaluateGate(input({ dwellMs: -1 }))).toThrow(RangeError);
    expect(() => evaluateGate(input({ criteria: { minSample: 1, minDwellMs: 0, agreementTarget: 1, confidence: 0.95 } }))).toThrow(RangeError);
    expect(() => evaluateGate(input({ criteria: { minSample: 1, minDwellMs: 0, agreementTarget: 0.9, confidence: 0.95, maxErrorRate: 2 } }))).toThrow(
      RangeError,
    );
  });
});
