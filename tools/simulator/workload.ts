import { createRng, Rng } from './prng';

/**
 * A workload generator for tests, the demo and benchmarks: realistic support tickets and
 * invoices/claims, each carrying the ground truth the MODEL SIMULATOR answers against
 * (input.simulation), and the human decisions people would make on them.
 * Nothing here is used by the service itself.
 */

export interface GeneratedItem {
  eventId: string;
  workflow: string;
  itemId: string;
  attributes: Record<string, string>;
  input: Record<string, unknown>;
  occurredAt: string;
  truth: Record<string, unknown>;
  segment: string;
}

/** The work.items event of a generated item (without the generator's bookkeeping). */
export function toWorkItemEvent(i: GeneratedItem): {
  eventId: string;
  workflow: string;
  itemId: string;
  attributes: Record<string, string>;
  input: Record<string, unknown>;
  occurredAt: string;
} {
  return { eventId: i.eventId, workflow: i.workflow, itemId: i.itemId, attributes: i.attributes, input: i.input, occurredAt: i.occurredAt };
}

export interface HumanDecisionEvent {
  eventId: string;
  workflow: string;
  itemId: string;
  decision: Record<string, unknown>;
  actor: string;
  decidedAt: string;
  kind: 'independent' | 'review';
  aiDecisionId?: string;
  verdict?: 'accepted' | 'overridden';
}

const CATEGORIES = ['billing', 'technical', 'account', 'shipping', 'returns', 'other'] as const;
type Priority = 'low' | 'normal' | 'high' | 'urgent';

const TICKETS: Record<(typeof CATEGORIES)[number], Array<{ subject: string; body: string; priority: Priority }>> = {
  billing: [
    {
      subject: 'Charged twice for my subscription',
      body: 'Hi, I see two charges of {amount} on my card this month for the same plan. Please refund one of them.',
      priority: 'high',
    },
    { subject: 'Invoice address is wrong', body: 'Could you change the billing address on my invoices to our new office? Nothing urgent.', priority: 'low' },
    {
      subject: 'Payment failed, account locked',
      body: 'My card payment failed and now the whole team is locked out. We cannot work. Please help now!',
      priority: 'urgent',
    },
    { subject: 'Question about VAT on invoice', body: 'Why is VAT charged on invoice {ref}? We provided our VAT number.', priority: 'normal' },
  ],
  technical: [
    { subject: 'App crashes on startup', body: 'Since the update yesterday the app crashes as soon as I open it. I have reinstalled twice.', priority: 'high' },
    { subject: 'Sync is slow', body: 'Syncing my files takes several minutes, it used to be seconds. Any idea?', priority: 'normal' },
    { subject: 'Service down for everyone', body: 'Your API returns 503 for all our requests since 09:12. Our production is down.', priority: 'urgent' },
    { subject: 'How do I export to CSV?', body: 'Is there a way to export my reports to CSV? I could not find it.', priority: 'low' },
  ],
  account: [
    { subject: 'Cannot reset my password', body: 'The reset link says it expired, every time, even right after I request it.', priority: 'high' },
    { subject: 'Change the account owner', body: 'Our admin left the company; please transfer ownership to me.', priority: 'normal' },
    {
      subject: 'Suspicious login from abroad',
      body: 'I got an alert of a login from a country I have never been to. Please secure my account.',
      priority: 'urgent',
    },
  ],
  shipping: [
    { subject: 'Where is my order?', body: 'Order {ref} was supposed to arrive on Monday and tracking has not moved for five days.', priority: 'normal' },
    { subject: 'Package arrived damaged', body: 'The box was crushed and the device screen is cracked. Order {ref}.', priority: 'high' },
    { subject: 'Change delivery address', body: 'Can I still change the delivery address for order {ref}? I moved last week.', priority: 'normal' },
  ],
  returns: [
    { subject: 'I want to return my purchase', body: 'The jacket from order {ref} is too small. How do I send it back?', priority: 'low' },
    { subject: 'Refund not received', body: 'I returned order {ref} three weeks ago and still have not received my refund of {amount}.', priority: 'high' },
  ],
  other: [
    { subject: 'Partnership proposal', body: 'We would like to discuss a reseller partnership in our region.', priority: 'low' },
    { subject: 'Feedback on your service', body: 'Just wanted to say your support team was great last week. Thanks!', priority: 'low' },
  ],
};

const FIRST = ['Ada', 'Grace', 'Alan', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Edsger', 'Radia', 'Tim'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Dijkstra', 'Perlman', 'Berners-Lee'];
const VENDORS: Record<string, string[]> = {
  eu: ['Müller Bürobedarf GmbH', 'Dupont Fournitures SARL', 'Rossi Logistica S.p.A.', 'Nordic Cloud AB'],
  us: ['Acme Office Supply Inc.', 'Bluebird Logistics LLC', 'Summit Cloud Services Inc.', 'Pioneer Catering Co.'],
  uk: ['Thames Stationery Ltd', 'Highland Couriers Ltd', 'Albion IT Services plc', 'Kestrel Catering Ltd'],
};
const CURRENCY: Record<string, string> = { eu: 'EUR', us: 'USD', uk: 'GBP' };
const TAX: Record<string, number> = { eu: 0.2, us: 0.08, uk: 0.2 };

export interface WorkloadOptions {
  seed?: number;
  /** Workflow names to emit (tests give unique names). */
  triageWorkflow?: string;
  invoiceWorkflow?: string;
  /** Share of support tickets among items (the rest are invoices/claims). */
  triageShare?: number;
  /** Restrict the triage segments, e.g. [['email','eu'], ['chat','us']]. */
  triageSegments?: Array<[string, string]>;
  invoiceSegments?: Array<[string, string]>;
  idPrefix?: string;
  startAt?: Date;
  /** Mean gap between items, for occurredAt. */
  gapMs?: number;
}

export class WorkloadGenerator {
  private readonly rng: Rng;
  private n = 0;
  private clock: number;

  constructor(private readonly opts: WorkloadOptions = {}) {
    this.rng = createRng(opts.seed ?? 42);
    this.clock = (opts.startAt ?? new Date('2026-11-23T08:00:00Z')).getTime();
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rng() * list.length)];
  }

  next(): GeneratedItem {
    this.n++;
    this.clock += Math.round((this.opts.gapMs ?? 1000) * (0.5 + this.rng()));
    const triage = this.rng() < (this.opts.triageShare ?? 0.6);
    return triage ? this.ticket() : this.invoice();
  }

  batch(count: number): GeneratedItem[] {
    return Array.from({ length: count }, () => this.next());
  }

  private id(kind: string): string {
    return `${this.opts.idPrefix ?? ''}${kind}-${String(this.n).padStart(7, '0')}`;
  }

  private ticket(): GeneratedItem {
    const [channel, region] = this.opts.triageSegments
      ? this.pick(this.opts.triageSegments)
      : [this.pick(['email', 'chat', 'phone']), this.pick(['eu', 'us', 'apac'])];
    const category = this.pick(CATEGORIES);
    const t = this.pick(TICKETS[category]);
    const ref = `ORD-${100000 + Math.floor(this.rng() * 900000)}`;
    const amount = `${(10 + this.rng() * 190).toFixed(2)} ${region === 'us' ? 'USD' : 'EUR'}`;
    const first = this.pick(FIRST);
    const last = this.pick(LAST);
    const itemId = this.id('T');
    const truth = { category, priority: t.priority };
    const segment = `${channel}|${region}`;
    return {
      eventId: `item-${itemId}`,
      workflow: this.opts.triageWorkflow ?? 'support-triage',
      itemId,
      attributes: { channel, region, tier: this.pick(['free', 'pro', 'enterprise']) },
      input: {
        subject: t.subject,
        body: t.body.replace('{ref}', ref).replace('{amount}', amount),
        customer: {
          name: `${first} ${last}`,
          email: `${first.toLowerCase()}.${last.toLowerCase()}@example.com`,
          phone: `+${10 + Math.floor(this.rng() * 89)} ${Math.floor(1e8 + this.rng() * 9e8)}`,
          accountNumber: `ACC-${Math.floor(1e6 + this.rng() * 9e6)}`,
        },
        language: region === 'eu' ? this.pick(['en', 'de', 'fr']) : 'en',
        simulation: { truth, segment },
      },
      occurredAt: new Date(this.clock).toISOString(),
      truth,
      segment,
    };
  }

  private invoice(): GeneratedItem {
    const [docType, region] = this.opts.invoiceSegments
      ? this.pick(this.opts.invoiceSegments)
      : [this.pick(['invoice', 'claim']), this.pick(['eu', 'us', 'uk'])];
    const vendor = this.pick(VENDORS[region] ?? VENDORS.eu);
    const net = Math.round((50 + this.rng() * 4950) * 100) / 100;
    const tax = Math.round(net * TAX[region] * 100) / 100;
    const total = Math.round((net + tax) * 100) / 100;
    const day = new Date(this.clock - Math.floor(this.rng() * 20) * 86_400_000);
    const invoiceDate = day.toISOString().slice(0, 10);
    const dueDate = docType === 'claim' ? null : new Date(day.getTime() + 30 * 86_400_000).toISOString().slice(0, 10);
    const number = `${docType === 'claim' ? 'EXP' : 'INV'}-${2026}-${String(Math.floor(this.rng() * 99999)).padStart(5, '0')}`;
    const itemId = this.id('D');
    const truth = { vendor, invoiceNumber: number, invoiceDate, dueDate, currency: CURRENCY[region] ?? 'EUR', totalAmount: total, taxAmount: tax };
    const segment = `${docType}|${region}`;
    const text =
      `${vendor}\n${docType === 'claim' ? 'Expense claim' : 'INVOICE'} ${number}\nDate: ${invoiceDate}` +
      (dueDate ? `\nDue: ${dueDate}` : '') +
      `\nNet: ${net.toFixed(2)}\nTax: ${tax.toFixed(2)}\nTotal: ${total.toFixed(2)} ${truth.currency}`;
    return {
      eventId: `item-${itemId}`,
      workflow: this.opts.invoiceWorkflow ?? 'invoice-extraction',
      itemId,
      attributes: { docType, region, source: this.pick(['email', 'upload', 'scan']) },
      input: {
        documentText: text,
        submitter: { name: `${this.pick(FIRST)} ${this.pick(LAST)}`, email: 'ap@example.com', iban: 'DE89 3704 0044 0532 0130 00' },
        bankDetails: 'IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX',
        simulation: { truth, segment },
      },
      occurredAt: new Date(this.clock).toISOString(),
      truth,
      segment,
    };
  }

  /**
   * A person's independent decision on an item: the truth, except for a share `errorRate` of
   * mistakes (one field changed), as real agents make.
   */
  humanDecision(
    item: GeneratedItem,
    opts: {
      actor?: string;
      errorRate?: number;
      kind?: 'independent' | 'review';
      aiDecisionId?: string;
      verdict?: 'accepted' | 'overridden';
      eventSuffix?: string;
      decidedAt?: Date;
    } = {},
  ): HumanDecisionEvent {
    const decision = { ...item.truth };
    if (this.rng() < (opts.errorRate ?? 0)) mistake(decision, this.rng);
    if (item.workflow === (this.opts.triageWorkflow ?? 'support-triage'))
      (decision as Record<string, unknown>).reply = 'Thanks for reaching out — we are on it.';
    return {
      eventId: `decision-${item.itemId}-${opts.eventSuffix ?? opts.kind ?? 'independent'}`,
      workflow: item.workflow,
      itemId: item.itemId,
      decision,
      actor: opts.actor ?? `agent-${1 + Math.floor(this.rng() * 40)}`,
      decidedAt: (opts.decidedAt ?? new Date(new Date(item.occurredAt).getTime() + 60_000 + Math.floor(this.rng() * 600_000))).toISOString(),
      kind: opts.kind ?? 'independent',
      ...(opts.aiDecisionId ? { aiDecisionId: opts.aiDecisionId } : {}),
      ...(opts.verdict ? { verdict: opts.verdict } : {}),
    };
  }
}

function mistake(decision: Record<string, unknown>, rng: Rng): void {
  if ('category' in decision) {
    const others = CATEGORIES.filter((c) => c !== decision.category);
    decision.category = others[Math.floor(rng() * others.length)];
  } else if ('totalAmount' in decision) {
    decision.totalAmount = Math.round((Number(decision.totalAmount) + 10) * 100) / 100;
  }
}

export { createRng };
