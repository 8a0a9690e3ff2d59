import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/sql';
import { RollupAccumulator } from './domain/rollup';

/** Writes a batch's rollup deltas with one upsert per table, inside the caller's transaction. */
@Injectable()
export class RollupRepository {
  async write(tx: Tx, acc: RollupAccumulator): Promise<void> {
    const { rows, evidence, confusion, pairs } = acc.result();
    if (rows.length > 0) {
      await tx.query(
        `INSERT INTO rollup_minute AS r (workflow, segment, workflow_version, minute, n, agree, n_independent, agree_independent,
           n_review, agree_review, n_overridden, n_audit, agree_audit, n_review_routed, agree_review_routed, conf_n, conf_agree, field_agree, hh_n, hh_agree,
           ai_calls, ai_ok, ai_invalid, ai_failed, ai_skipped, prompt_tokens, completion_tokens, cost_usd, latency_sum_ms,
           latency_hist, routed, decision_cells)
         SELECT workflow, segment, version, minute, n, agree, "nIndependent", "agreeIndependent", "nReview", "agreeReview",
           "nOverridden", "nAudit", "agreeAudit", "nReviewRouted", "agreeReviewRouted", "confN", "confAgree", "fieldAgree", "hhN", "hhAgree", "aiCalls", "aiOk",
           "aiInvalid", "aiFailed", "aiSkipped", "promptTokens", "completionTokens", "costUsd", "latencySumMs", "latencyHist", routed, "decisionCells"
         FROM jsonb_to_recordset($1::jsonb) AS x(workflow text, segment text, version int, minute timestamptz, n bigint, agree bigint,
           "nIndependent" bigint, "agreeIndependent" bigint, "nReview" bigint, "agreeReview" bigint, "nOverridden" bigint,
           "nAudit" bigint, "agreeAudit" bigint, "nReviewRouted" bigint, "agreeReviewRouted" bigint, "confN" bigint[], "confAgree" bigint[], "fieldAgree" jsonb, "hhN" bigint,
           "hhAgree" bigint, "aiCalls" bigint, "aiOk" bigint, "aiInvalid" bigint, "aiFailed" bigint, "aiSkipped" bigint,
           "promptTokens" bigint, "completionTokens" bigint, "costUsd" numeric, "latencySumMs" bigint, "latencyHist" bigint[], routed jsonb, "decisionCells" jsonb)
         ON CONFLICT (workflow, segment, workflow_version, minute) DO UPDATE SET
           n = r.n + EXCLUDED.n,
           agree = r.agree + EXCLUDED.agree,
           n_independent = r.n_independent + EXCLUDED.n_independent,
           agree_independent = r.agree_independent + EXCLUDED.agree_independent,
           n_review = r.n_review + EXCLUDED.n_review,
           agree_review = r.agree_review + EXCLUDED.agree_review,
           n_overridden = r.n_overridden + EXCLUDED.n_overridden,
           n_audit = r.n_audit + EXCLUDED.n_audit,
           n_review_routed = r.n_review_routed + EXCLUDED.n_review_routed,
           agree_review_routed = r.agree_review_routed + EXCLUDED.agree_review_routed,
           agree_audit = r.agree_audit + EXCLUDED.agree_audit,
           conf_n = understudy_array_add(r.conf_n, EXCLUDED.conf_n),
           conf_agree = understudy_array_add(r.conf_agree, EXCLUDED.conf_agree),
           field_agree = understudy_jsonb_add(r.field_agree, EXCLUDED.field_agree),
           hh_n = r.hh_n + EXCLUDED.hh_n,
           hh_agree = r.hh_agree + EXCLUDED.hh_agree,
           ai_calls = r.ai_calls + EXCLUDED.ai_calls,
           ai_ok = r.ai_ok + EXCLUDED.ai_ok,
           ai_invalid = r.ai_invalid + EXCLUDED.ai_invalid,
           ai_failed = r.ai_failed + EXCLUDED.ai_failed,
           ai_skipped = r.ai_skipped + EXCLUDED.ai_skipped,
           prompt_tokens = r.prompt_tokens + EXCLUDED.prompt_tokens,
           completion_tokens = r.completion_tokens + EXCLUDED.completion_tokens,
           cost_usd = r.cost_usd + EXCLUDED.cost_usd,
           latency_sum_ms = r.latency_sum_ms + EXCLUDED.latency_sum_ms,
           latency_hist = understudy_array_add(r.latency_hist, EXCLUDED.latency_hist),
           routed = understudy_jsonb_add(r.routed, EXCLUDED.routed),
           decision_cells = CASE WHEN EXCLUDED.decision_cells = '{}' THEN r.decision_cells ELSE understudy_jsonb_add(r.decision_cells, EXCLUDED.decision_cells) END`,
        [JSON.stringify(rows)],
      );
    }
    if (evidence.length > 0) {
      await tx.query(
        `INSERT INTO evidence_minute AS e (workflow, segment, workflow_version, arm, minute, blind_n, blind_agree, anchored_n, anchored_agree,
           anchored_overridden, conf_n, conf_agree, critical, last_label_at)
         SELECT workflow, segment, version, arm, minute, "blindN", "blindAgree", "anchoredN", "anchoredAgree", "anchoredOverridden",
           "confN", "confAgree", critical, now()
         FROM jsonb_to_recordset($1::jsonb) AS x(workflow text, segment text, version int, arm text, minute timestamptz, "blindN" bigint,
           "blindAgree" bigint, "anchoredN" bigint, "anchoredAgree" bigint, "anchoredOverridden" bigint, "confN" bigint[], "confAgree" bigint[], critical jsonb)
         ON CONFLICT (workflow, segment, workflow_version, arm, minute) DO UPDATE SET
           blind_n = e.blind_n + EXCLUDED.blind_n,
           blind_agree = e.blind_agree + EXCLUDED.blind_agree,
           anchored_n = e.anchored_n + EXCLUDED.anchored_n,
           anchored_agree = e.anchored_agree + EXCLUDED.anchored_agree,
           anchored_overridden = e.anchored_overridden + EXCLUDED.anchored_overridden,
           conf_n = understudy_array_add(e.conf_n, EXCLUDED.conf_n),
           conf_agree = understudy_array_add(e.conf_agree, EXCLUDED.conf_agree),
           critical = CASE WHEN EXCLUDED.critical = '{}' THEN e.critical ELSE understudy_class_counts_add(e.critical, EXCLUDED.critical) END,
           last_label_at = now()`,
        [JSON.stringify(evidence)],
      );
    }
    if (confusion.length > 0) {
      await tx.query(
        `INSERT INTO rollup_confusion AS r (workflow, segment, workflow_version, day, ai_label, human_label, n)
         SELECT workflow, segment, version, day, "aiLabel", "humanLabel", n
         FROM jsonb_to_recordset($1::jsonb) AS x(workflow text, segment text, version int, day date, "aiLabel" text, "humanLabel" text, n bigint)
         ON CONFLICT (workflow, segment, workflow_version, day, ai_label, human_label) DO UPDATE SET n = r.n + EXCLUDED.n`,
        [JSON.stringify(confusion)],
      );
    }
    if (pairs.length > 0) {
      await tx.query(
        `INSERT INTO rollup_pairs AS r (workflow, segment, version_a, version_b, day, both_agree, a_only, b_only, neither)
         SELECT workflow, segment, "versionA", "versionB", day, "bothAgree", "aOnly", "bOnly", neither
         FROM jsonb_to_recordset($1::jsonb) AS x(workflow text, segment text, "versionA" int, "versionB" int, day date,
           "bothAgree" bigint, "aOnly" bigint, "bOnly" bigint, neither bigint)
         ON CONFLICT (workflow, segment, version_a, version_b, day) DO UPDATE SET
           both_agree = r.both_agree + EXCLUDED.both_agree, a_only = r.a_only + EXCLUDED.a_only,
           b_only = r.b_only + EXCLUDED.b_only, neither = r.neither + EXCLUDED.neither`,
        [JSON.stringify(pairs)],
      );
    }
  }
}
