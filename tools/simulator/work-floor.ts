import { Consumer, Kafka, Producer } from 'kafkajs';
import { HumanAgents, RoutingEventLike } from './human-agents';
import { GeneratedItem, toWorkItemEvent, WorkloadGenerator } from './workload';

/**
 * A simulated work floor on Kafka, for tests, the demo and benchmarks: publishes work items at a
 * rate, listens to what Understudy routes on ai.routing, and after a person's think time
 * publishes the people's decisions on work.decisions. Clearly a simulation: nothing in the
 * service depends on it.
 */
export interface WorkFloorOptions {
  kafka: Kafka;
  topics: { workItems: string; workDecisions: string; routing: string };
  generator: WorkloadGenerator;
  agents: HumanAgents;
  /** How long people take before acting on an item (they do not wait for the AI beyond this, unless `awaitRouting`). */
  thinkTimeMs?: number;
  /**
   * Items whose people wait past their think time until Understudy's routing event for the item has
   * come (people working from the AI's queue rather than acting when their time is up): for tests
   * that need every such item handled with what was routed, on a machine of any speed. Only for items
   * that always get an event (a stage other than shadow, or a shadow item drawn for a second label);
   * the others are acted on at think time.
   */
  awaitRouting?: (item: GeneratedItem) => boolean;
  groupId?: string;
  log?: (line: string) => void;
}

export interface WorkFloorStats {
  itemsSent: number;
  decisionsSent: number;
  routed: Record<string, number>;
  /** Routing events that came after people had already acted on the item. */
  routedLate: number;
}

export class WorkFloor {
  private producer: Producer | null = null;
  private consumer: Consumer | null = null;
  private readonly pending = new Map<string, { item: GeneratedItem; dueAt: number }>();
  private readonly routed = new Map<string, RoutingEventLike>();
  private timer: NodeJS.Timeout | null = null;
  private flushing = false;
  readonly stats: WorkFloorStats = { itemsSent: 0, decisionsSent: 0, routed: {}, routedLate: 0 };
  readonly routingEvents: Array<RoutingEventLike & Record<string, unknown>> = [];

  constructor(private readonly opts: WorkFloorOptions) {}

  async start(): Promise<void> {
    this.producer = this.opts.kafka.producer({ allowAutoTopicCreation: false });
    await this.producer.connect();
    this.consumer = this.opts.kafka.consumer({
      groupId: this.opts.groupId ?? `work-floor-${Date.now()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 100,
    });
    await this.consumer.connect();
    // From the beginning: a new group's first join can take seconds, and routing events published
    // meanwhile must not be missed. Events for items this floor did not send are ignored.
    await this.consumer.subscribe({ topic: this.opts.topics.routing, fromBeginning: true });
    const joined = new Promise<void>((resolve) => this.consumer!.on(this.consumer!.events.GROUP_JOIN, () => resolve()));
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        const e = JSON.parse(message.value.toString('utf8')) as RoutingEventLike & Record<string, unknown>;
        if (!this.pending.has(`${e.workflow}\u0001${e.itemId}`)) {
          this.stats.routedLate++;
          return;
        }
        this.routed.set(`${e.workflow}\u0001${e.itemId}`, e);
        this.routingEvents.push(e);
        this.stats.routed[e.action] = (this.stats.routed[e.action] ?? 0) + 1;
      },
    });
    await Promise.race([joined, new Promise((r) => setTimeout(r, 30_000))]);
    this.timer = setInterval(() => void this.flush(), 100);
  }

  /** Publishes `count` items at `perSecond`; resolves when all are sent. */
  async run(count: number, perSecond: number, shouldStop: () => boolean = () => false): Promise<void> {
    const batch = Math.max(1, Math.round(perSecond / 10));
    for (let sent = 0; sent < count && !shouldStop(); sent += batch) {
      const started = Date.now();
      await this.send(this.opts.generator.batch(Math.min(batch, count - sent)));
      const wait = 100 - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  async send(items: GeneratedItem[]): Promise<void> {
    await this.producer!.send({
      topic: this.opts.topics.workItems,
      messages: items.map((i) => ({ key: i.itemId, value: JSON.stringify(toWorkItemEvent(i)) })),
    });
    const due = Date.now() + (this.opts.thinkTimeMs ?? 1500);
    for (const i of items) this.pending.set(`${i.workflow}\u0001${i.itemId}`, { item: i, dueAt: due });
    this.stats.itemsSent += items.length;
  }

  private async flush(): Promise<void> {
    if (this.flushing || !this.producer) return;
    this.flushing = true;
    try {
      const now = Date.now();
      const decisions = [];
      for (const [key, p] of this.pending) {
        if (p.dueAt > now) continue;
        if (this.opts.awaitRouting?.(p.item) && !this.routed.has(key)) continue;
        decisions.push(...this.opts.agents.respond(p.item, this.routed.get(key) ?? null));
        this.pending.delete(key);
        this.routed.delete(key);
      }
      if (decisions.length > 0) {
        await this.producer.send({ topic: this.opts.topics.workDecisions, messages: decisions.map((d) => ({ key: d.itemId, value: JSON.stringify(d) })) });
        this.stats.decisionsSent += decisions.length;
      }
    } catch (e) {
      this.opts.log?.(`work floor: ${(e as Error).message}`);
    } finally {
      this.flushing = false;
    }
  }

  /** Items still waiting for people. */
  get backlog(): number {
    return this.pending.size;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }
}
