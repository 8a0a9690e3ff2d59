import type { Arm, ArmEvidence } from '../../comparison/domain/evidence';
import { LATENCY_BUCKETS_MS, type RollupGroupSums } from '../../comparison/domain/rollup';
import { cohensKappa, compareWithHumanBaseline, fieldAgreementSummary, overrideRate, percentileFromHistogram, wilsonInterval } from '../../stats/domain';

/** Summed rollup counters of one report group, with its confusion cells and evidence. */
export interface GroupTotals extends RollupGroupSums<number[], Record<string, number>> {
  confusion: Array<{ ai: string; human: string; n: number }>;
  /** The evidence model's labels of the group per arm, by the time the AI decided. */
  evidence: Array<ArmEvidence & { arm: Arm }>;
}

/**
 * Blind agreement beside anchored agreement, per arm and over all arms. Blind labels (the person
 * did not see the AI's answer) are what decisions use; anchored reviews overstate agreement and
 * measure overrides.
 */
export function evidenceSummary(arms: ReadonlyArray<ArmEvidence & { arm: Arm }>) {
  const view = (e: ArmEvidence) => ({
    blind: { n: e.blindN, agree: e.blindAgree, agreement: wilsonInterval(e.blindAgree, e.blindN) },
    anchored: { n: e.anchoredN, agree: e.anchoredAgree, overridden: e.anchoredOverridden, agreement: wilsonInterval(e.anchoredAgree, e.anchoredN) },
  });
  const total = arms.reduce<ArmEvidence>(
    (a, e) => ({
      blindN: a.blindN + e.blindN,
      blindAgree: a.blindAgree + e.blindAgree,
      anchoredN: a.anchoredN + e.anchoredN,
      anchoredAgree: a.anchoredAgree + e.anchoredAgree,
      anchoredOverridden: a.anchoredOverridden + e.anchoredOverridden,
    }),
    { blindN: 0, blindAgree: 0, anchoredN: 0, anchoredAgree: 0, anchoredOverridden: 0 },
  );
  return { ...view(total), arms: arms.map((e) => ({ arm: e.arm, ...view(e) })) };
}

/**
 * One row of the agreement report, from rollup totals: agreement with its Wilson interval,
 * Cohen's kappa with its confusion matrix, per-field agreement, override rate, blind audit
 * accuracy, the human-vs-human baseline beside the AI's agreement, cost per item and latency.
 */
export function agreementRow(t: GroupTotals) {
  const latencyCounts = padTo(t.latencyHist, LATENCY_BUCKETS_MS.length + 1);
  const calls = t.aiCalls;
  const kappa = t.confusion.length > 0 ? cohensKappa(t.confusion) : null;
  return {
    key: t.key,
    n: t.n,
    agree: t.agree,
    agreement: wilsonInterval(t.agree, t.n),
    kappa: kappa && {
      kappa: kappa.kappa,
      lower: kappa.lower,
      upper: kappa.upper,
      observedAgreement: kappa.observedAgreement,
      expectedAgreement: kappa.expectedAgreement,
      labels: kappa.labels,
      matrix: kappa.matrix,
      n: kappa.n,
    },
    fields: fieldAgreementSummary(Object.fromEntries(Object.entries(t.fieldAgree).map(([f, agree]) => [f, { n: t.n, agree }]))),
    overrideRate: t.nReview > 0 ? overrideRate(t.nReview, t.nOverridden) : null,
    audit: t.nAudit > 0 ? wilsonInterval(t.agreeAudit, t.nAudit) : null,
    evidence: evidenceSummary(t.evidence),
    humanBaseline: t.hhN > 0 ? compareWithHumanBaseline({ n: t.n, agree: t.agree }, { n: t.hhN, agree: t.hhAgree }) : null,
    ai: {
      calls,
      ok: t.aiOk,
      invalid: t.aiInvalid,
      failed: t.aiFailed,
      skipped: t.aiSkipped,
      errorRate: calls > 0 ? (t.aiInvalid + t.aiFailed) / calls : null,
    },
    cost: {
      totalUsd: round(t.costUsd, 6),
      perItemUsd: calls > 0 ? round(t.costUsd / calls, 8) : null,
      promptTokens: t.promptTokens,
      completionTokens: t.completionTokens,
    },
    latencyMs: {
      mean: calls > 0 && latencyCounts.some((c) => c > 0) ? Math.round(t.latencySumMs / latencyCounts.reduce((a, b) => a + b, 0)) : null,
      p50: pct(latencyCounts, 0.5),
      p95: pct(latencyCounts, 0.95),
      p99: pct(latencyCounts, 0.99),
    },
  };
}

export type AgreementRow = ReturnType<typeof agreementRow>;

export const AGREEMENT_CSV_COLUMNS = [
  'key',
  'n',
  'agree',
  'agreement_rate',
  'agreement_lower_95',
  'agreement_upper_95',
  'blind_agreement_rate',
  'blind_n',
  'anchored_agreement_rate',
  'anchored_n',
  'kappa',
  'kappa_lower_95',
  'kappa_upper_95',
  'override_rate',
  'reviews',
  'overridden',
  'audit_accuracy',
  'audits',
  'human_baseline_rate',
  'human_pairs',
  'ai_calls',
  'ai_error_rate',
  'cost_usd',
  'cost_per_item_usd',
  'latency_p50_ms',
  'latency_p95_ms',
  'latency_p99_ms',
  'field_agreement',
];

export function agreementCsvRecord(r: AgreementRow): Record<string, unknown> {
  return {
    key: r.key,
    n: r.n,
    agree: r.agree,
    agreement_rate: r.agreement.rate,
    agreement_lower_95: r.agreement.lower,
    agreement_upper_95: r.agreement.upper,
    blind_agreement_rate: r.evidence.blind.agreement.rate,
    blind_n: r.evidence.blind.n,
    anchored_agreement_rate: r.evidence.anchored.agreement.rate,
    anchored_n: r.evidence.anchored.n,
    kappa: r.kappa?.kappa ?? null,
    kappa_lower_95: r.kappa?.lower ?? null,
    kappa_upper_95: r.kappa?.upper ?? null,
    override_rate: r.overrideRate?.rate ?? null,
    reviews: r.overrideRate?.reviews ?? 0,
    overridden: r.overrideRate?.overridden ?? 0,
    audit_accuracy: r.audit?.rate ?? null,
    audits: r.audit?.n ?? 0,
    human_baseline_rate: r.humanBaseline?.humans.rate ?? null,
    human_pairs: r.humanBaseline?.humans.n ?? 0,
    ai_calls: r.ai.calls,
    ai_error_rate: r.ai.errorRate,
    cost_usd: r.cost.totalUsd,
    cost_per_item_usd: r.cost.perItemUsd,
    latency_p50_ms: r.latencyMs.p50,
    latency_p95_ms: r.latencyMs.p95,
    latency_p99_ms: r.latencyMs.p99,
    field_agreement: r.fields.map((f) => `${f.field}=${f.rate === null ? '' : f.rate.toFixed(4)}`).join(' '),
  };
}

function pct(counts: number[], q: number): number | null {
  const v = percentileFromHistogram(LATENCY_BUCKETS_MS, counts, q);
  return v === null ? null : Math.round(v);
}

function padTo(a: number[], n: number): number[] {
  return Array.from({ length: n }, (_, i) => Number(a[i] ?? 0));
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
