import { Inject, Injectable } from '@nestjs/common';
import { Clock, CLOCK } from '../common/clock';
import type { Tx } from '../database/sql';
import { MetricsService } from '../metrics/metrics.service';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { compareDecisions, labelOf } from './domain/compare-decisions';
import { armOf, classifyLabel } from './domain/evidence';
import { RollupAccumulator } from './domain/rollup';
import { ComparisonRepository, NewComparison, NewHumanPair } from './comparison.repository';
import type { AiDecisionForComparison, HumanDecisionForComparison } from './comparison.types';

type ItemKey = { workflow: string; itemId: string };

/**
 * Records agreement as soon as an AI decision and a human decision exist for an item, in
 * either order. Callers hold the items' advisory locks (lockItems) from before they insert
 * their side until commit, so the two sides can never miss each other.
 */
@Injectable()
export class ComparisonService {
  constructor(
    private readonly repo: ComparisonRepository,
    private readonly workflows: WorkflowRegistry,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** New human decisions were stored: compare them with every valid AI decision of their items. */
  async onHumanDecisions(tx: Tx, humans: HumanDecisionForComparison[], acc: RollupAccumulator): Promise<number> {
    if (humans.length === 0) return 0;
    const ai = await this.repo.aiDecisionsFor(tx, keysOf(humans));
    const n = await this.compare(tx, ai, humans, acc);
    await this.recordHumanPairs(tx, keysOf(humans.filter((h) => h.kind === 'independent')), acc);
    return n;
  }

  /** New AI decisions were stored: compare them with every human decision of their items. */
  async onAiDecisions(tx: Tx, ai: AiDecisionForComparison[], acc: RollupAccumulator): Promise<number> {
    const valid = ai.filter((d) => d.valid);
    if (valid.length === 0) return 0;
    const humans = await this.repo.humanDecisionsFor(tx, keysOf(valid));
    return this.compare(tx, valid, humans, acc);
  }

  /** Work items arrived: pairs of independent human decisions that came before them can now be counted. */
  async onItems(tx: Tx, items: ItemKey[], acc: RollupAccumulator): Promise<void> {
    await this.recordHumanPairs(tx, items, acc);
  }

  private async compare(tx: Tx, ai: AiDecisionForComparison[], humans: HumanDecisionForComparison[], acc: RollupAccumulator): Promise<number> {
    const humansByItem = groupBy(humans, (h) => `${h.workflow}\u0001${h.itemId}`);
    const rows: NewComparison[] = [];
    for (const d of ai) {
      const version = this.workflows.version(d.workflow, d.version);
      if (!version || !d.decision) continue;
      const def = version.definition;
      const champion = this.workflows.activeOf(d.workflow)?.champion.version === d.version;
      for (const h of humansByItem.get(`${d.workflow}\u0001${d.itemId}`) ?? []) {
        const result = compareDecisions(def.comparator.fields, d.decision, h.decision);
        // A review's verdict is about the decision the person was shown: the one it names,
        // or the champion's when it names none.
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
        });
      }
    }
    const inserted = await this.repo.insertComparisons(tx, rows);
    const now = this.clock.now();
    for (const c of inserted) {
      acc.addComparison({
        workflow: c.workflow,
        segment: c.segment,
        version: c.version,
        at: now,
        aiDecidedAt: c.aiDecidedAt,
        routeStage: c.routeStage,
        routeThreshold: c.routeThreshold,
        agree: c.agree,
        humanKind: c.humanKind as 'independent' | 'review',
        verdict: c.verdict as 'accepted' | 'overridden' | null,
        routeAction: c.routeAction,
        confidence: c.confidence,
        fields: c.fieldAgreement,
        aiLabel: c.aiLabel,
        humanLabel: c.humanLabel,
      });
      this.metrics.comparisons.inc({ workflow: c.workflow, segment: c.segment, result: c.agree ? 'agree' : 'disagree' });
    }
    await this.recordVersionPairs(tx, inserted, acc, now);
    return inserted.length;
  }

  /** For McNemar: every new comparison paired with other versions' comparisons on the same human decision. */
  private async recordVersionPairs(tx: Tx, inserted: NewComparison[], acc: RollupAccumulator, at: Date): Promise<void> {
    if (inserted.length === 0) return;
    const multi = this.workflowsWithChallengers(inserted);
    const relevant = inserted.filter((c) => multi.has(c.workflow));
    if (relevant.length === 0) return;
    const all = await this.repo.comparisonsOnHumanDecisions(tx, [...new Set(relevant.map((c) => c.humanDecisionId))]);
    const newKeys = new Set(relevant.map((c) => `${c.aiDecisionId}:${c.humanDecisionId}`));
    const byHuman = groupBy(all, (c) => c.humanDecisionId);
    const segmentOf = new Map(relevant.map((c) => [c.humanDecisionId, { workflow: c.workflow, segment: c.segment }]));
    for (const [humanId, list] of byHuman) {
      const scope = segmentOf.get(humanId)!;
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const a = list[i];
          const b = list[j];
          // Count a pair once: when at least one side is new in this batch.
          if (!newKeys.has(`${a.aiDecisionId}:${humanId}`) && !newKeys.has(`${b.aiDecisionId}:${humanId}`)) continue;
          acc.addPair({ ...scope, at, versionA: a.version, agreeA: a.agree, versionB: b.version, agreeB: b.agree });
        }
      }
    }
  }

  private workflowsWithChallengers(rows: NewComparison[]): Set<string> {
    const out = new Set<string>();
    for (const w of new Set(rows.map((r) => r.workflow))) {
      const versions = this.workflows.allVersions().filter((v) => v.workflow === w);
      if (versions.length > 1) out.add(w);
    }
    return out;
  }

  /** Human-vs-human agreement on items decided independently by two people (the noise baseline). */
  private async recordHumanPairs(tx: Tx, items: ItemKey[], acc: RollupAccumulator): Promise<void> {
    if (items.length === 0) return;
    const decisions = await this.repo.independentDecisionsWithSegment(tx, items);
    const byItem = groupBy(decisions, (d) => `${d.workflow}\u0001${d.itemId}`);
    const pairs: NewHumanPair[] = [];
    for (const list of byItem.values()) {
      if (list.length < 2) continue;
      const active = this.workflows.activeOf(list[0].workflow);
      if (!active) continue;
      const fields = active.champion.definition.comparator.fields;
      // The first decision is the baseline; each later one is compared with it.
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
    const inserted = await this.repo.insertHumanPairs(tx, pairs);
    const now = this.clock.now();
    for (const p of inserted) {
      const champion = this.workflows.activeOf(p.workflow)!.champion.version;
      acc.addHumanPair({ workflow: p.workflow, segment: p.segment, version: champion, at: now, agree: p.agree });
    }
  }
}

function keysOf(rows: Array<{ workflow: string; itemId: string }>): ItemKey[] {
  const seen = new Map<string, ItemKey>();
  for (const r of rows) seen.set(`${r.workflow}\u0001${r.itemId}`, { workflow: r.workflow, itemId: r.itemId });
  return [...seen.values()];
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
