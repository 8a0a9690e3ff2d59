import { Client } from 'pg';
import { EVIDENCE_TABLES, periodSource, ROLLUP_TABLES } from '../../src/comparison/period-source';
import { createTestDatabase } from '../harness/postgres';

/**
 * The hourly tables reports read (rollup_hour, evidence_hour) are kept from the per-minute ones by
 * statement triggers. Written as the service's RollupRepository writes (new minutes and added-to
 * minutes in one statement), then corrected and removed by hand as an operator would: every hour
 * stays the sum of its minutes, and a report period that starts and ends inside hours
 * (periodSource, what reports read) counts what summing its minutes counts.
 */
jest.setTimeout(120_000);

const WF = 'hourly';
const HOUR = 3_600_000;

describe('hourly rollups', () => {
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  const start = new Date(Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR);

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query(
      `INSERT INTO workflow_versions (workflow, version, definition, definition_hash, model, prompt_version, role, created_by)
       VALUES ($1, 1, '{}', 'h', 'm', 'p1', 'champion', 'test')`,
      [WF],
    );
  });

  afterAll(async () => {
    await pg?.end();
    await db?.drop();
  });

  /**
   * Minutes every 7 minutes over four hours, in two segments and two arms, added as the service's
   * RollupRepository adds them: one INSERT … ON CONFLICT DO UPDATE per table, so one statement
   * both inserts new minutes and adds to stored ones.
   */
  const write = async (offsetMinutes: number, count: number) => {
    const rows = Array.from({ length: count }, (_, i) => ({
      segment: i % 2 ? 'a' : 'b',
      arm: i % 3 === 0 ? 'supervised' : 'shadow',
      minute: new Date(start.getTime() + (offsetMinutes + 7 * i) * 60_000),
      agree: i % 5 !== 0 ? 1 : 0,
      bin: i % 20,
    }));
    const conf = (r: { bin: number }, v: number) => Array.from({ length: 20 }, (_, k) => (k === r.bin ? v : 0));
    const json = JSON.stringify(rows.map((r) => ({ ...r, confN: conf(r, 1), confAgree: conf(r, r.agree) })));
    await pg.query(
      `INSERT INTO evidence_minute AS e (workflow, segment, workflow_version, arm, minute, blind_n, blind_agree, anchored_n, anchored_agree,
         anchored_overridden, conf_n, conf_agree)
       SELECT $1, segment, 1, arm, minute, 1, agree, (arm = 'supervised')::int, agree, 1 - agree, "confN", "confAgree"
       FROM jsonb_to_recordset($2::jsonb) AS x(segment text, arm text, minute timestamptz, agree int, "confN" bigint[], "confAgree" bigint[])
       ON CONFLICT (workflow, segment, workflow_version, arm, minute) DO UPDATE SET
         blind_n = e.blind_n + EXCLUDED.blind_n, blind_agree = e.blind_agree + EXCLUDED.blind_agree,
         anchored_n = e.anchored_n + EXCLUDED.anchored_n, anchored_agree = e.anchored_agree + EXCLUDED.anchored_agree,
         anchored_overridden = e.anchored_overridden + EXCLUDED.anchored_overridden,
         conf_n = understudy_array_add(e.conf_n, EXCLUDED.conf_n), conf_agree = understudy_array_add(e.conf_agree, EXCLUDED.conf_agree)`,
      [WF, json],
    );
    await pg.query(
      `INSERT INTO rollup_minute AS r (workflow, segment, workflow_version, minute, n, agree, n_review, ai_calls, conf_n)
       SELECT $1, segment, 1, minute, 1, agree, (arm = 'supervised')::int, 1, "confN"
       FROM jsonb_to_recordset($2::jsonb) AS x(segment text, arm text, minute timestamptz, agree int, "confN" bigint[])
       WHERE arm = 'shadow'
       ON CONFLICT (workflow, segment, workflow_version, minute) DO UPDATE SET
         n = r.n + EXCLUDED.n, agree = r.agree + EXCLUDED.agree, n_review = r.n_review + EXCLUDED.n_review,
         ai_calls = r.ai_calls + EXCLUDED.ai_calls, conf_n = understudy_array_add(r.conf_n, EXCLUDED.conf_n)`,
      [WF, json],
    );
  };

  /** Hours whose stored counters differ from the sums of their minutes (an hour whose minutes are all gone must hold zeros). */
  const drift = async () => {
    const differs = (cols: string[], arrays: string[] = []) =>
      [
        ...cols.map((c) => `coalesce(m.${c}, 0) <> coalesce(h.${c}, 0)`),
        ...arrays.map(
          (a) =>
            `EXISTS (SELECT 1 FROM unnest(understudy_array_add(coalesce(m.${a}, '{}'), understudy_array_scale(coalesce(h.${a}, '{}'), -1))) d WHERE d <> 0)`,
        ),
      ].join(' OR ');
    const hourOf = `date_trunc('hour', minute AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;
    const evidence = ['blind_n', 'blind_agree', 'anchored_n', 'anchored_agree', 'anchored_overridden'];
    const rollups = ['n', 'agree', 'n_review', 'n_overridden', 'ai_calls'];
    return {
      evidence: (
        await pg.query(
          `SELECT workflow, segment, arm, hour FROM (
             SELECT workflow, segment, workflow_version, arm, ${hourOf} AS hour, ${evidence.map((c) => `sum(${c}) AS ${c}`).join(', ')},
                    understudy_array_sum_agg(conf_n) AS conf_n, understudy_array_sum_agg(conf_agree) AS conf_agree
             FROM evidence_minute GROUP BY 1, 2, 3, 4, 5) m
           FULL JOIN evidence_hour h USING (workflow, segment, workflow_version, arm, hour)
           WHERE ${differs(evidence, ['conf_n', 'conf_agree'])}`,
        )
      ).rows,
      rollups: (
        await pg.query(
          `SELECT workflow, segment, hour FROM (
             SELECT workflow, segment, workflow_version, ${hourOf} AS hour, ${rollups.map((c) => `sum(${c}) AS ${c}`).join(', ')},
                    understudy_array_sum_agg(conf_n) AS conf_n
             FROM rollup_minute GROUP BY 1, 2, 3, 4) m
           FULL JOIN rollup_hour h USING (workflow, segment, workflow_version, hour)
           WHERE ${differs(rollups, ['conf_n'])}`,
        )
      ).rows,
    };
  };

  it('keeps every hour the sum of its minutes through inserts, added-to minutes, corrections and removals', async () => {
    await write(0, 40);
    expect(Number((await pg.query(`SELECT count(*) FROM evidence_hour`)).rows[0].count)).toBeGreaterThan(4);
    expect(await drift()).toEqual({ evidence: [], rollups: [] });

    // The same minutes again and new ones, in one statement each: updated and inserted rows at once.
    await write(3, 40);
    await write(0, 20);
    expect(await drift()).toEqual({ evidence: [], rollups: [] });

    // An operator's correction and removal.
    await pg.query(`UPDATE evidence_minute SET blind_n = blind_n + 2, blind_agree = blind_agree + 1 WHERE segment = 'a'`);
    await pg.query(`DELETE FROM evidence_minute WHERE segment = 'b' AND minute < $1`, [new Date(start.getTime() + 90 * 60_000)]);
    await pg.query(`DELETE FROM rollup_minute WHERE segment = 'a' AND minute > $1`, [new Date(start.getTime() + 150 * 60_000)]);
    expect(await drift()).toEqual({ evidence: [], rollups: [] });
  });

  it('reads a period that starts and ends inside hours as the sum of its minutes', async () => {
    const from = new Date(start.getTime() + 23 * 60_000 + 15_000);
    const to = new Date(start.getTime() + 3 * HOUR + 41 * 60_000 + 5_000);
    const minutesOnly = `minute >= date_trunc('minute', $2::timestamptz) AND minute < $3`;
    for (const { tables, sums, key } of [
      { tables: EVIDENCE_TABLES, sums: 'sum(blind_n)::int AS n, sum(blind_agree)::int AS agree, sum(anchored_n)::int AS anchored', key: 'segment, arm' },
      { tables: ROLLUP_TABLES, sums: 'sum(n)::int AS n, sum(agree)::int AS agree, sum(n_review)::int AS anchored', key: 'segment, NULL' },
    ]) {
      const params: unknown[] = [];
      const source = periodSource(tables, { workflow: WF, from, to, version: 1 }, params);
      expect(source).toContain(tables.hour);
      const read = (await pg.query(`SELECT ${key}, ${sums} FROM ${source} s GROUP BY 1, 2 ORDER BY 1, 2`, params)).rows;
      const summed = (
        await pg.query(`SELECT ${key}, ${sums} FROM ${tables.minute} WHERE workflow = $1 AND ${minutesOnly} GROUP BY 1, 2 ORDER BY 1, 2`, [WF, from, to])
      ).rows;
      expect(summed.length).toBeGreaterThan(1);
      expect(read).toEqual(summed);
    }
  });
});
