import { BUSY_WAIT_MS, CircuitState, CLAIM_ERROR_WAIT_MS, createClaimPump } from './claim-pump';
import type { ClaimedJob } from './job';

const job = (n: number): ClaimedJob => ({
  id: String(n),
  workflow: 'triage',
  itemId: `T-${n}`,
  version: 1,
  attempts: 1,
  segment: 'email|eu',
  attributes: {},
  input: {},
  receivedAt: new Date(0),
});

/** The queue: `due` jobs waiting; every claim is recorded with its limit. */
class FakeJobQueue {
  due: ClaimedJob[] = [];
  readonly claims: number[] = [];
  failing: Error | null = null;
  add(n: number): void {
    const from = this.due.length + this.claims.length * 1000;
    for (let i = 0; i < n; i++) this.due.push(job(from + i));
  }
  async claim(limit: number): Promise<ClaimedJob[]> {
    this.claims.push(limit);
    if (this.failing) throw this.failing;
    return this.due.splice(0, limit);
  }
}

function fixture(concurrency = 8) {
  const queue = new FakeJobQueue();
  const world = { circuit: 'closed' as CircuitState, backlog: 0, now: 10_000 };
  const pump = createClaimPump({
    queue,
    concurrency,
    circuit: () => world.circuit,
    writerBacklog: () => world.backlog,
    now: () => world.now,
    idlePollMs: 250,
    maxBacklog: 5000,
    maxClaim: 500,
  });
  return { queue, world, pump };
}

describe('claiming ahead of the free slots', () => {
  it('claims the concurrency plus half of it, and starts one job per slot', async () => {
    const { queue, pump } = fixture(8);
    queue.add(100);
    expect(await pump.turn()).toEqual({ kind: 'claimed', jobs: 12 });
    expect(queue.claims).toEqual([12]);
    expect(pump.startable().map((j) => j.id)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(pump.inFlight).toBe(8);
    expect(pump.startable()).toEqual([]); // no free slot
  });

  it('claims again only once a quarter of the concurrency has room', async () => {
    const { queue, pump } = fixture(8);
    queue.add(100);
    await pump.turn();
    pump.startable();
    pump.finished('0'); // room 1 of the 2 it waits for: 8 + 4 - 7 in flight - 4 queued
    expect(await pump.turn()).toEqual({ kind: 'wait', ms: BUSY_WAIT_MS });
    pump.finished('1');
    expect(await pump.turn()).toEqual({ kind: 'claimed', jobs: 2 });
    expect(queue.claims).toEqual([12, 2]);
  });

  it('claims what the news brought as soon as calls have finished, with the room there is', async () => {
    const { queue, pump } = fixture(8);
    queue.add(12);
    await pump.turn();
    pump.startable();
    for (const j of ['0', '1', '2', '3']) pump.finished(j);
    expect(pump.startable()).toHaveLength(4);
    pump.finished('4');
    expect(pump.startable()).toEqual([]);
    queue.add(5);
    pump.news();
    expect(await pump.turn()).toEqual({ kind: 'claimed', jobs: 5 });
  });

  it('never claims more than maxClaim at once', async () => {
    const { queue, pump } = fixture(1000);
    queue.add(2000);
    await pump.turn();
    expect(queue.claims).toEqual([500]);
  });
});

describe('back-pressure from the decision writer', () => {
  it('claims nothing while the writer owes more than maxBacklog, and resumes once it catches up', async () => {
    const { queue, world, pump } = fixture();
    queue.add(10);
    world.backlog = 5001;
    expect(await pump.turn()).toEqual({ kind: 'wait', ms: BUSY_WAIT_MS });
    expect(queue.claims).toEqual([]);
    world.backlog = 5000;
    expect(await pump.turn()).toEqual({ kind: 'claimed', jobs: 10 });
  });
});

describe('the circuit breaker', () => {
  it('open: nothing is claimed, and the pump looks again after four poll intervals', async () => {
    const { queue, world, pump } = fixture();
    queue.add(10);
    world.circuit = 'open';
    expect(await pump.turn()).toEqual({ kind: 'wait', ms: 1000 });
    expect(queue.claims).toEqual([]);
  });

  it('half-open: one job is claimed for the trial call, and nothing more while it runs', async () => {
    const { queue, world, pump } = fixture();
    queue.add(10);
    world.circuit = 'half-open';
    expect(await pump.turn()).toEqual({ kind: 'claimed', jobs: 1 });
    expect(await pump.turn()).toEqual({ kind: 'wait', ms: BUSY_WAIT_MS }); // queued, not started
    const [trial] = pump.startable();
    expect(await pump.turn()).toEqual({ kind: 'wait', ms: BUSY_WAIT_MS }); // in flight
    pump.finished(trial.id);
    world.circuit = 'closed';
    pump.news();
    expect(await pump.turn()).toEqual({ kind: 'claimed', jobs: 9 });
    expect(queue.claims).toEqual([1, 12]);
  });
});

describe('an empty queue', () => {
  it('is not claimed from again until news arrives or the poll interval has passed', async () => {
    const { queue, world, pump } = fixture();
    expect(await pump.turn()).toEqual({ kind: 'claimed', jobs: 0 });
    world.now += 100;
    expect(await pump.turn()).toEqual({ kind: 'wait', ms: 150 });
    pump.news();
    expect(await pump.turn()).toEqual({ kind: 'claimed', jobs: 0 });
    world.now += 250;
    expect(await pump.turn()).toEqual({ kind: 'claimed', jobs: 0 });
    expect(queue.claims).toHaveLength(3);
  });

  it('news that arrives while a claim runs is not lost, though the claim came back short', async () => {
    const { queue, world, pump } = fixture();
    queue.add(3);
    const claiming = pump.turn();
    pump.news(); // jobs committed while the claim was under way: the claim may have missed them
    expect(await claiming).toEqual({ kind: 'claimed', jobs: 3 });
    pump.startable();
    world.now += 1;
    expect(await pump.turn()).toEqual({ kind: 'claimed', jobs: 0 }); // the news is not forgotten
  });
});

describe('a failed claim', () => {
  it('waits a second and reports the error; the next turn claims again', async () => {
    const { queue, world, pump } = fixture();
    const down = new Error('connection terminated');
    queue.failing = down;
    expect(await pump.turn()).toEqual({ kind: 'wait', ms: CLAIM_ERROR_WAIT_MS, error: down });
    queue.failing = null;
    queue.add(1);
    world.now += CLAIM_ERROR_WAIT_MS;
    expect(await pump.turn()).toEqual({ kind: 'claimed', jobs: 1 });
  });
});

describe('leases and shutdown', () => {
  it('holds the leases of the jobs claimed and of those being called, not of those finished', async () => {
    const { queue, pump } = fixture(2);
    queue.add(3);
    await pump.turn();
    pump.startable();
    pump.finished('0');
    expect(pump.held().sort()).toEqual(['1', '2']);
  });

  it('on stop, gives back the jobs never started, and drops the answers of the calls it abandons', async () => {
    const { queue, pump } = fixture(2);
    queue.add(3);
    await pump.turn();
    pump.startable();
    expect(pump.takeUnstarted()).toEqual(['2']);
    expect(pump.finished('0')).toBe(true); // finished in time: its answer is written
    expect(pump.abandonCalls()).toEqual(['1']);
    expect(pump.finished('1')).toBe(false);
    expect(pump.held()).toEqual([]);
    expect(pump.inFlight).toBe(0);
  });
});
