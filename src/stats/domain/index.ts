// The statistics of Understudy: pure functions, no framework, no clock.
export { normalCdf, normalQuantile, normalUpperTail, zForConfidence } from './normal';
export { binomialCdf, binomialPmf, binomialUpperTail } from './binomial';
export { samplesNeeded, wilsonBounds, wilsonInterval } from './wilson-interval';
export type { WilsonInterval } from './wilson-interval';
export { independentProportionDifference, pairedProportionDifference } from './proportion-difference';
export type { PairedCounts, ProportionDifference } from './proportion-difference';
export { cohensKappa, confusionCells } from './cohens-kappa';
export type { CohensKappa, ConfusionCell } from './cohens-kappa';
export { mcnemarTest } from './mcnemar';
export type { McNemarResult, McNemarVerdict, PairedComparisonCounts } from './mcnemar';
export { calibration, confidenceBinIndex } from './calibration';
export type { CalibrationBin, CalibrationInput, CalibrationResult } from './calibration';
export { recommendThreshold } from './threshold';
export type { ThresholdCandidate, ThresholdInput, ThresholdRecommendation, ThresholdStatus } from './threshold';
export {
  DEFAULT_GUARD_DROP,
  DEFAULT_GUARD_TARGET_ARL0,
  defaultGuardParams,
  falseAlarmProbability,
  guardArl,
  guardIncrements,
  guardParamsForEstimate,
  guardThresholdFor,
  initialGuardState,
  updateGuard,
} from './regression-guard';
export type { GuardBatch, GuardParams, GuardState, GuardUpdate } from './regression-guard';
export { simulateGuard } from './regression-guard-simulation';
export type { GuardSimulationOptions, GuardSimulationResult } from './regression-guard-simulation';
export { evaluateGate } from './gate';
export type { GateCriteria, GateCriterionName, GateCriterionResult, GateInput, GateMetrics, GateResult, GateStage, GateVerdict } from './gate';
export { compareWithHumanBaseline, countFieldAgreement, fieldAgreementSummary, overrideRate, percentileFromHistogram } from './agreement';
export type { BaselineComparison, FieldAgreement, FieldCounts, OverrideRate } from './agreement';
export { mulberry32, seededRandom } from './random';
export type { Random } from './random';
export {
  confidenceSequence,
  DEFAULT_PRIOR_WEIGHT,
  lnBeta,
  lnGamma,
  logMixtureMartingale,
  priorCentredOn,
  sequenceExcludes,
  sequenceSamplesNeeded,
} from './confidence-sequence';
export type { BetaPrior, ConfidenceSequenceBound } from './confidence-sequence';
export { agreementEValue, eBenjaminiHochberg, pairedNonInferiority } from './e-values';
export type { EbhResult, ParityPair, ParityTest } from './e-values';
export { chiSquareSurvival, homogeneityTest, regularizedGammaQ } from './chi-square';
export type { HomogeneityTest } from './chi-square';
export {
  binomialUpperBound,
  DEFAULT_DRIFT_SHIFTS,
  DEFAULT_DRIFT_TARGET_ARL0,
  DEFAULT_REFERENCE_CONFIDENCE,
  DriftMonitor,
  driftMonitorParams,
  initialDriftState,
  updateDriftMonitor,
} from './drift-monitor';
export type {
  DriftComponentParams,
  DriftDirection,
  DriftDirectionParams,
  DriftDirectionReading,
  DriftMonitorOptions,
  DriftMonitorParams,
  DriftMonitorState,
  DriftReading,
} from './drift-monitor';
export {
  aboveDirections,
  belowDirections,
  categoryDirections,
  confidenceMarginal,
  decisionCell,
  decisionCells,
  decisionDirections,
  DEFAULT_CUT_SHARES,
  referenceCuts,
} from './drift-directions';
export type { DecisionCells } from './drift-directions';
export { classBatches, initialClassGuardState, updateClassGuard } from './class-guard';
export type { ClassGuardParams, ClassGuardState, ClassGuardUpdate } from './class-guard';
export { allClearBound, auditShare, DEFAULT_AUDIT_POLICY, initialAuditState, observeAudits, raiseAudits } from './adaptive-audit';
export type { AdaptiveAuditPolicy, AdaptiveAuditState, AdaptiveAuditUpdate } from './adaptive-audit';
export {
  decisionShares,
  driftedLaw,
  shiftSummary,
  simulateAdaptiveAudit,
  simulateCriticalClass,
  simulateEarlyWarning,
  steadyLaw,
} from './early-warning-simulation';
export type {
  AdaptiveAuditOptions,
  AdaptiveAuditResult,
  CriticalClassOptions,
  CriticalClassResult,
  DecisionLaw,
  EarlyWarningOptions,
  EarlyWarningResult,
  GuardBuilder,
  ShiftSummary,
} from './early-warning-simulation';
