import { isStage, Stage, stageIndex } from '../../flags/domain/stage';

/** What a routing event waiting in the outbox is checked against when it is finally published. */
export interface PublishState {
  now: Date;
  /** The kill switch as stored in PostgreSQL. */
  killSwitch: boolean;
  /** ROUTING_MAX_DELAY_MS (0: no limit). */
  maxDelayMs: number;
  /** The segment's stored stage now (null: unknown). */
  storedStage: (workflow: string, segment: string) => Stage | null;
}

/** The fields of a routing event the check reads. */
export interface PendingRoutingEvent {
  workflow: string;
  segment: string;
  stage: string | null;
  action: string;
  routedAt: string;
}

/**
 * Why a routing event that waited in the outbox (Kafka was down, or its relay died) must not be
 * published any more, or null to publish it. The decision was right when it was made; by now the
 * kill switch may be on, people may have picked the item up (older than ROUTING_MAX_DELAY_MS), or
 * the segment may have been rolled back below the stage the event was routed at.
 */
export function withholdReason(e: PendingRoutingEvent, s: PublishState): string | null {
  if (s.killSwitch) return 'the kill switch is on';
  const age = s.now.getTime() - new Date(e.routedAt).getTime();
  if (s.maxDelayMs > 0 && age > s.maxDelayMs)
    return `routed ${Math.round(age / 1000)} s ago, beyond ROUTING_MAX_DELAY_MS (${s.maxDelayMs} ms): people have the item`;
  const stored = s.storedStage(e.workflow, e.segment);
  if (stored && isStage(e.stage) && stageIndex(e.stage) > stageIndex(stored)) return `the segment is at ${stored} now, below the ${e.stage} it was routed at`;
  return null;
}

/** A routing event waiting in the outbox, by the id of its row. */
export interface PendingRoutingRow {
  id: string;
  event: PendingRoutingEvent;
}

/** The segments a batch of routing events was routed in, each once (what the stored stages are read for). */
export function segmentsOf(rows: PendingRoutingRow[]): Array<{ workflow: string; segment: string }> {
  const keys = new Map<string, { workflow: string; segment: string }>();
  for (const { event } of rows) keys.set(`${event.workflow}\u0001${event.segment}`, { workflow: event.workflow, segment: event.segment });
  return [...keys.values()];
}

/** The rows of a batch that must not be published any more, with why (row id → reason). */
export function withheldRows(rows: PendingRoutingRow[], s: PublishState): Map<string, string> {
  const out = new Map<string, string>();
  for (const { id, event } of rows) {
    const reason = withholdReason(event, s);
    if (reason) out.set(id, reason);
  }
  return out;
}
