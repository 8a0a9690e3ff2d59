import * as stats from './index';

describe('stats/domain index', () => {
  it('exports every function of the module', () => {
    const expected = [
      'normalCdf',
      'normalQuantile',
      'normalUpperTail',
      'zForConfidence',
      'binomialCdf',
      'binomialPmf',
      'binomialUpperTail',
      'samplesNeeded',
      'wilsonBounds',
      'wilsonInterval',
      'independentProportionDifference',
      'pairedProportionDifference',
      'cohensKappa',
      'confusionCells',
      'mcnemarTest',
      'calibration',
      'confidenceBinIndex',
      'recommendThreshold',
      'defaultGuardParams',
      'falseAlarmProbability',
      'guardArl',
      'guardIncrements',
      'guardParamsForEstimate',
      'guardThresholdFor',
      'initialGuardState',
      'updateGuard',
      'simulateGuard',
      'evaluateGate',
      'compareWithHumanBaseline',
      'countFieldAgreement',
      'fieldAgreementSummary',
      'overrideRate',
      'percentileFromHistogram',
      'mulberry32',
      'seededRandom',
      'confidenceSequence',
      'lnBeta',
      'lnGamma',
      'logMixtureMartingale',
      'priorCentredOn',
      'sequenceExcludes',
      'sequenceSamplesNeeded',
    ];
    for (const name of expected) expect(typeof (stats as Record<string, unknown>)[name]).toBe('function');
    expect(stats.DEFAULT_GUARD_DROP).toBe(0.06);
    expect(stats.DEFAULT_GUARD_TARGET_ARL0).toBe(500_000);
  });
});
