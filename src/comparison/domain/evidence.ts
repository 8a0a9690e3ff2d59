/*
 * What a human label is evidence of.
 *
 * People anchor on what they are shown: a reviewer who sees the AI's answer accepts it more often
 * than they would have reached it alone, so agreement measured on reviews overstates the AI. A label
 * is therefore
 *  - blind when the person decided without seeing the AI's answer: an independent decision on an
 *    item routed `none` (shadow, or humans only), `double-label` or `audit` (the blind samples of
 *    supervised and confidence-routed), or decided before anything was routed;
 *  - anchored when the person saw it: a review (of a suggestion, or of a review-routed item), or a
 *    decision on an item whose answer was shown (`suggest`, `review`);
 *  - unsampled when nobody was meant to label the item (`auto`): such a label (a re-review, a
 *    complaint) was not drawn at random, so it measures nothing about the arm.
 * Decisions about the AI's quality (gates, threshold certification, guards) use blind labels only;
 * anchored ones measure the override rate and nothing else.
 *
 * A blind label also calibrates the confidence threshold when it was drawn the same way at every
 * confidence: every blind label but the audits of confidence-routed items, which are drawn from
 * the items at or above the threshold in force (with no threshold in force they are drawn from
 * all items, and calibrate too). Pooling labels sampled at different rates per confidence would
 * weight the confidence bins wrongly.
 *
 * Every label also belongs to an arm — the stage its item was routed under — and to the minute the
 * AI decided, not the minute the label arrived: the evidence of a step is the items the AI decided
 * during it, whenever people get to them.
 */

import type { HumanKind } from '../comparison.types';
import { addClassFlags, ClassCounts, ClassFlags } from './critical-classes';

export type EvidenceKind = 'blind' | 'anchored' | 'unsampled';
export type Arm = 'shadow' | 'supervised' | 'confidence-routed';

/** Labels of one arm (or several) summed over AI-decision minutes. */
export interface ArmEvidence {
  blindN: number;
  blindAgree: number;
  anchoredN: number;
  anchoredAgree: number;
  anchoredOverridden: number;
}

export const ARMS: readonly Arm[] = ['shadow', 'supervised', 'confidence-routed'];

const BLIND_ACTIONS = new Set(['none', 'double-label', 'audit']);
const SHOWN_ACTIONS = new Set(['suggest', 'review']);

export function classifyLabel(humanKind: HumanKind, routeAction: string | null): EvidenceKind {
  if (humanKind === 'review') return 'anchored';
  if (routeAction === null || BLIND_ACTIONS.has(routeAction)) return 'blind';
  if (SHOWN_ACTIONS.has(routeAction)) return 'anchored';
  return 'unsampled';
}

/**
 * The arm of an item: the stage its champion decision was routed under. Items routed under no
 * stage (flag disabled, kill switch) and challengers' decisions on items that were never routed
 * were handled by people alone, as in shadow.
 */
export function armOf(routeStage: string | null): Arm {
  return routeStage === 'supervised' || routeStage === 'confidence-routed' ? routeStage : 'shadow';
}

/** A blind label drawn the same way at every confidence (see above). */
export function calibrates(kind: EvidenceKind, arm: Arm, routeThreshold: number | null): boolean {
  return kind === 'blind' && (arm !== 'confidence-routed' || routeThreshold === null);
}

export interface EvidenceRow {
  workflow: string;
  segment: string;
  version: number;
  arm: Arm;
  /** The minute the AI decided. */
  minute: Date;
  blindN: number;
  blindAgree: number;
  anchoredN: number;
  anchoredAgree: number;
  anchoredOverridden: number;
  /** Calibrating labels per confidence bin (the threshold's calibration set). */
  confN: number[];
  confAgree: number[];
  /** Blind labels per critical class: [person chose it, AI chose it, both did] (critical-classes.ts). */
  critical: ClassCounts;
}

export interface LabelFacts {
  workflow: string;
  segment: string;
  version: number;
  aiDecidedAt: Date;
  routeAction: string | null;
  routeStage: string | null;
  /** The threshold in force when the item was routed. */
  routeThreshold: number | null;
  humanKind: HumanKind;
  verdict: 'accepted' | 'overridden' | null;
  agree: boolean;
  confidence: number | null;
  critical?: ClassFlags;
}

/** The minute an instant falls in (rollups and evidence are kept per minute). */
export function minuteOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 60_000) * 60_000);
}

/** Adds up a batch's labels per (workflow, segment, version, arm, AI decision minute). */
export class EvidenceAccumulator {
  private rows = new Map<string, EvidenceRow>();

  constructor(
    private readonly bins: number,
    private readonly binOf: (confidence: number) => number,
  ) {}

  add(l: LabelFacts): EvidenceKind {
    const kind = classifyLabel(l.humanKind, l.routeAction);
    if (kind === 'unsampled') return kind;
    const arm = armOf(l.routeStage);
    const minute = minuteOf(l.aiDecidedAt);
    const k = `${l.workflow}\u0001${l.segment}\u0001${l.version}\u0001${arm}\u0001${minute.getTime()}`;
    let r = this.rows.get(k);
    if (!r) {
      r = {
        workflow: l.workflow,
        segment: l.segment,
        version: l.version,
        arm,
        minute,
        blindN: 0,
        blindAgree: 0,
        anchoredN: 0,
        anchoredAgree: 0,
        anchoredOverridden: 0,
        confN: new Array(this.bins).fill(0),
        confAgree: new Array(this.bins).fill(0),
        critical: {},
      };
      this.rows.set(k, r);
    }
    const a = l.agree ? 1 : 0;
    if (kind === 'blind') {
      r.blindN++;
      r.blindAgree += a;
      addClassFlags(r.critical, l.critical);
      if (l.confidence !== null && calibrates(kind, arm, l.routeThreshold)) {
        const b = this.binOf(l.confidence);
        r.confN[b]++;
        r.confAgree[b] += a;
      }
    } else {
      r.anchoredN++;
      r.anchoredAgree += a;
      if (l.verdict === 'overridden') r.anchoredOverridden++;
    }
    return kind;
  }

  /** Rows sorted by key, so concurrent batches lock them in the same order. */
  result(): EvidenceRow[] {
    return [...this.rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }
}
