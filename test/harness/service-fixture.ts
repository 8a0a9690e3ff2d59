import { Kafka, Producer } from 'kafkajs';
import { Client } from 'pg';
import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
import type { Stage } from '../../src/flags/domain/stage';
import { HumanAgentOptions, HumanAgents } from '../../tools/simulator/human-agents';
import { WorkFloor, WorkFloorOptions } from '../../tools/simulator/work-floor';
import { WorkloadGenerator, WorkloadOptions } from '../../tools/simulator/workload';
import type { ScenarioInput } from '../../tools/simulator/scenario';
import { TestWorkflows, WorkflowOverrides, writeTestWorkflows } from '../factories/workflows';
import { createTestDatabase } from './postgres';
import {
  createTopics,
  kafkaClient,
  setScenario,
  stackInfo,
  startService,
  startTogether,
  stopTogether,
  TestService,
  TestTopics,
  uniqueSuffix,
  waitForFlags,
} from './test-env';

/**
 * What most integration tests stand on: the compiled service (one or more instances) on a
 * database, topics, flags and a simulated model of the test's own, a PostgreSQL client to look at
 * what it stored, and — when asked — a simulated work floor sending items and people's decisions
 * for as long as the file runs. `close()` takes it all down in the right order, whatever was
 * started.
 */
export interface ServiceFixtureOptions {
  /** Names the test's Kafka clients and consumer groups (with the file's unique suffix). */
  name: string;
  /** The two test workflows' overrides (a rollout block, gates…). */
  workflows?: Omit<WorkflowOverrides, 'suffix'>;
  /** The simulated model's scenario. */
  scenario: ScenarioInput | Record<string, unknown>;
  /** Stages written to the triage workflow's flag in Unleash before the service starts, as ops would. */
  stages?: Record<string, Stage>;
  /** The service's environment beyond the test defaults. */
  env?: Record<string, string>;
  /** Instances sharing the database and topics (default 1). */
  instances?: number;
  /** Waits until every instance has loaded the flag state (until then items stay in shadow without a routing event). */
  awaitFlags?: boolean;
}

export interface FloorOptions extends Omit<WorkFloorOptions, 'kafka' | 'topics' | 'generator' | 'agents' | 'groupId'> {
  generator: Omit<WorkloadOptions, 'triageWorkflow' | 'invoiceWorkflow' | 'idPrefix'>;
  agents: HumanAgentOptions;
  /** Items per second for as long as the file runs; without it the floor waits for the test's own `run`. */
  perSecond?: number;
}

export interface ServiceFixture {
  suffix: string;
  wf: TestWorkflows;
  db: { name: string; url: string };
  topics: TestTopics;
  /** Every instance, in start order; `service` is the first. */
  services: TestService[];
  service: TestService;
  kafka: Kafka;
  /** A client of the test's database, as its owner. */
  pg: Client;
  /** Rows of a query on the test's database, as its owner. */
  q<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A work floor on the test's topics and workflows; with `perSecond`, traffic runs until close. */
  startFloor(o: FloorOptions): Promise<WorkFloor>;
  /** Every JSON message on a topic from its beginning, as it arrives. */
  collect(topic: string): Promise<Array<Record<string, unknown>>>;
  /** A connected producer for what the test sends itself (disconnected at close). */
  producer(): Promise<Producer>;
  close(): Promise<void>;
}

/**
 * Sets segments' stages in a workflow's Unleash flag (100 % of each segment), as ops would before
 * traffic arrives; on the shared Unleash unless the test brings its own.
 */
export async function writeStages(
  workflow: string,
  stages: Record<string, Stage>,
  admin = new UnleashAdminGateway({ url: stackInfo().unleash.url, adminToken: stackInfo().unleash.adminToken }),
): Promise<void> {
  await admin.ensureSetup();
  await admin.ensureWorkflowFlag(workflow);
  for (const [segment, stage] of Object.entries(stages)) await admin.writeSegmentSplit(workflow, segment, { stage, trafficPct: 100 });
}

export async function startServiceFixture(o: ServiceFixtureOptions): Promise<ServiceFixture> {
  const suffix = uniqueSuffix();
  const wf = writeTestWorkflows({ suffix, ...o.workflows });
  const teardown: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const step of teardown.reverse()) await step().catch((e: Error) => console.warn(`fixture teardown: ${e.message}`));
    teardown.length = 0;
  };
  try {
    const db = await createTestDatabase();
    teardown.push(() => (process.env.KEEP_TEST_DB ? Promise.resolve(console.log(`kept ${db.url}`)) : db.drop()));
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    teardown.push(() => pg.end());
    const topics = await createTopics(suffix, 4);
    await setScenario(wf.model, o.scenario);
    if (o.stages) await writeStages(wf.triage, o.stages);
    const services: TestService[] = [];
    teardown.push(async () => {
      await stopTogether(services);
    });
    services.push(...(await startTogether(o.instances ?? 1, () => startService({ suffix, topics, workflowsFile: wf.file, databaseUrl: db.url, env: o.env }))));
    if (o.awaitFlags) for (const s of services) await waitForFlags(s);
    const kafka = kafkaClient(`${o.name}-${suffix}`);
    let floors = 0;
    let consumers = 0;
    return {
      suffix,
      wf,
      db,
      topics,
      services,
      service: services[0],
      kafka,
      pg,
      q: async <T>(sql: string, params: unknown[] = []) => (await pg.query(sql, params)).rows as T[],
      startFloor: async ({ generator, agents, perSecond, ...rest }: FloorOptions) => {
        const floor = new WorkFloor({
          ...rest,
          kafka,
          topics,
          generator: new WorkloadGenerator({ ...generator, triageWorkflow: wf.triage, invoiceWorkflow: wf.invoice, idPrefix: `${suffix}-` }),
          agents: new HumanAgents(agents),
          groupId: `floor-${floors++}-${suffix}`,
        });
        teardown.push(() => floor.stop());
        await floor.start();
        if (perSecond !== undefined) {
          let stopping = false;
          const traffic = floor.run(Number.MAX_SAFE_INTEGER, perSecond, () => stopping);
          teardown.push(async () => {
            stopping = true;
            await traffic;
          });
        }
        return floor;
      },
      collect: async (topic: string) => {
        const messages: Array<Record<string, unknown>> = [];
        const consumer = kafka.consumer({ groupId: `${o.name}-reader-${consumers++}-${suffix}` });
        teardown.push(() => consumer.disconnect());
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => void messages.push(JSON.parse(message.value!.toString()) as Record<string, unknown>) });
        return messages;
      },
      producer: async () => {
        const producer = kafka.producer();
        teardown.push(() => producer.disconnect());
        await producer.connect();
        return producer;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
