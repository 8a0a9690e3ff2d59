import { decisionCellKey } from '../../comparison/domain/rollup';
import { defaultGuardParams, seededRandom } from '../../stats/domain';
import { armDrift, auditFactorOf, cellsFor, cellVector, driftNeedsArming, DriftWatch, DriftWatchConfig, lookDrift, OTHER_ANSWER } from './drift-watch';

const CONFIG: DriftWatchConfig = { enabled: true, targetArl0: 500_000, minReference: 1000, auditFactor: 8, auditCap: 0.4, holdPromotions: false };
const ANSWERS = ['billing', 'technical', 'account'];
const POLICY = { baseShare: 0.05, factor: 8, cap: 0.4, clearConfidence: 0.95 };
const GUARD = defaultGuardParams(0.92, { drop: 0.06, targetArl0: 500_000 });
const NOW = new Date('2026-12-01T10:00:00Z');

/** Decisions per cell key: confident answers spread over the three classes, or (drifted) unsure ones drifting to `other`. */
function decisions(n: number, drifted: boolean, random: () => number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const unsure = random() < (drifted ? 0.4 : 0.08);
    const confidence = unsure ? 0.45 + 0.2 * random() : 0.8 + 0.19 * random();
    const answer = drifted && random() < 0.3 ? 'other' : ANSWERS[Math.floor(random() * ANSWERS.length)];
    const k = decisionCellKey(confidence, answer);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

const add = (a: Record<string, number>, b: Record<string, number>) => {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
};

describe('the label-free drift watch', () => {
  it('puts decisions in cells of confidence bin × answer, unknown answers under other', () => {
    const cells = cellsFor(ANSWERS);
    expect(cells.answers).toEqual([...ANSWERS, OTHER_ANSWER]);
    const v = cellVector(cells, { '9|billing': 2, '0|account': 1, '5|shipping': 4, '5|': 1, 'x|billing': 7 });
    expect(v[9 * 4 + 0]).toBe(2);
    expect(v[0 * 4 + 2]).toBe(1);
    expect(v[5 * 4 + 3]).toBe(5);
    expect(v.reduce((a, b) => a + b, 0)).toBe(8);
  });

  it('is armed above shadow when enabled, once per stage', () => {
    expect(driftNeedsArming('shadow', null, CONFIG)).toBe(false);
    expect(driftNeedsArming('supervised', null, { ...CONFIG, enabled: false })).toBe(false);
    expect(driftNeedsArming('supervised', null, CONFIG)).toBe(true);
    const w = armDrift('supervised', { answers: ANSWERS, stageCells: {}, referenceCells: {} }, { n: 0, agree: 0 }, CONFIG);
    expect(driftNeedsArming('supervised', w, CONFIG)).toBe(false);
    expect(driftNeedsArming('confidence-routed', w, CONFIG)).toBe(true);
  });

  it('collects its reference from the stage’s first decisions when the window before it had too few', () => {
    const random = seededRandom(3);
    const w0 = armDrift('supervised', { answers: ANSWERS, stageCells: {}, referenceCells: decisions(400, false, random.next) }, { n: 0, agree: 0 }, CONFIG);
    expect(w0.params).toBeNull();
    const stage = decisions(700, false, random.next);
    const w1 = lookDrift(w0, { answers: ANSWERS, stageCells: stage, referenceCells: null }, { n: 0, agree: 0 }, GUARD, POLICY, CONFIG, NOW).watch;
    expect(w1.reference.reduce((a, b) => a + b, 0)).toBe(1100);
    expect(w1.params).not.toBeNull();
    expect(w1.watermark).toEqual(stage);
  });

  it('stays quiet on a stable stage, alarms on a shift of confidence and answers, raises the share once, and clears it on good blind labels', () => {
    const random = seededRandom(11);
    let w: DriftWatch = armDrift(
      'confidence-routed',
      { answers: ANSWERS, stageCells: {}, referenceCells: decisions(3000, false, random.next) },
      { n: 0, agree: 0 },
      CONFIG,
    );
    let stage: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      stage = add(stage, decisions(50, false, random.next));
      const look = lookDrift(w, { answers: ANSWERS, stageCells: stage, referenceCells: null }, { n: 0, agree: 0 }, GUARD, POLICY, CONFIG, NOW);
      expect(look.alarm).toBeNull();
      w = look.watch;
    }
    expect(auditFactorOf(w, CONFIG)).toBeNull();
    let alarmAfter: number | null = null;
    for (let i = 0; i < 100 && alarmAfter === null; i++) {
      stage = add(stage, decisions(50, true, random.next));
      const look = lookDrift(w, { answers: ANSWERS, stageCells: stage, referenceCells: null }, { n: 0, agree: 0 }, GUARD, POLICY, CONFIG, NOW);
      w = look.watch;
      if (look.alarm) {
        alarmAfter = (i + 1) * 50;
        expect(look.alarm.leading.length).toBeGreaterThan(0);
      }
    }
    expect(alarmAfter).not.toBeNull();
    expect(alarmAfter!).toBeLessThanOrEqual(1000);
    expect(w.audit.raised).toBe(true);
    expect(w.raisedAt).toBe(NOW.toISOString());
    expect(auditFactorOf(w, CONFIG)).toBe(8);
    // 400 blind labels at 0.97 since the alarm rule out the guard's drop (to 0.86): back to the base share, reference taken again.
    const cleared = lookDrift(w, { answers: ANSWERS, stageCells: stage, referenceCells: null }, { n: 400, agree: 388 }, GUARD, POLICY, CONFIG, NOW);
    expect(cleared.cleared).toMatchObject({ n: 400, agree: 388 });
    expect(cleared.cleared!.lowerBound!).toBeGreaterThanOrEqual(GUARD.p1);
    expect(auditFactorOf(cleared.watch, CONFIG)).toBeNull();
    expect(cleared.watch.params).toBeNull();
  });

  it('keeps the share raised while blind labels cannot rule the drop out', () => {
    const random = seededRandom(5);
    const w = armDrift(
      'confidence-routed',
      { answers: ANSWERS, stageCells: {}, referenceCells: decisions(3000, false, random.next) },
      { n: 0, agree: 0 },
      CONFIG,
    );
    const raised: DriftWatch = { ...w, audit: { raised: true, n: 0, agree: 0 }, raisedAt: NOW.toISOString() };
    const look = lookDrift(raised, { answers: ANSWERS, stageCells: {}, referenceCells: null }, { n: 100, agree: 86 }, GUARD, POLICY, CONFIG, NOW);
    expect(look.cleared).toBeNull();
    expect(look.watch.audit).toEqual({ raised: true, n: 100, agree: 86 });
    expect(look.watch.blindWatermark).toEqual({ n: 100, agree: 86 });
  });
});
