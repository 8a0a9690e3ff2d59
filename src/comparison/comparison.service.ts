import { Inject, Injectable } from '@nestjs/common';
import { Clock, CLOCK } from '../common/clock';
import type { Tx } from '../database/sql';
import { MetricsService } from '../metrics/metrics.service';
import { WorkflowRegistry } from '../workflows/workflow-registry.service';
import { comparisonsOf, humanPairsOf, ItemKey, itemKeys, NewComparison, PairingWorkflows, versionPairsOf } from './domain/pairing';
import { RollupAccumulator } from './domain/rollup';
import { ComparisonRepository } from './comparison.repository';
import type { AiDecisionForComparison, HumanDecisionForComparison } from './comparison.types';

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

  private readonly pairingWorkflows: PairingWorkflows = {
    definition: (workflow, version) => this.workflows.version(workflow, version)?.definition,
    championOf: (workflow) => this.workflows.activeOf(workflow)?.champion.version,
  };

  /** New human decisions were stored: compare them with every valid AI decision of their items. */
  async onHumanDecisions(tx: Tx, humans: HumanDecisionForComparison[], acc: RollupAccumulator): Promise<number> {
    if (humans.length === 0) return 0;
    const ai = await this.repo.aiDecisionsFor(tx, itemKeys(humans));
    const n = await this.compare(tx, ai, humans, acc);
    await this.recordHumanPairs(tx, itemKeys(humans.filter((h) => h.kind === 'independent')), acc);
    return n;
  }

  /** New AI decisions were stored: compare them with every human decision of their items. */
  async onAiDecisions(tx: Tx, ai: AiDecisionForComparison[], acc: RollupAccumulator): Promise<number> {
    const valid = ai.filter((d) => d.valid);
    if (valid.length === 0) return 0;
    const humans = await this.repo.humanDecisionsFor(tx, itemKeys(valid));
    return this.compare(tx, valid, humans, acc);
  }

  /** Work items arrived: pairs of independent human decisions that came before them can now be counted. */
  async onItems(tx: Tx, items: ItemKey[], acc: RollupAccumulator): Promise<void> {
    await this.recordHumanPairs(tx, items, acc);
  }

  private async compare(tx: Tx, ai: AiDecisionForComparison[], humans: HumanDecisionForComparison[], acc: RollupAccumulator): Promise<number> {
    const inserted = await this.repo.insertComparisons(tx, comparisonsOf(ai, humans, this.pairingWorkflows));
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
        critical: c.critical,
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
    const stored = await this.repo.comparisonsOnHumanDecisions(tx, [...new Set(relevant.map((c) => c.humanDecisionId))]);
    for (const pair of versionPairsOf(relevant, stored)) acc.addPair({ ...pair, at });
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
    const pairs = humanPairsOf(decisions, (workflow) => this.workflows.activeOf(workflow)?.champion.definition.comparator.fields);
    const inserted = await this.repo.insertHumanPairs(tx, pairs);
    const now = this.clock.now();
    for (const p of inserted) {
      const champion = this.workflows.activeOf(p.workflow)!.champion.version;
      acc.addHumanPair({ workflow: p.workflow, segment: p.segment, version: champion, at: now, agree: p.agree });
    }
  }
}
