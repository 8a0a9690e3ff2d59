import { DEFAULT_SCENARIO, ScenarioError, accuracyFor, mergeScenario, parseScenario } from './scenario';

function errorOf(input: unknown): ScenarioError {
  try {
    parseScenario(input);
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error('expected a ScenarioError');
}

describe('parseScenario', () => {
  it('fills defaults', () => {
    expect(DEFAULT_SCENARIO).toMatchObject({
      accuracy: 0.9,
      segments: {},
      confidence: { correctMean: 0.9, wrongMean: 0.6, spread: 0.1 },
      logprobs: true,
      latencyMs: 0,
      errors: { rate429: 0, retryAfterSeconds: 1, rate500: 0, rateHang: 0, hangMs: 120_000 },
      malformedRate: 0,
      malformed: { invalidJsonShare: 0.5 },
      drift: [],
    });
  });

  it('names the offending field', () => {
    expect(errorOf({ accuracy: 1.5 }).field).toBe('accuracy');
    expect(errorOf({ errors: { rate429: -1 } }).field).toBe('errors.rate429');
    expect(errorOf({ segments: { 'email|eu': { accuracy: 'high' } } }).field).toBe('segments.email|eu.accuracy');
    expect(errorOf({ latencyMs: { distribution: 'uniform', min: 50, max: 10 } }).field).toBe('latencyMs.max');
    expect(errorOf({ latencyMs: { distribution: 'lognormal', median: 100 } }).field).toBe('latencyMs.p95');
    expect(errorOf({ drift: [{ accuracy: 0.5 }] }).field).toBe('drift[0]');
    expect(errorOf({ drift: [{ accuracy: 0.5, atTime: 'tomorrow' }] }).field).toBe('drift[0].atTime');
    expect(errorOf({ acuracy: 0.5 }).field).toBe('acuracy');
    expect(errorOf({ errors: { rate429: 0.6, rate500: 0.6 } }).message).toMatch(/must not exceed 1/);
  });

  it('accepts every latency form', () => {
    expect(parseScenario({ latencyMs: 25 }).latencyMs).toBe(25);
    expect(parseScenario({ latencyMs: { distribution: 'uniform', min: 5, max: 50 } }).latencyMs).toEqual({ distribution: 'uniform', min: 5, max: 50 });
    expect(parseScenario({ latencyMs: { distribution: 'lognormal', median: 300, p95: 1200 } }).latencyMs).toMatchObject({ median: 300 });
  });
});

describe('mergeScenario', () => {
  it('merges objects, replaces arrays and resets fields set to null', () => {
    const base = parseScenario({ accuracy: 0.7, errors: { rate429: 0.1 }, drift: [{ afterRequests: 5, accuracy: 0.2 }] });
    const merged = mergeScenario(base, { errors: { rate500: 0.05 }, drift: [], accuracy: null });
    expect(merged.errors).toMatchObject({ rate429: 0.1, rate500: 0.05 });
    expect(merged.drift).toEqual([]);
    expect(merged.accuracy).toBe(0.9);
  });

  it('validates the result', () => {
    expect(() => mergeScenario(DEFAULT_SCENARIO, { accuracy: 2 })).toThrow(ScenarioError);
    expect(() => mergeScenario(DEFAULT_SCENARIO, [1])).toThrow(ScenarioError);
  });
});

describe('accuracyFor', () => {
  const scenario = parseScenario({
    accuracy: 0.9,
    segments: { 'chat|us': { accuracy: 0.6 } },
    drift: [
      { afterRequests: 100, accuracy: 0.5 },
      { segment: 'email|eu', afterRequests: 10, accuracy: 0.3 },
      { atTime: '2030-01-01T00:00:00Z', accuracy: 0.1 },
    ],
  });
  const at = (modelRequests: number, segmentRequests: number, segment: string | null, now = Date.parse('2025-01-01T00:00:00Z')) =>
    accuracyFor(scenario, segment, { modelRequests, segmentRequests }, now);

  it('uses segment overrides before any drift', () => {
    expect(at(0, 0, null)).toBe(0.9);
    expect(at(0, 0, 'chat|us')).toBe(0.6);
  });

  it('drifts after that many requests of the model, or of the segment', () => {
    expect(at(99, 0, 'chat|us')).toBe(0.6);
    expect(at(100, 0, 'chat|us')).toBe(0.5);
    expect(at(50, 9, 'email|eu')).toBe(0.9);
    expect(at(50, 10, 'email|eu')).toBe(0.3);
    expect(at(50, 10, 'chat|us')).toBe(0.6);
  });

  it('drifts from a point in time; the last due entry wins', () => {
    expect(at(0, 0, 'email|eu', Date.parse('2030-01-01T00:00:00Z'))).toBe(0.1);
    expect(at(500, 500, 'email|eu', Date.parse('2029-12-31T23:59:59Z'))).toBe(0.3);
  });
});
