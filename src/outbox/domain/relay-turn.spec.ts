import { byTopic, MAX_BACKOFF_MS, nextPoll, RelayTurn } from './relay-turn';

const turn = (over: Partial<RelayTurn> = {}): RelayTurn => ({ finished: 3, batch: 500, failures: 0, wokenWhileBusy: false, pollMs: 500, ...over });

describe('when the relay polls the outbox again', () => {
  it('waits the poll interval after a partial batch', () => {
    expect(nextPoll(turn())).toEqual({ now: false, waitMs: 500 });
  });

  it('takes the next batch at once after a full one, keeping a wake-up for later', () => {
    expect(nextPoll(turn({ finished: 500, wokenWhileBusy: true }))).toEqual({ now: true, consumesWake: false });
  });

  it('looks again at once when rows were committed while it was busy, using up that wake-up', () => {
    expect(nextPoll(turn({ wokenWhileBusy: true }))).toEqual({ now: true, consumesWake: true });
  });

  it('backs off exponentially while publishing fails, up to a ceiling, even when woken', () => {
    const waits = [1, 2, 3, 5, 6, 20].map((failures) => nextPoll(turn({ finished: 0, failures, wokenWhileBusy: true })));
    expect(waits).toEqual([400, 800, 1600, 6400, MAX_BACKOFF_MS, MAX_BACKOFF_MS].map((waitMs) => ({ now: false, waitMs })));
  });
});

describe('grouping rows for publishing', () => {
  it('keeps one list per topic, topics in order of first appearance and rows in their order', () => {
    const rows = [
      { id: '1', topic: 'ai.routing' },
      { id: '2', topic: 'alerts' },
      { id: '3', topic: 'ai.routing' },
    ];
    expect([...byTopic(rows)]).toEqual([
      ['ai.routing', [rows[0], rows[2]]],
      ['alerts', [rows[1]]],
    ]);
    expect(byTopic([]).size).toBe(0);
  });
});
