import type { WorkflowDefinition } from '../../workflows/domain/workflow-definition';
import type { AiDecisionForComparison, HumanDecisionForComparison } from '../comparison.types';
import { comparisonsOf, humanPairsOf, itemKeys, NewComparison, PairingWorkflows, StoredComparison, versionPairsOf } from './pairing';

const fields = {
  category: { match: 'exact' as const, caseInsensitive: false },
  priority: { match: 'exact' as const, caseInsensitive: false },
};
const definition = { comparator: { fields }, decision: { labelField: 'category' } } as unknown as Pick<WorkflowDefinition, 'comparator' | 'decision'>;

/** Workflow `triage` with versions 1 (champion) and 2 (challenger); no other version is known. */
const workflows: PairingWorkflows = {
  definition: (workflow, version) => (workflow === 'triage' && (version === 1 || version === 2) ? definition : undefined),
  championOf: (workflow) => (workflow === 'triage' ? 1 : undefined),
};

const decidedAt = new Date('2026-12-01T10:00:00Z');
const ai = (id: string, over: Partial<AiDecisionForComparison> = {}): AiDecisionForComparison => ({
  id,
  workflow: 'triage',
  itemId: 'item-1',
  segment: 'email|eu',
  version: 1,
  valid: true,
  decision: { category: 'billing', priority: 'high' },
  confidence: 0.9,
  routeAction: 'none',
  routeStage: 'shadow',
  routeThreshold: null,
  decidedAt,
  ...over,
});
const human = (id: string, over: Partial<HumanDecisionForComparison> = {}): HumanDecisionForComparison => ({
  id,
  workflow: 'triage',
  itemId: 'item-1',
  decision: { category: 'billing', priority: 'high' },
  kind: 'independent',
  aiDecisionId: null,
  verdict: null,
  ...over,
});

describe('comparisonsOf: which decisions are compared', () => {
  it('compares every AI decision of an item with every human decision of the same item, and nothing across items', () => {
    const rows = comparisonsOf(
      [ai('a1'), ai('a2', { version: 2 }), ai('a3', { itemId: 'item-2' })],
      [human('h1'), human('h2', { decision: { category: 'refund', priority: 'high' } })],
      workflows,
    );
    expect(rows.map((r) => `${r.aiDecisionId}-${r.humanDecisionId}`)).toEqual(['a1-h1', 'a1-h2', 'a2-h1', 'a2-h2']);
    expect(rows.map((r) => r.agree)).toEqual([true, false, true, false]);
    expect(rows[1].fieldAgreement).toEqual({ category: false, priority: true });
    expect(rows.map((r) => r.isChampion)).toEqual([true, true, false, false]);
  });

  it('leaves out an answer that gave no decision and a version the registry no longer knows', () => {
    expect(comparisonsOf([ai('a1', { decision: null }), ai('a2', { version: 7 }), ai('a3', { workflow: 'gone' })], [human('h1')], workflows)).toEqual([]);
  });

  it('records what the label is evidence of: blind, anchored or unsampled, and the arm it was routed under', () => {
    const rows = comparisonsOf(
      [
        ai('shadow'),
        ai('audit', { itemId: 'i2', routeAction: 'audit', routeStage: 'confidence-routed', routeThreshold: 0.8 }),
        ai('suggest', { itemId: 'i3', routeAction: 'suggest', routeStage: 'supervised' }),
        ai('auto', { itemId: 'i4', routeAction: 'auto', routeStage: 'confidence-routed' }),
      ],
      [human('h1'), human('h2', { itemId: 'i2' }), human('h3', { itemId: 'i3', kind: 'review', verdict: 'accepted' }), human('h4', { itemId: 'i4' })],
      workflows,
    );
    expect(rows.map((r) => [r.aiDecisionId, r.evidence, r.arm])).toEqual([
      ['shadow', 'blind', 'shadow'],
      ['audit', 'blind', 'confidence-routed'],
      ['suggest', 'anchored', 'supervised'],
      ['auto', 'unsampled', 'confidence-routed'],
    ]);
    expect(rows[1].routeThreshold).toBe(0.8);
  });

  it('counts for the time the AI decided, and keeps both labels and the confidence', () => {
    const [row] = comparisonsOf([ai('a1', { confidence: 0.42 })], [human('h1', { decision: { category: 'refund', priority: 'low' } })], workflows);
    expect(row.aiDecidedAt).toEqual(decidedAt);
    expect(row).toMatchObject({ aiLabel: 'billing', humanLabel: 'refund', confidence: 0.42, segment: 'email|eu', version: 1 });
  });
});

describe("comparisonsOf: a review's verdict", () => {
  const review = (aiDecisionId: string | null) => human('r1', { kind: 'review', aiDecisionId, verdict: 'overridden' });

  it('belongs to the decision the review names, and is only a label beside any other', () => {
    const rows = comparisonsOf([ai('a1'), ai('a2', { version: 2 })], [review('a2')], workflows);
    expect(rows.map((r) => [r.aiDecisionId, r.verdict])).toEqual([
      ['a1', null],
      ['a2', 'overridden'],
    ]);
  });

  it("belongs to the champion's decision when the review names none", () => {
    const rows = comparisonsOf([ai('a1'), ai('a2', { version: 2 })], [review(null)], workflows);
    expect(rows.map((r) => [r.aiDecisionId, r.verdict])).toEqual([
      ['a1', 'overridden'],
      ['a2', null],
    ]);
  });

  it('is never read from an independent decision', () => {
    const [row] = comparisonsOf([ai('a1')], [human('h1', { verdict: 'accepted' })], workflows);
    expect(row.verdict).toBeNull();
  });
});

describe('versionPairsOf: versions judged on the same human decision', () => {
  const inserted = (aiDecisionId: string, humanDecisionId: string) =>
    ({ aiDecisionId, humanDecisionId, workflow: 'triage', segment: 'chat|us' }) as NewComparison;
  const stored = (aiDecisionId: string, humanDecisionId: string, version: number, agree: boolean): StoredComparison => ({
    aiDecisionId,
    humanDecisionId,
    version,
    agree,
  });

  it('pairs a new comparison with the stored one of another version, in the new one’s segment', () => {
    const pairs = versionPairsOf([inserted('a2', 'h1')], [stored('a1', 'h1', 1, true), stored('a2', 'h1', 2, false)]);
    expect(pairs).toEqual([{ workflow: 'triage', segment: 'chat|us', versionA: 1, agreeA: true, versionB: 2, agreeB: false }]);
  });

  it('counts a pair once: in the batch that stores its later side, not again with a third', () => {
    // Both sides new in one batch: one pair.
    expect(versionPairsOf([inserted('a1', 'h1'), inserted('a2', 'h1')], [stored('a1', 'h1', 1, true), stored('a2', 'h1', 2, true)])).toHaveLength(1);
    // A third version arrives later: it pairs with each stored side, and the old pair is not counted again.
    const pairs = versionPairsOf([inserted('a3', 'h1')], [stored('a1', 'h1', 1, true), stored('a2', 'h1', 2, true), stored('a3', 'h1', 3, false)]);
    expect(pairs.map((p) => `${p.versionA}-${p.versionB}`)).toEqual(['1-3', '2-3']);
  });

  it('pairs nothing on a human decision only one version was judged on', () => {
    expect(versionPairsOf([inserted('a1', 'h1')], [stored('a1', 'h1', 1, true)])).toEqual([]);
  });
});

describe('humanPairsOf: person against person', () => {
  const independent = (id: string, itemId: string, category: string, workflow = 'triage') => ({
    ...human(id, { itemId, workflow, decision: { category, priority: 'high' } }),
    segment: 'email|eu',
  });
  const fieldsOf = (workflow: string) => (workflow === 'triage' ? fields : undefined);

  it('compares each later decision of an item with its first', () => {
    const pairs = humanPairsOf([independent('h1', 'i1', 'billing'), independent('h2', 'i1', 'billing'), independent('h3', 'i1', 'refund')], fieldsOf);
    expect(pairs.map((p) => [p.firstDecisionId, p.secondDecisionId, p.agree])).toEqual([
      ['h1', 'h2', true],
      ['h1', 'h3', false],
    ]);
    expect(pairs[1].fieldAgreement).toEqual({ category: false, priority: true });
  });

  it('pairs nothing for an item one person decided, or of a workflow that is not active', () => {
    expect(humanPairsOf([independent('h1', 'i1', 'billing'), independent('h2', 'i2', 'billing')], fieldsOf)).toEqual([]);
    expect(humanPairsOf([independent('h1', 'i1', 'billing', 'gone'), independent('h2', 'i1', 'billing', 'gone')], fieldsOf)).toEqual([]);
  });
});

describe('itemKeys', () => {
  it('gives each item once', () => {
    expect(
      itemKeys([
        { workflow: 'triage', itemId: 'i1' },
        { workflow: 'triage', itemId: 'i1' },
        { workflow: 'invoice', itemId: 'i1' },
      ]),
    ).toEqual([
      { workflow: 'triage', itemId: 'i1' },
      { workflow: 'invoice', itemId: 'i1' },
    ]);
  });
});
