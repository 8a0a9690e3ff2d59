/**
 * The NAIVE BASELINE of the benchmark: the same job as the service's shadow pipeline, done the
 * obvious way — one Kafka message at a time, one INSERT per row (each its own commit), one model
 * call at a time. It uses the service's own domain code (validation, prompt building, output
 * parsing, comparison) and the same openai SDK adapter, and writes into the same schema, so the
 * only difference measured is the architecture: batching, pipelining and concurrency.
 *
 * Run as its own process by the benchmark:  node dist-tools/scripts/bench/naive-pipeline.js <config.json>
 * It stops on SIGTERM. Not a product: no retries, no DLQ, no budgets, no flags (with `routingTopic`
 * every item is routed as `suggest`, the supervised stage).
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import { compareDecisions, labelOf } from '../../src/comparison/domain/compare-decisions';
import { confidenceFromLogprobs } from '../../src/inference/domain/logprob-confidence';
import { asksSelfReportedConfidence, buildModelRequest } from '../../src/inference/domain/model-request';
import { parseModelOutput } from '../../src/inference/domain/parse-output';
import { OpenAiDecisionModel } from '../../src/inference/openai-decision-model';
import { validateEvent, workItemEventSchema } from '../../src/ingest/domain/work-events';
import { segmentKey } from '../../src/workflows/domain/segment-key';
import { parseWorkflowFile } from '../../src/workflows/domain/workflow-file';

export interface NaiveConfig {
  databaseUrl: string;
  brokers: string[];
  groupId: string;
  itemsTopic: string;
  /** When set, every decision is also routed (`suggest`) and published here, one message at a time. */
  routingTopic: string | null;
  modelBaseUrl: string;
  workflowsFile: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.argv[2], 'utf8')) as NaiveConfig;
  const versions = new Map(parseWorkflowFile(readFileSync(config.workflowsFile, 'utf8'), config.workflowsFile).map((v) => [v.definition.name, v]));
  const pg = new Client({ connectionString: config.databaseUrl });
  await pg.connect();
  const model = new OpenAiDecisionModel({ baseUrl: config.modelBaseUrl, apiKey: 'naive', timeoutMs: 30_000 });
  const kafka = new Kafka({ clientId: 'naive', brokers: config.brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  if (config.routingTopic) await producer.connect();
  const consumer = kafka.consumer({ groupId: config.groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [config.itemsTopic], fromBeginning: true });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await pg.end().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  await consumer.run({
    eachMessage: async ({ message }) => {
      const v = validateEvent(workItemEventSchema, JSON.parse(message.value!.toString('utf8')), 'work.items');
      if (!v.ok) return;
      const e = v.event;
      const version = versions.get(e.workflow);
      if (!version) return;
      const def = version.definition;
      const seg = segmentKey(def.segmentBy, e.attributes);
      if (!seg.ok) return;
      const item = (
        await pg.query(
          `INSERT INTO work_items (event_id, workflow, item_id, segment, attributes, input, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT DO NOTHING RETURNING id::text`,
          [e.eventId, e.workflow, e.itemId, seg.segment, e.attributes, e.input, e.occurredAt],
        )
      ).rows[0];
      if (!item) return; // a redelivery
      const job = (
        await pg.query(
          `INSERT INTO ai_jobs (work_item_id, workflow, item_id, workflow_version, state, attempts, locked_by, locked_at) VALUES ($1, $2, $3, $4, 'processing', 1, 'naive', now()) RETURNING id::text`,
          [item.id, e.workflow, e.itemId, def.version],
        )
      ).rows[0];
      const { request, inputHash } = buildModelRequest(def, { itemId: e.itemId, segment: seg.segment, attributes: e.attributes, input: e.input });
      const answer = await model.complete(request);
      const parsed = parseModelOutput(answer.content, def.decision.schema, asksSelfReportedConfidence(def));
      const decision = parsed.ok ? parsed.decision : null;
      const confidence = parsed.ok
        ? (confidenceFromLogprobs(answer.content ?? '', answer.logprobs, Object.keys(def.comparator.fields)) ?? parsed.selfConfidence)
        : null;
      const d = (
        await pg.query(
          `INSERT INTO ai_decisions (job_id, workflow, item_id, segment, workflow_version, is_champion, model, prompt_version, valid, decision, raw_output, error,
             confidence, confidence_source, input_hash, prompt_tokens, completion_tokens, cost_usd, latency_ms, attempts)
           VALUES ($1, $2, $3, $4, $5, true, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 0, $17, 1) RETURNING id::text`,
          [
            job.id,
            e.workflow,
            e.itemId,
            seg.segment,
            def.version,
            def.model.name,
            def.prompt.version,
            parsed.ok,
            decision,
            parsed.ok ? null : answer.content,
            parsed.ok ? null : parsed.error,
            confidence,
            confidence === null ? 'none' : 'logprobs',
            inputHash,
            answer.promptTokens,
            answer.completionTokens,
            answer.latencyMs,
          ],
        )
      ).rows[0];
      await pg.query(`UPDATE ai_jobs SET state = $2, locked_by = NULL, locked_at = NULL, updated_at = now() WHERE id = $1`, [
        job.id,
        parsed.ok ? 'completed' : 'failed',
      ]);
      if (config.routingTopic && decision) {
        await pg.query(
          `INSERT INTO routing_decisions (ai_decision_id, workflow, item_id, segment, stage, action, reason, confidence) VALUES ($1, $2, $3, $4, 'supervised', 'suggest', 'naive', $5)`,
          [d.id, e.workflow, e.itemId, seg.segment, confidence],
        );
        await producer.send({
          topic: config.routingTopic,
          acks: -1,
          messages: [
            {
              key: e.itemId,
              value: JSON.stringify({
                eventId: `routing-${d.id}`,
                itemId: e.itemId,
                workflow: e.workflow,
                segment: seg.segment,
                action: 'suggest',
                decision,
                confidence,
                aiDecisionId: d.id,
              }),
            },
          ],
        });
      }
      if (!decision) return;
      const humans = (await pg.query(`SELECT id::text, decision, kind FROM human_decisions WHERE workflow = $1 AND item_id = $2`, [e.workflow, e.itemId])).rows;
      for (const h of humans) {
        const r = compareDecisions(def.comparator.fields, decision, h.decision);
        await pg.query(
          `INSERT INTO comparisons (workflow, item_id, segment, workflow_version, is_champion, ai_decision_id, human_decision_id, human_kind, agree, field_agreement, ai_label, human_label, confidence)
           VALUES ($1, $2, $3, $4, true, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
          [
            e.workflow,
            e.itemId,
            seg.segment,
            def.version,
            d.id,
            h.id,
            h.kind,
            r.agree,
            r.fields,
            labelOf(decision, def.decision.labelField),
            labelOf(h.decision, def.decision.labelField),
            confidence,
          ],
        );
        await pg.query(
          `INSERT INTO rollup_minute AS r (workflow, segment, workflow_version, minute, n, agree) VALUES ($1, $2, $3, date_trunc('minute', now()), 1, $4)
           ON CONFLICT (workflow, segment, workflow_version, minute) DO UPDATE SET n = r.n + 1, agree = r.agree + EXCLUDED.agree`,
          [e.workflow, seg.segment, def.version, r.agree ? 1 : 0],
        );
      }
    },
  });
  console.log('naive pipeline consuming');
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
