import { InitialSchema1795428000000 } from './1795428000000-InitialSchema';
import { RollupHour1795500000000 } from './1795500000000-RollupHour';
import { OutboxRelayInstance1795600000000 } from './1795600000000-OutboxRelayInstance';
import { BlindEvidence1795700000000 } from './1795700000000-BlindEvidence';
import { HumanParityPairs1795800000000 } from './1795800000000-HumanParityPairs';
import { OutboxWithheld1795900000000 } from './1795900000000-OutboxWithheld';
import { SegmentVersion1796000000000 } from './1796000000000-SegmentVersion';
import { TokenExpiry1796100000000 } from './1796100000000-TokenExpiry';
import { AuditHashChain1796200000000 } from './1796200000000-AuditHashChain';
import { PersonalDataRetention1796300000000 } from './1796300000000-PersonalDataRetention';
import { TokenWorkflowScope1796400000000 } from './1796400000000-TokenWorkflowScope';
import { BudgetClaims1796500000000 } from './1796500000000-BudgetClaims';
import { PlanSafeQueueIndexes1796600000000 } from './1796600000000-PlanSafeQueueIndexes';
import { EvidenceHour1796700000000 } from './1796700000000-EvidenceHour';
import { RollupHourDeletes1796800000000 } from './1796800000000-RollupHourDeletes';
import { CriticalClassEvidence1796900000000 } from './1796900000000-CriticalClassEvidence';
import { Guardrails1797000000000 } from './1797000000000-Guardrails';
import { DriftMonitors1797100000000 } from './1797100000000-DriftMonitors';

/** Every migration, in order. A merged migration is never edited: add a new one. */
export const MIGRATIONS = [
  InitialSchema1795428000000,
  RollupHour1795500000000,
  OutboxRelayInstance1795600000000,
  BlindEvidence1795700000000,
  HumanParityPairs1795800000000,
  OutboxWithheld1795900000000,
  SegmentVersion1796000000000,
  TokenExpiry1796100000000,
  AuditHashChain1796200000000,
  PersonalDataRetention1796300000000,
  TokenWorkflowScope1796400000000,
  BudgetClaims1796500000000,
  PlanSafeQueueIndexes1796600000000,
  EvidenceHour1796700000000,
  RollupHourDeletes1796800000000,
  CriticalClassEvidence1796900000000,
  Guardrails1797000000000,
  DriftMonitors1797100000000,
];
