import type { FieldMatch, WorkflowDefinition } from '../../workflows/domain/workflow-definition';
import type { AiDecisionForComparison, HumanDecisionForComparison } from '../comparison.types';
import { compareDecisions, labelOf } from './compare-decisions';
import { ClassFlags, classFlags } from './critical-classes';
import { Arm, armOf, classifyLabel, EvidenceKind } from './evidence';

/**
 * Which decisions are compared with which, and what each comparison records: the rules behind
 * every agreement figure, apart from the storage that keeps them.
 */

export interface NewComparison {
  workflow: string;
  itemId: string;
  segment: string;
  version: number;
  isChampion: boolean;
  aiDecisionId: string;
  humanDecisionId: string;
  humanKind: string;
  routeAction: string | null;
  evidence: EvidenceKind;
  arm: Arm;
  aiDecidedAt: Date;
  routeStage: string | null;
  routeThreshold: number | null;
  agree: boolean;
  fieldAgreement: Record<string, boolean>;
  verdict: string | null;
  aiLabel: string | null;
  humanLabel: string | null;
  confidence: number | null;
  /** Which of the workflow's critical classes the person and the AI chose (critical-classes.ts). */
  critical: ClassFlags;
}

export interface NewHumanPair {
  workflow: string;
  itemId: string;
  segment: string;
  firstDecisionId: string;
  secondDecisionId: string;
  agree: boolean;
  fieldAgreement: Record<string, boolean>;
}

/** What pairing needs to know of the workflows (WorkflowRegistry in production). */
export interface PairingWorkflows {
  /** The definition of a workflow version; undefined when the version is unknown. */
  definition(workflow: string, version: number): Pick<WorkflowDefinition, 'comparator' | 'decision'> | undefined;
  /** The champion version of a workflow; undefined when the workflow is not active. */
  championOf(workflow: string): number | undefined;
}

export type ItemKey = { workflow: string; itemId: string };

/**
 * Every AI decision compared with every human decision of its item. A review's verdict belongs
 * to the decision the person was shown: the one the review names, or the champion's when it names
 * none; beside any other version's decision the review is only a label. AI decisions without a
 * decision (invalid answers) or of a version no longer known are not compared.
 */
export function comparisonsOf(ai: AiDecisionForComparison[], humans: HumanDecisionForComparison[], workflows: PairingWorkflows): NewComparison[] {
  const humansByItem = groupBy(humans, itemKeyOf);
  const rows: NewComparison[] = [];
  for (const d of ai) {
    const def = workflows.definition(d.workflow, d.version);
    if (!def || !d.decision) continue;
    const champion = workflows.championOf(d.workflow) === d.version;
    for (const h of humansByItem.get(itemKeyOf(d)) ?? []) {
      const result = compareDecisions(def.comparator.fields, d.decision, h.decision);
      const reviewed = h.kind === 'review' && (h.aiDecisionId ? h.aiDecisionId === d.id : champion);
      rows.push({
        workflow: d.workflow,
        itemId: d.itemId,
        segment: d.segment,
        version: d.version,
        isChampion: champion,
        aiDecisionId: d.id,
        humanDecisionId: h.id,
        humanKind: h.kind,
        routeAction: d.routeAction,
        routeStage: d.routeStage,
        routeThreshold: d.routeThreshold,
        evidence: classifyLabel(h.kind, d.routeAction),
        arm: armOf(d.routeStage),
        aiDecidedAt: new Date(d.decidedAt),
        agree: result.agree,
        fieldAgreement: result.fields,
        verdict: reviewed ? h.verdict : null,
        aiLabel: labelOf(d.decision, def.decision.labelField),
        humanLabel: labelOf(h.decision, def.decision.labelField),
        confidence: d.confidence,
        critical: classFlags(def.decision.criticalClasses ?? [], d.decision, h.decision),
      });
    }
  }
  return rows;
}

/** A comparison as stored: enough to pair two versions judged on the same human decision. */
export interface StoredComparison {
  humanDecisionId: string;
  aiDecisionId: string;
  version: number;
  agree: boolean;
}

export interface VersionPair {
  workflow: string;
  segment: string;
  versionA: number;
  agreeA: boolean;
  versionB: number;
  agreeB: boolean;
}

/**
 * For McNemar: the versions judged on the same human decision, two by two. `stored` holds every
 * comparison on the human decisions of `inserted` (the new ones included); a pair counts once,
 * in the batch that stores the later of its two sides.
 */
export function versionPairsOf(inserted: NewComparison[], stored: StoredComparison[]): VersionPair[] {
  const newKeys = new Set(inserted.map((c) => `${c.aiDecisionId}:${c.humanDecisionId}`));
  const scopeOf = new Map(inserted.map((c) => [c.humanDecisionId, { workflow: c.workflow, segment: c.segment }]));
  const pairs: VersionPair[] = [];
  for (const [humanId, list] of groupBy(stored, (c) => c.humanDecisionId)) {
    const scope = scopeOf.get(humanId);
    if (!scope) continue;
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i];
        const b = list[j];
        if (!newKeys.has(`${a.aiDecisionId}:${humanId}`) && !newKeys.has(`${b.aiDecisionId}:${humanId}`)) continue;
        pairs.push({ ...scope, versionA: a.version, agreeA: a.agree, versionB: b.version, agreeB: b.agree });
      }
    }
  }
  return pairs;
}

/**
 * Human against human on items two people decided independently (the noise baseline): the first
 * decision of an item is the baseline and each later one is compared with it, under the comparator
 * of the workflow's champion. Workflows that are not active are left out.
 */
export function humanPairsOf(
  decisions: Array<HumanDecisionForComparison & { segment: string }>,
  fieldsOf: (workflow: string) => Record<string, FieldMatch> | undefined,
): NewHumanPair[] {
  const pairs: NewHumanPair[] = [];
  for (const list of groupBy(decisions, itemKeyOf).values()) {
    if (list.length < 2) continue;
    const fields = fieldsOf(list[0].workflow);
    if (!fields) continue;
    for (let i = 1; i < list.length; i++) {
      const r = compareDecisions(fields, list[0].decision, list[i].decision);
      pairs.push({
        workflow: list[0].workflow,
        itemId: list[0].itemId,
        segment: list[0].segment,
        firstDecisionId: list[0].id,
        secondDecisionId: list[i].id,
        agree: r.agree,
        fieldAgreement: r.fields,
      });
    }
  }
  return pairs;
}

/** The distinct items of some rows. */
export function itemKeys(rows: ItemKey[]): ItemKey[] {
  const seen = new Map<string, ItemKey>();
  for (const r of rows) seen.set(itemKeyOf(r), { workflow: r.workflow, itemId: r.itemId });
  return [...seen.values()];
}

function itemKeyOf(r: ItemKey): string {
  return `${r.workflow}\u0001${r.itemId}`;
}

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}
