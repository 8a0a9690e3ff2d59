import { DependencyError } from '../common/domain-error';
import type { SegmentSplit } from './domain/segment-split';

export const KILL_SWITCH_FLAG = 'understudy.kill-switch';

export function workflowFlagName(workflow: string): string {
  return `understudy.${workflow}`;
}

export interface WorkflowFlagState {
  flagName: string;
  exists: boolean;
  /** Enabled in the configured environment. Disabled means humans only for the whole workflow. */
  enabled: boolean;
  /** One entry per segment, the strategy clients evaluate for it. */
  segments: Array<{ segment: string; strategyId: string; split: SegmentSplit; irregular?: string }>;
  /**
   * The catch-all strategy that puts segments without their own strategy in shadow (Unleash 6 keeps
   * no environment enabled without a strategy). Null when absent; `irregular` when it gives
   * anything but shadow or is not evaluated last.
   */
  fallback?: { strategyId: string; split: SegmentSplit; irregular?: string } | null;
  /** Strategies outside the contract (disabled, constrained on something else, duplicates …). */
  otherStrategies?: Array<{ strategyId: string; title: string | null; reason: string }>;
}

/**
 * Writes and reads Understudy's flags through Unleash's Admin API. The controller reads back every
 * cycle; what it did not write is an operator's change, to be recorded and adopted.
 */
export interface FlagGateway {
  /** Context fields `segment` and `itemId` (stickiness allowed on itemId), the global flag `understudy.kill-switch` (created disabled). */
  ensureSetup(): Promise<void>;
  /** Flag `understudy.<workflow>` in the configured project, enabled in the configured environment when first created. */
  ensureWorkflowFlag(workflow: string): Promise<void>;
  readWorkflowFlag(workflow: string): Promise<WorkflowFlagState>;
  /** Create or update that segment's strategy. */
  writeSegmentSplit(workflow: string, segment: string, split: SegmentSplit): Promise<void>;
  setWorkflowEnabled(workflow: string, enabled: boolean): Promise<void>;
  readKillSwitch(): Promise<boolean>;
  setKillSwitch(enabled: boolean): Promise<void>;
}

export type FlagGatewayErrorCode =
  /** Unleash did not answer (network error, timeout). */
  | 'FLAG_BACKEND_UNREACHABLE'
  /** Unleash answered with an error status. */
  | 'FLAG_BACKEND_REJECTED'
  /** The flag is not where the contract expects it (missing, archived, other project). */
  | 'FLAG_NOT_FOUND'
  /** A name or split that cannot be written. */
  | 'FLAG_INVALID_INPUT';

/** Answered as 503 by the HTTP error filter, which knows it only as a DependencyError. */
export class FlagGatewayError extends DependencyError {
  constructor(
    readonly code: FlagGatewayErrorCode,
    message: string,
    readonly details: { call?: string; status?: number; unleashMessage?: string } = {},
  ) {
    super('Unleash', message);
    this.name = 'FlagGatewayError';
  }
}
