import { armOf, classifyLabel, EvidenceAccumulator, LabelFacts } from './evidence';
import { confidenceBin, CONFIDENCE_BINS, RollupAccumulator } from './rollup';

describe('what a label is evidence of', () => {
  it('is blind when the person decided without seeing the AI answer', () => {
    expect(classifyLabel('independent', 'none')).toBe('blind'); // shadow
    expect(classifyLabel('independent', 'double-label')).toBe('blind');
    expect(classifyLabel('independent', 'audit')).toBe('blind'); // supervised blind share, confidence-routed audits
    expect(classifyLabel('independent', null)).toBe('blind'); // decided before anything was routed
  });

  it('is anchored when the person saw the answer, whatever the producer called it', () => {
    expect(classifyLabel('review', 'suggest')).toBe('anchored');
    expect(classifyLabel('review', 'review')).toBe('anchored');
    expect(classifyLabel('review', null)).toBe('anchored');
    expect(classifyLabel('independent', 'suggest')).toBe('anchored');
    expect(classifyLabel('independent', 'review')).toBe('anchored');
  });

  it('is unsampled on an item nobody was meant to label', () => {
    expect(classifyLabel('independent', 'auto')).toBe('unsampled');
  });

  it('belongs to the arm its item was routed under; unrouted items are handled as in shadow', () => {
    expect(armOf('supervised')).toBe('supervised');
    expect(armOf('confidence-routed')).toBe('confidence-routed');
    expect(armOf('shadow')).toBe('shadow');
    expect(armOf(null)).toBe('shadow');
  });
});

describe('adding evidence up', () => {
  const decided = new Date('2026-11-30T10:15:42Z');
  const label = (over: Partial<LabelFacts> = {}): LabelFacts => ({
    workflow: 'triage',
    segment: 'email|eu',
    version: 1,
    aiDecidedAt: decided,
    routeAction: 'audit',
    routeStage: 'supervised',
    routeThreshold: null,
    humanKind: 'independent',
    verdict: null,
    agree: true,
    confidence: 0.93,
    ...over,
  });

  it('counts by the minute the AI decided and by arm, blind apart from anchored', () => {
    const acc = new EvidenceAccumulator(CONFIDENCE_BINS, confidenceBin);
    acc.add(label());
    acc.add(label({ agree: false, confidence: 0.41 }));
    acc.add(label({ routeAction: 'suggest', humanKind: 'review', verdict: 'overridden', agree: false }));
    acc.add(label({ routeAction: 'suggest', humanKind: 'review', verdict: 'accepted' }));
    acc.add(label({ routeAction: 'none', routeStage: 'shadow' }));
    acc.add(label({ aiDecidedAt: new Date('2026-11-30T10:16:01Z') }));
    expect(acc.add(label({ routeAction: 'auto', routeStage: 'confidence-routed' }))).toBe('unsampled');
    const rows = acc.result();
    expect(rows.map((r) => [r.arm, r.minute.toISOString(), r.blindN, r.blindAgree, r.anchoredN, r.anchoredAgree, r.anchoredOverridden])).toEqual([
      ['shadow', '2026-11-30T10:15:00.000Z', 1, 1, 0, 0, 0],
      ['supervised', '2026-11-30T10:15:00.000Z', 2, 1, 2, 1, 1],
      ['supervised', '2026-11-30T10:16:00.000Z', 1, 1, 0, 0, 0],
    ]);
    const supervised = rows[1];
    expect(supervised.confN[confidenceBin(0.93)]).toBe(1);
    expect(supervised.confAgree[confidenceBin(0.93)]).toBe(1);
    expect(supervised.confN[confidenceBin(0.41)]).toBe(1);
    expect(supervised.confAgree[confidenceBin(0.41)]).toBe(0);
    // Anchored labels never reach the calibration set.
    expect(supervised.confN.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('calibrates the threshold only with labels drawn alike at every confidence', () => {
    const acc = new EvidenceAccumulator(CONFIDENCE_BINS, confidenceBin);
    const audit = { routeAction: 'audit', routeStage: 'confidence-routed' } as const;
    acc.add(label({ ...audit, routeThreshold: 0.8, confidence: 0.9 })); // drawn from items ≥ 0.8 only
    acc.add(label({ ...audit, routeThreshold: null, confidence: 0.3 })); // no threshold: drawn from all items
    const [row] = acc.result();
    expect(row.blindN).toBe(2);
    expect(row.confN.reduce((a, b) => a + b, 0)).toBe(1);
    expect(row.confN[confidenceBin(0.3)]).toBe(1);
  });

  it('a late label counts for the minute the AI decided, not the minute it arrived', () => {
    const acc = new RollupAccumulator();
    const arrived = new Date('2026-11-30T16:00:00Z');
    acc.addComparison({
      workflow: 'triage',
      segment: 'email|eu',
      version: 1,
      at: arrived,
      aiDecidedAt: decided,
      routeStage: 'shadow',
      routeThreshold: null,
      routeAction: 'none',
      agree: true,
      humanKind: 'independent',
      verdict: null,
      confidence: 0.9,
      fields: {},
      aiLabel: null,
      humanLabel: null,
    });
    const { rows, evidence } = acc.result();
    expect(rows[0].minute.toISOString()).toBe('2026-11-30T16:00:00.000Z');
    expect(evidence[0].minute.toISOString()).toBe('2026-11-30T10:15:00.000Z');
  });
});
