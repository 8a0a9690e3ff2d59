import { Client } from 'pg';
import { Consumer, IHeaders, Kafka, Producer } from 'kafkajs';
import { GeneratedItem, HumanDecisionEvent, toWorkItemEvent, WorkloadGenerator } from '../../../tools/simulator/workload';
import { createTestDatabase } from '../../harness/postgres';
import { TestTopics, waitFor, waitForCount } from '../../harness/test-env';

/**
 * What the fault tests share: a database of the test's own with an observer connection,
 * a steady stream of items and human decisions that survives outages, watchers on the outgoing
 * topics and on /health, and the invariants every fault must leave intact.
 */

/** The observer's connection is named, so that a test terminating the service's backends can spare it. */
export const OBSERVER_APP = 'understudy-fault-observer';

export interface FaultDb {
  name: string;
  url: string;
  pg: Client;
  count(sql: string, params?: unknown[]): Promise<number>;
  rows<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function openDb(): Promise<FaultDb> {
  const db = await createTestDatabase();
  const pg = new Client({ connectionString: db.url, application_name: OBSERVER_APP });
  await pg.connect();
  return {
    name: db.name,
    url: db.url,
    pg,
    count: async (sql, params = []) => Number((await pg.query(sql, params)).rows[0].n),
    rows: async <T>(sql: string, params: unknown[] = []) => (await pg.query(sql, params)).rows as T[],
    close: async () => {
      await pg.end().catch(() => undefined);
      if (process.env.KEEP_TEST_DB) console.log(`kept ${db.url}`);
      else await db.drop();
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface SeenMessage {
  key: string | null;
  /** The key's bytes as they arrived. */
  rawKey: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  partition: number;
}

/** Reads a topic from the beginning into memory (a consumer group of its own). */
export class TopicWatcher {
  readonly messages: SeenMessage[] = [];
  /** eventId → deliveries, counted as messages arrive (parsing them all again per look was quadratic). */
  private readonly deliveries = new Map<string, number>();
  /** Messages with no eventId (empty, not JSON, or without the field): none belongs on ai.routing. */
  unidentified = 0;
  private consumer: Consumer | null = null;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly groupId: string,
  ) {}

  async start(): Promise<this> {
    this.consumer = this.kafka.consumer({ groupId: this.groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 100 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message, partition }) => {
        this.messages.push({
          key: message.key?.toString('utf8') ?? null,
          rawKey: message.key,
          value: message.value,
          headers: headersOf(message.headers),
          partition,
        });
        const id = eventIdOf(message.value);
        if (id) this.deliveries.set(id, (this.deliveries.get(id) ?? 0) + 1);
        else this.unidentified++;
      },
    });
    return this;
  }

  /** eventId → how many times it was delivered (JSON payloads with an eventId). */
  eventIds(): Map<string, number> {
    return new Map(this.deliveries);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}

/** The eventId of a JSON payload; none for an empty or non-JSON one. */
function eventIdOf(value: Buffer | null): string | null {
  if (!value) return null;
  try {
    const id = (JSON.parse(value.toString('utf8')) as { eventId?: unknown }).eventId;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

function headersOf(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
  return out;
}

export interface HealthSample {
  at: number;
  /** HTTP status, or 0 when the service did not answer. */
  status: number;
  body: { status?: string; checks?: Record<string, { status: string; detail?: string }> } | null;
}

/** Polls GET /health of whichever instance is current and keeps every answer. */
export class HealthWatcher {
  readonly samples: HealthSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private url: () => string | null,
    private readonly everyMs = 500,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.poll(), this.everyMs);
    return this;
  }

  private async poll(): Promise<void> {
    const url = this.url();
    if (this.busy || !url) return;
    this.busy = true;
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
      this.samples.push({ at: Date.now(), status: r.status, body: (await r.json()) as HealthSample['body'] });
    } catch {
      this.samples.push({ at: Date.now(), status: 0, body: null });
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

export async function health(url: string): Promise<{ status: number; body: NonNullable<HealthSample['body']> }> {
  const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: (await r.json()) as NonNullable<HealthSample['body']> };
}

/**
 * A steady stream of work items and, after a delay, each item's independent human decision, as a
 * live workflow would send them. Every send is retried until Kafka takes it (an outage delays the
 * stream, it never thins it); a retried batch may land twice, which the service must absorb.
 */
export class ItemPump {
  readonly items: GeneratedItem[] = [];
  readonly decisions: HumanDecisionEvent[] = [];
  sendRetries = 0;
  private pendingBurst = 0;
  private producer: Producer | null = null;
  private loop: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly o: {
      kafka: Kafka;
      topics: Pick<TestTopics, 'workItems' | 'workDecisions'>;
      generator: WorkloadGenerator;
      total: number;
      perSecond: number;
      /** Human decisions follow their items after this long (0: no human decisions). */
      decisionDelayMs?: number;
    },
  ) {}

  async start(): Promise<this> {
    this.producer = this.o.kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 } });
    await this.producer.connect();
    this.loop = this.run();
    return this;
  }

  /** Resolves once every item and human decision has been taken by Kafka. */
  async done(): Promise<void> {
    await this.loop;
  }

  /** Sends `n` items at once on the next tick, on top of the steady rate (a backlog on purpose). */
  burst(n: number): void {
    this.pendingBurst += n;
  }

  /** Sends no more new items (those sent still get their human decisions); then await done(). */
  endNow(): void {
    this.o.total = Math.min(this.o.total, this.items.length);
  }

  get sent(): number {
    return this.items.length;
  }

  private async run(): Promise<void> {
    const batch = Math.max(1, Math.round(this.o.perSecond / 10));
    const due: Array<{ at: number; decisions: HumanDecisionEvent[] }> = [];
    const withDecisions = (this.o.decisionDelayMs ?? 0) > 0;
    while (!this.stopped && (this.items.length < this.o.total || due.length > 0)) {
      const started = Date.now();
      if (this.items.length < this.o.total) {
        const items = this.o.generator.batch(Math.min(batch + this.pendingBurst, this.o.total - this.items.length));
        this.pendingBurst = 0;
        for (let i = 0; i < items.length; i += 500) {
          await this.send(
            this.o.topics.workItems,
            items.slice(i, i + 500).map((x) => ({ key: x.itemId, value: JSON.stringify(toWorkItemEvent(x)) })),
          );
        }
        this.items.push(...items);
        if (withDecisions)
          due.push({ at: Date.now() + this.o.decisionDelayMs!, decisions: items.map((i) => this.o.generator.humanDecision(i, { errorRate: 0.1 })) });
      }
      while (due.length > 0 && (due[0].at <= Date.now() || this.items.length >= this.o.total)) {
        if (due[0].at > Date.now()) await sleep(due[0].at - Date.now());
        const { decisions } = due.shift()!;
        for (let i = 0; i < decisions.length; i += 500) {
          await this.send(
            this.o.topics.workDecisions,
            decisions.slice(i, i + 500).map((d) => ({ key: d.itemId, value: JSON.stringify(d) })),
          );
        }
        this.decisions.push(...decisions);
      }
      const wait = 100 - (Date.now() - started);
      if (wait > 0) await sleep(wait);
    }
  }

  private async send(topic: string, messages: Array<{ key: string; value: string }>): Promise<void> {
    for (;;) {
      try {
        await this.producer!.send({ topic, messages, acks: -1 });
        return;
      } catch {
        if (this.stopped) return;
        this.sendRetries++;
        await sleep(500);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop?.catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }
}

/** Waits until every item the pump sent is stored and every job reached a final state. */
export async function waitForQuiet(db: FaultDb, o: { items: number; decisions?: number; versions?: number; timeoutMs?: number }): Promise<void> {
  // Each count may take as long as it needs while it moves; timeoutMs is how long it may stand still.
  const stallMs = o.timeoutMs ?? 120_000;
  await waitForCount(`all ${o.items} items stored`, () => db.count('SELECT count(*) n FROM work_items'), o.items, { stallMs });
  if (o.decisions !== undefined) {
    await waitForCount(`all ${o.decisions} human decisions stored`, () => db.count('SELECT count(*) n FROM human_decisions'), o.decisions, { stallMs });
  }
  const jobs = o.items * (o.versions ?? 1);
  const finished = () => db.count(`SELECT count(*) n FROM ai_jobs WHERE state IN ('completed', 'failed', 'skipped')`);
  // Where the jobs are when they stop (e.g. 'processing', waiting for a lease).
  const byState = async () => {
    const states = await db.rows<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM ai_jobs GROUP BY state ORDER BY state`);
    return `jobs by state ${JSON.stringify(Object.fromEntries(states.map((r) => [r.state, r.n])))}`;
  };
  await waitForCount(`all ${jobs} jobs finished`, finished, jobs, { stallMs, explain: byState });
  await waitForCount('the outbox drained', () => db.count('SELECT count(*) n FROM outbox WHERE sent_at IS NULL'), 0, { stallMs });
}

/**
 * The invariants no fault may break, checked against the database and what reached ai.routing:
 * every item stored once with one job per version in a final state; at most one AI decision per
 * item and version, and one for every completed job; one routing row per champion decision; one
 * comparison per (AI decision, human decision) and the rollups agreeing with them; every routing
 * decision with an action on ai.routing (counted by eventId). Returns numbers for the report.
 */
export async function checkInvariants(
  db: FaultDb,
  o: { items: GeneratedItem[]; decisions?: HumanDecisionEvent[]; versions?: number; routing: TopicWatcher },
): Promise<{ completed: number; failed: number; decisions: number; routed: number; redelivered: number }> {
  const uniqueItems = new Set(o.items.map((i) => i.eventId));
  expect(await db.count('SELECT count(*) n FROM work_items')).toBe(uniqueItems.size);
  const stored = new Set((await db.rows<{ event_id: string }>('SELECT event_id FROM work_items')).map((r) => r.event_id));
  expect([...uniqueItems].filter((id) => !stored.has(id))).toEqual([]);

  const jobStates = Object.fromEntries(
    (await db.rows<{ state: string; n: string }>('SELECT state, count(*) n FROM ai_jobs GROUP BY state')).map((r) => [r.state, Number(r.n)]),
  );
  expect(await db.count('SELECT count(*) n FROM ai_jobs')).toBe(uniqueItems.size * (o.versions ?? 1));
  expect(Object.keys(jobStates).filter((s) => !['completed', 'failed', 'skipped'].includes(s))).toEqual([]);

  // No duplicate AI decision, and none missing for a completed job.
  expect(await db.count('SELECT count(*) n FROM (SELECT 1 FROM ai_decisions GROUP BY workflow, item_id, workflow_version HAVING count(*) > 1) d')).toBe(0);
  expect(
    await db.count(
      `SELECT count(*) n FROM ai_jobs j WHERE j.state = 'completed'
       AND NOT EXISTS (SELECT 1 FROM ai_decisions d WHERE d.workflow = j.workflow AND d.item_id = j.item_id AND d.workflow_version = j.workflow_version AND d.valid)`,
    ),
  ).toBe(0);
  // One routing row per champion decision.
  expect(
    await db.count(
      'SELECT count(*) n FROM ai_decisions d WHERE d.is_champion AND NOT EXISTS (SELECT 1 FROM routing_decisions r WHERE r.ai_decision_id = d.id)',
    ),
  ).toBe(0);

  if (o.decisions) {
    const uniqueDecisions = new Set(o.decisions.map((d) => d.eventId));
    expect(await db.count('SELECT count(*) n FROM human_decisions')).toBe(uniqueDecisions.size);
    // Exactly one comparison per valid AI decision and human decision of the same item: none twice, none missing.
    expect(await db.count('SELECT count(*) n FROM (SELECT 1 FROM comparisons GROUP BY ai_decision_id, human_decision_id HAVING count(*) > 1) c')).toBe(0);
    const expectedComparisons = await db.count(
      `SELECT count(*) n FROM ai_decisions d JOIN human_decisions h ON h.workflow = d.workflow AND h.item_id = d.item_id WHERE d.valid`,
    );
    expect(await db.count('SELECT count(*) n FROM comparisons')).toBe(expectedComparisons);
    const rollup = (
      await db.rows<{ n: number; agree: number }>('SELECT coalesce(sum(n), 0)::int AS n, coalesce(sum(agree), 0)::int AS agree FROM rollup_minute')
    )[0];
    const raw = (await db.rows<{ n: number; agree: number }>('SELECT count(*)::int AS n, count(*) FILTER (WHERE agree)::int AS agree FROM comparisons'))[0];
    expect(rollup).toEqual(raw);
  }

  // The rollups count each AI decision and each routing decision once.
  const calls = (
    await db.rows<{ decided: number; routed: number }>(
      `SELECT coalesce(sum(ai_ok + ai_invalid), 0)::int AS decided,
            coalesce((SELECT sum(v::int) FROM rollup_minute r2, jsonb_each_text(r2.routed) AS e(k, v)), 0)::int AS routed
     FROM rollup_minute`,
    )
  )[0];
  expect(calls).toEqual({
    decided: await db.count('SELECT count(*) n FROM ai_decisions'),
    routed: await db.count('SELECT count(*) n FROM routing_decisions'),
  });

  // The outbox: one row per routing decision that sends something, every one of them on ai.routing.
  const outgoing = (await db.rows<{ id: string }>(`SELECT 'routing-' || ai_decision_id AS id FROM routing_decisions WHERE action <> 'none'`)).map((r) => r.id);
  expect(await db.count('SELECT count(*) n FROM outbox WHERE topic = $1', [o.routing.topic])).toBe(outgoing.length);
  await waitFor(
    'every routing event on ai.routing',
    async () => {
      const seen = o.routing.eventIds();
      return outgoing.every((id) => seen.has(id));
    },
    60_000,
    500,
  );
  const published = o.routing.eventIds();
  expect(o.routing.unidentified).toBe(0);
  expect(outgoing.filter((id) => !published.has(id))).toEqual([]);
  // Nothing on ai.routing that the database does not know of.
  const known = new Set(outgoing);
  expect([...published.keys()].filter((id) => !known.has(id))).toEqual([]);
  return {
    completed: jobStates.completed ?? 0,
    failed: jobStates.failed ?? 0,
    decisions: await db.count('SELECT count(*) n FROM ai_decisions'),
    routed: outgoing.length,
    redelivered: [...published.values()].reduce((s, n) => s + n - 1, 0),
  };
}
