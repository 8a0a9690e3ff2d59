import { DEFAULT_SCENARIO, ScenarioError, accuracyFor, answerParamsFor, mergeScenario, parseScenario } from './scenario';

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

  it('names the offending field of a confidence or answer-mix drift', () => {
    expect(errorOf({ drift: [{ afterRequests: 5 }] })).toMatchObject({
      field: 'drift[0]',
      message: expect.stringMatching(/accuracy, confidence or answerBias/),
    });
    expect(errorOf({ drift: [{ afterRequests: 5, confidence: { wrongMean: 1.2 } }] }).field).toBe('drift[0].confidence.wrongMean');
    expect(errorOf({ drift: [{ afterRequests: 5, confidence: { mean: 0.5 } }] }).field).toBe('drift[0].confidence.mean');
    expect(errorOf({ drift: [{ afterRequests: 5, answerBias: { field: 'category', value: 'other', share: 2 } }] }).field).toBe('drift[0].answerBias.share');
    expect(errorOf({ answerBias: { field: 'category', value: 'other' } }).field).toBe('answerBias.share');
    expect(errorOf({ answerBias: { field: '', value: 'other', share: 0.5 } }).field).toBe('answerBias.field');
    expect(errorOf({ answerBias: { field: 'category', value: ['other'], share: 0.5 } })).toMatchObject({
      field: 'answerBias.value',
      message: expect.stringMatching(/string, number or boolean/),
    });
    expect(errorOf({ answerBias: { field: 'category', value: 'other', share: 0.5, segment: 'x' } }).field).toBe('answerBias.segment');
  });

  it('accepts a drift of confidence and answer mix without an accuracy, and no answer bias by default', () => {
    expect(DEFAULT_SCENARIO.answerBias).toBeUndefined();
    const drift = { afterRequests: 5, confidence: { correctMean: 0.8 }, answerBias: { field: 'urgent', value: true, share: 0.5 } };
    expect(parseScenario({ drift: [drift] }).drift).toEqual([drift]);
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

describe('answerParamsFor', () => {
  const bias = { field: 'category', value: 'other', share: 0.6 };
  const scenario = parseScenario({
    accuracy: 0.92,
    confidence: { correctMean: 0.9, wrongMean: 0.6, spread: 0.1 },
    drift: [
      { afterRequests: 100, accuracy: 0.7, confidence: { correctMean: 0.8, wrongMean: 0.5 }, answerBias: bias },
      { segment: 'email|eu', afterRequests: 10, confidence: { spread: 0.2 } },
      { afterRequests: 200, answerBias: { ...bias, share: 0 } },
    ],
  });
  const at = (modelRequests: number, segmentRequests: number, segment: string | null) =>
    answerParamsFor(scenario, segment, { modelRequests, segmentRequests }, Date.parse('2025-01-01T00:00:00Z'));

  it('is the scenario itself before any drift is due', () => {
    expect(at(99, 9, 'email|eu')).toEqual({ accuracy: 0.92, confidence: { correctMean: 0.9, wrongMean: 0.6, spread: 0.1 }, answerBias: undefined });
  });

  it('replaces the confidence parameters a due entry names and keeps the others', () => {
    expect(at(100, 0, null)).toEqual({ accuracy: 0.7, confidence: { correctMean: 0.8, wrongMean: 0.5, spread: 0.1 }, answerBias: bias });
    expect(at(100, 10, 'email|eu').confidence).toEqual({ correctMean: 0.8, wrongMean: 0.5, spread: 0.2 });
    expect(at(0, 10, 'email|eu')).toEqual({ accuracy: 0.92, confidence: { correctMean: 0.9, wrongMean: 0.6, spread: 0.2 }, answerBias: undefined });
  });

  it('keeps accuracy and confidence from an entry that changes only the answer bias', () => {
    expect(at(200, 0, null)).toEqual({ accuracy: 0.7, confidence: { correctMean: 0.8, wrongMean: 0.5, spread: 0.1 }, answerBias: { ...bias, share: 0 } });
  });

  it('starts from the top-level answer bias', () => {
    expect(answerParamsFor(parseScenario({ answerBias: bias }), null, { modelRequests: 0, segmentRequests: 0 }, 0).answerBias).toEqual(bias);
  });
});
