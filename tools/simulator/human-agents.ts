import type { GeneratedItem, HumanDecisionEvent } from './workload';
import { createRng, Rng } from './prng';

/**
 * Simulated people working alongside Understudy, for tests and the demo: for each item they
 * look at what (if anything) Understudy routed to them and act as agents would — decide
 * independently when nothing came, accept or override a suggestion, review low-confidence
 * decisions, decide audit samples blind, and add a second opinion when asked for one.
 * A person's decision is the item's truth, with a small error rate.
 */
export interface RoutingEventLike {
  itemId: string;
  workflow: string;
  action: string;
  decision: Record<string, unknown> | null;
  aiDecisionId: string;
}

export interface HumanAgentOptions {
  seed?: number;
  /** Share of decisions where a person errs (one field wrong). */
  errorRate?: number;
  /**
   * Anchoring: the share of wrong suggestions a reviewer accepts as they are, because they were
   * shown them (0 by default: a careful reviewer). Blind decisions are not affected.
   */
  acceptWrongRate?: number;
  actors?: number;
}

export class HumanAgents {
  private readonly rng: Rng;
  private seq = 0;

  constructor(private readonly opts: HumanAgentOptions = {}) {
    this.rng = createRng(opts.seed ?? 7);
  }

  private actor(): string {
    return `agent-${1 + Math.floor(this.rng() * (this.opts.actors ?? 25))}`;
  }

  private decide(item: GeneratedItem): Record<string, unknown> {
    const d: Record<string, unknown> = { ...item.truth };
    if (this.rng() < (this.opts.errorRate ?? 0)) {
      if (typeof d.category === 'string') d.category = d.category === 'other' ? 'billing' : 'other';
      else if (typeof d.totalAmount === 'number') d.totalAmount = Math.round((d.totalAmount + 10) * 100) / 100;
    }
    if ('category' in d) d.reply = 'Thanks for reaching out, we are on it.';
    return d;
  }

  /** Whether the AI's decision matches the truth on the truth's fields (what a careful reviewer checks). */
  private aiRight(item: GeneratedItem, decision: Record<string, unknown> | null): boolean {
    if (!decision) return false;
    return Object.entries(item.truth).every(([k, v]) => {
      const a = decision[k];
      if (typeof v === 'number' && typeof a === 'number') return Math.abs(v - a) <= 0.01;
      return JSON.stringify(a ?? null) === JSON.stringify(v ?? null);
    });
  }

  private event(
    item: GeneratedItem,
    kind: 'independent' | 'review',
    decision: Record<string, unknown>,
    extra: Partial<HumanDecisionEvent> = {},
  ): HumanDecisionEvent {
    this.seq++;
    return {
      eventId: `human-${item.itemId}-${this.seq}`,
      workflow: item.workflow,
      itemId: item.itemId,
      decision,
      actor: this.actor(),
      decidedAt: new Date().toISOString(),
      kind,
      ...extra,
    };
  }

  /**
   * The decisions people make on one item, given the routing event it got (null: nothing came,
   * the item was handled as today).
   */
  respond(item: GeneratedItem, routing: RoutingEventLike | null): HumanDecisionEvent[] {
    if (!routing || routing.action === 'none') return [this.event(item, 'independent', this.decide(item))];
    switch (routing.action) {
      case 'suggest':
      case 'review': {
        const aiRight = this.aiRight(item, routing.decision);
        const right = aiRight && this.rng() >= (this.opts.errorRate ?? 0);
        const acceptWrong = this.opts.acceptWrongRate ?? 0;
        const anchored = !aiRight && !!routing.decision && acceptWrong > 0 && this.rng() < acceptWrong;
        const accept = (right || anchored) && !!routing.decision;
        const decision = accept ? { ...routing.decision } : this.decide(item);
        return [this.event(item, 'review', decision, { aiDecisionId: routing.aiDecisionId, verdict: accept ? 'accepted' : 'overridden' })];
      }
      case 'audit':
        return [this.event(item, 'independent', this.decide(item))];
      case 'double-label':
        return [this.event(item, 'independent', this.decide(item)), this.event(item, 'independent', this.decide(item))];
      case 'auto':
      default:
        return [];
    }
  }
}
