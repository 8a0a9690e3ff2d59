import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every Prometheus metric the service exposes on /metrics, in one place. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly eventsIn = new Counter({
    name: 'understudy_events_in_total',
    help: 'Kafka messages consumed, by topic and outcome (stored, duplicate, dlq)',
    labelNames: ['topic', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly unknownFields = new Counter({
    name: 'understudy_events_unknown_fields_total',
    help: 'Consumed events that carried fields this version does not know (ignored, the event stored), by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly segmentOverflow = new Counter({
    name: 'understudy_segment_overflow_total',
    help: "Work items stored in their workflow's overflow segment because the segment bound was reached, by workflow",
    labelNames: ['workflow'] as const,
    registers: [this.registry],
  });
  readonly dlq = new Counter({
    name: 'understudy_dlq_total',
    help: 'Messages sent to the dead-letter topic, by source topic and reason class',
    labelNames: ['topic', 'reason'] as const,
    registers: [this.registry],
  });
  readonly aiCalls = new Counter({
    name: 'understudy_ai_calls_total',
    help: 'Model calls by workflow and outcome (ok, invalid, rate_limited, server_error, timeout, circuit_open, error)',
    labelNames: ['workflow', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly aiLatency = new Histogram({
    name: 'understudy_ai_latency_seconds',
    help: 'Model call latency',
    labelNames: ['workflow'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly aiTokens = new Counter({
    name: 'understudy_ai_tokens_total',
    help: 'Tokens used by the model, by workflow and kind (prompt, completion)',
    labelNames: ['workflow', 'kind'] as const,
    registers: [this.registry],
  });
  readonly aiCost = new Counter({
    name: 'understudy_ai_cost_usd_total',
    help: 'Model cost in USD by workflow (from the configured price table)',
    labelNames: ['workflow'] as const,
    registers: [this.registry],
  });
  readonly jobs = new Counter({
    name: 'understudy_ai_jobs_total',
    help: 'AI jobs that reached a state, by workflow and state',
    labelNames: ['workflow', 'state'] as const,
    registers: [this.registry],
  });
  readonly comparisons = new Counter({
    name: 'understudy_comparisons_total',
    help: 'AI-vs-human comparisons recorded, by workflow, segment and result',
    labelNames: ['workflow', 'segment', 'result'] as const,
    registers: [this.registry],
  });
  readonly routed = new Counter({
    name: 'understudy_routing_total',
    help: 'Routing decisions by workflow, segment and action',
    labelNames: ['workflow', 'segment', 'action'] as const,
    registers: [this.registry],
  });
  readonly agreement = new Gauge({
    name: 'understudy_segment_agreement',
    help: 'Agreement rate of the champion in the current step window, per segment',
    labelNames: ['workflow', 'segment'] as const,
    registers: [this.registry],
  });
  readonly stage = new Gauge({
    name: 'understudy_segment_stage',
    help: 'Stage per segment: 0 shadow, 1 supervised, 2 confidence-routed',
    labelNames: ['workflow', 'segment'] as const,
    registers: [this.registry],
  });
  readonly trafficPct = new Gauge({
    name: 'understudy_segment_traffic_percent',
    help: 'Share of the segment at its stage (the rest is one stage below)',
    labelNames: ['workflow', 'segment'] as const,
    registers: [this.registry],
  });
  readonly circuitOpen = new Gauge({
    name: 'understudy_model_circuit_open',
    help: '1 while the model circuit breaker is open',
    registers: [this.registry],
  });
  readonly outboxPending = new Gauge({
    name: 'understudy_outbox_pending',
    help: 'Outbox rows not yet published',
    registers: [this.registry],
  });
  readonly controllerCycle = new Histogram({
    name: 'understudy_controller_cycle_seconds',
    help: 'Duration of rollout controller cycles',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'understudy_process_' });
  }
}
