import { raisedShare } from './blind-share';

describe('the blind share in force', () => {
  it('is the base share without a raise, the base times the factor up to the cap with one, never below the base', () => {
    expect(raisedShare(0.05, null, 0.4)).toBe(0.05);
    expect(raisedShare(0.05, 4, 0.4)).toBeCloseTo(0.2, 12);
    expect(raisedShare(0.05, 8, 0.4)).toBeCloseTo(0.4, 12);
    expect(raisedShare(0.1, 8, 0.4)).toBe(0.4);
    expect(raisedShare(0.5, 8, 0.4)).toBe(0.5);
  });
});
