import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/sql';
import type { DecisionRecord } from './domain/job';

/** One AI decision as it is stored: the record with its job, item and version. */
export interface NewAiDecision extends DecisionRecord {
  jobId: string;
  workflow: string;
  itemId: string;
  segment: string;
  version: number;
  isChampion: boolean;
  attempts: number;
}

/** ai_decisions: the only SQL that writes the table. */
@Injectable()
export class DecisionRepository {
  /**
   * Stores decisions in the caller's transaction. One decision per item and version: a decision
   * already stored (a late answer of a job that was run twice) inserts nothing and is not returned.
   */
  async insert(tx: Tx, rows: NewAiDecision[]): Promise<Array<{ id: string; workflow: string; itemId: string; version: number }>> {
    if (rows.length === 0) return [];
    return tx.query(
      `INSERT INTO ai_decisions (job_id, workflow, item_id, segment, workflow_version, is_champion, model, prompt_version, valid,
         decision, raw_output, error, confidence, confidence_source, input_hash, prompt_tokens, completion_tokens, cost_usd,
         latency_ms, attempts)
       SELECT "jobId"::bigint, workflow, "itemId", segment, version, "isChampion", model, "promptVersion", valid, decision,
         "rawOutput", error, confidence, "confidenceSource", "inputHash", "promptTokens", "completionTokens", "costUsd",
         "latencyMs", attempts
       FROM jsonb_to_recordset($1::jsonb) AS x("jobId" text, workflow text, "itemId" text, segment text, version int,
         "isChampion" boolean, model text, "promptVersion" text, valid boolean, decision jsonb, "rawOutput" text, error text,
         confidence double precision, "confidenceSource" text, "inputHash" text, "promptTokens" int, "completionTokens" int,
         "costUsd" numeric, "latencyMs" int, attempts int)
       ON CONFLICT (workflow, item_id, workflow_version) DO NOTHING
       RETURNING id::text, workflow, item_id AS "itemId", workflow_version AS version`,
      [JSON.stringify(rows)],
    );
  }
}
