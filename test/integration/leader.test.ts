import { Client } from 'pg';
import pino from 'pino';
import { AdvisoryLeader } from '../../src/rollout/advisory-leader';
import { createTestDatabase, PG_BASE_URL } from '../harness/postgres';
import { waitFor } from '../harness/test-env';

/**
 * The controller's leadership on the real PostgreSQL: one session advisory lock on a connection of
 * each instance's own. Two instances on one database: exactly one leads; when the leader's
 * connection dies the other takes over; and an event of a connection already replaced (pg emits
 * 'end' after the socket closes, which may be after the next try has connected again) never drops
 * the connection that replaced it.
 */
describe('AdvisoryLeader (the controller leadership)', () => {
  let db: { name: string; url: string; drop: () => Promise<void> };
  let admin: Client;
  const leaders: AdvisoryLeader[] = [];

  const leader = (instanceId: string) => {
    const l = new AdvisoryLeader({ databaseUrl: db.url, instanceId }, pino({ level: 'silent' }));
    leaders.push(l);
    return l;
  };
  const leaderBackends = async (instanceId: string) =>
    (
      await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`, [db.name, `${instanceId}:leader`])
    ).rows.map((r) => r.pid);
  const terminateLeaderConnection = async (instanceId: string) => {
    const pids = await leaderBackends(instanceId);
    expect(pids).toHaveLength(1);
    await admin.query(`SELECT pg_terminate_backend($1, 5000)`, [pids[0]]); // waits until the backend has gone
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new Client({ connectionString: `${PG_BASE_URL}/postgres`, application_name: 'understudy-leader-test' });
    await admin.connect();
  });

  afterAll(async () => {
    for (const l of leaders) await l.close();
    await admin?.end();
    await db?.drop();
  });

  it('lets exactly one of two instances lead, and the other take over when the leader connection dies', async () => {
    const a = leader('leader-test-a');
    const b = leader('leader-test-b');
    expect(await a.tryLead()).toBe(true);
    expect(await b.tryLead()).toBe(false);
    expect(await a.tryLead()).toBe(true);
    expect(a.leaderSince).not.toBeNull();
    expect(b.isLeader).toBe(false);

    await terminateLeaderConnection('leader-test-a');
    expect(await b.tryLead()).toBe(true); // the lock went with a's connection
    expect(await a.tryLead()).toBe(false);
    expect(a.isLeader).toBe(false);
    expect(await a.tryLead()).toBe(false);
    await b.close();
    expect(await a.tryLead()).toBe(true); // the lock went with b's connection
  });

  it("keeps its new connection and the leadership when the replaced connection's late 'end' arrives", async () => {
    const c = leader('leader-test-c');
    await leaders[0].close(); // a, from the test before, holds the lock no more
    expect(await c.tryLead()).toBe(true);
    // The connection the leadership was held on, caught before the fault replaces it.
    const first = (c as unknown as { client: Client }).client;
    const [firstPid] = await leaderBackends('leader-test-c');
    await terminateLeaderConnection('leader-test-c');
    // The next tries see the connection gone and lead again on a new one.
    await waitFor('c to lead on a new connection', async () => (await c.tryLead()) && (await leaderBackends('leader-test-c')).length === 1, 10_000, 50);
    const [pid] = await leaderBackends('leader-test-c');
    expect(pid).not.toBe(firstPid);

    first.emit('end'); // late, from the connection already replaced
    first.emit('error', new Error('late error of the replaced connection'));

    expect(c.isLeader).toBe(true);
    expect(await c.tryLead()).toBe(true);
    expect(await leaderBackends('leader-test-c')).toEqual([pid]);
  });
});
