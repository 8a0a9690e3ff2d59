import { allClearBound, auditShare, DEFAULT_AUDIT_POLICY, initialAuditState, observeAudits, raiseAudits } from './adaptive-audit';
import { confidenceSequence, priorCentredOn } from './confidence-sequence';
import { seededRandom } from './random';

const guard = { p0: 0.92, p1: 0.86, h: 11.86 };

describe('the audit share', () => {
  it('is the base share until an alarm, then base × factor up to the cap', () => {
    expect(auditShare(DEFAULT_AUDIT_POLICY, initialAuditState())).toBe(0.05);
    expect(auditShare(DEFAULT_AUDIT_POLICY, raiseAudits())).toBeCloseTo(0.4, 12);
    expect(auditShare({ ...DEFAULT_AUDIT_POLICY, cap: 0.25 }, raiseAudits())).toBe(0.25);
    expect(auditShare({ ...DEFAULT_AUDIT_POLICY, factor: 1 }, raiseAudits())).toBe(0.05);
  });

  it('refuses a policy whose cap is below its base', () => {
    expect(() => auditShare({ ...DEFAULT_AUDIT_POLICY, cap: 0.01 }, raiseAudits())).toThrow(RangeError);
  });
});

describe('the all-clear', () => {
  it('goes back to the base share when the labels since the raise rule out the drop the guard watches for', () => {
    const random = seededRandom(21);
    let state = raiseAudits();
    let labels = 0;
    let agree = 0;
    for (let look = 0; look < 200; look++) {
      const n = 10;
      let a = 0;
      for (let i = 0; i < n; i++) if (random.next() < 0.92) a++;
      labels += n;
      agree += a;
      const u = observeAudits(state, { n, agree: a }, DEFAULT_AUDIT_POLICY, guard);
      if (u.cleared) {
        // The anytime-valid lower bound on agreement since the raise has reached p1 = 0.86, and only now.
        expect(confidenceSequence(agree, labels, 0.95, priorCentredOn(0.92)).lower).toBeGreaterThanOrEqual(0.86);
        expect(allClearBound(state, DEFAULT_AUDIT_POLICY, guard).lowerBound!).toBeLessThan(0.86);
        expect(state.n).toBe(labels - n);
        expect(u.share).toBe(0.05);
        expect(u.state.raised).toBe(false);
        // At 0.92 that takes a few hundred labels: about a day at 40 % of 700 items.
        expect(labels).toBeLessThan(600);
        return;
      }
      state = u.state;
      const shown = allClearBound(state, DEFAULT_AUDIT_POLICY, guard);
      expect(shown).toMatchObject({ n: labels, agree, needed: 0.86 });
      expect(shown.lowerBound!).toBeLessThan(0.86);
    }
    throw new Error('the share was never cleared');
  });

  it('keeps the raised share while agreement is at the drop, wrongly clearing at most 5 % of the time', () => {
    // The all-clear is an anytime-valid 95 % bound: at agreement exactly p1 it may clear by luck, at
    // most 5 % of raised episodes however long they last. 400 episodes of 500 labels, a look every 10:
    // 7 cleared at this seed (a Wilson bound re-run every look would clear far more often).
    const random = seededRandom(22);
    let cleared = 0;
    for (let episode = 0; episode < 400; episode++) {
      let state = raiseAudits();
      for (let look = 0; look < 50; look++) {
        let a = 0;
        for (let i = 0; i < 10; i++) if (random.next() < 0.86) a++;
        const u = observeAudits(state, { n: 10, agree: a }, DEFAULT_AUDIT_POLICY, guard);
        if (u.cleared) {
          cleared++;
          break;
        }
        state = u.state;
      }
    }
    expect(cleared / 400).toBeLessThanOrEqual(0.05);
  });

  it('does nothing at the base share', () => {
    const u = observeAudits(initialAuditState(), { n: 100, agree: 100 }, DEFAULT_AUDIT_POLICY, guard);
    expect(u).toEqual({ state: initialAuditState(), share: 0.05, cleared: false });
    expect(allClearBound(u.state, DEFAULT_AUDIT_POLICY, guard).lowerBound).toBeNull();
  });
});
