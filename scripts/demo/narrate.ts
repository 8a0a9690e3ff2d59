/**
 * How the demo tells people what happens: one line per audit event worth seeing, and a one-line
 * summary of the work floor every few seconds. Pure formatting.
 */
export interface AuditEvent {
  id: string;
  at: Date | string;
  actor: string;
  actorKind: string;
  action: string;
  workflow: string | null;
  segment: string | null;
  reason: string | null;
  details: Record<string, unknown>;
}

interface Split {
  stage: string;
  trafficPct: number;
}

export function clock(at: Date | string = new Date()): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  return d.toTimeString().slice(0, 8);
}

export function describeSplit(s: Split | null | undefined): string {
  if (!s) return '?';
  return s.stage === 'shadow' ? 'shadow' : `${s.stage} ${s.trafficPct} %`;
}

function where(e: AuditEvent): string {
  if (e.workflow && e.segment) return `${e.workflow} / ${e.segment}`;
  return e.workflow ?? 'all workflows';
}

function shorten(text: string | null, max = 160): string {
  if (!text) return '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function counts(details: Record<string, unknown>): string {
  const c = details.counts as { n?: number; agree?: number } | undefined;
  if (!c || !c.n) return '';
  return ` (agreement ${((c.agree ?? 0) / c.n).toFixed(3)} over ${c.n} comparisons)`;
}

/**
 * The line for one audit event, or null for events too fine-grained for the live log
 * (flags re-written unchanged, token bookkeeping).
 */
export function describeAuditEvent(e: AuditEvent): string | null {
  const d = e.details ?? {};
  const t = clock(e.at);
  const by = e.actorKind === 'operator' ? `an operator (${e.actor})` : e.actor;
  switch (e.action) {
    case 'workflow.version-created':
      return `${t}  workflow      ${e.workflow} v${String(d.version ?? '?')} (${String(d.role ?? 'champion')}, model ${String(d.model ?? '?')}, prompt ${String(d.promptVersion ?? '?')}) loaded`;
    case 'segment.discovered':
      return `${t}  new segment   ${where(e)} — seen for the first time, starts in shadow`;
    case 'stage.promoted':
      return `${t}  PROMOTED      ${where(e)}: ${describeSplit(d.from as Split)} → ${describeSplit(d.to as Split)} by ${by}${counts(d)}`;
    case 'segment.awaiting-approval':
      return `${t}  APPROVAL?     ${where(e)}: ${shorten(e.reason)}`;
    case 'segment.approved': {
      const step = d.step as Split | undefined;
      return `${t}  APPROVED      ${where(e)}: ${describeSplit(step)} approved by ${by}: "${shorten(e.reason, 100)}"`;
    }
    case 'stage.reverted':
      return `${t}  REVERTED      ${where(e)}: ${describeSplit(d.from as Split)} → ${describeSplit(d.to as Split)} — ${shorten(e.reason, 400)}`;
    case 'monitor.alarm':
      return `${t}  EARLY WARNING ${where(e)}: ${shorten(e.reason, 400)}`;
    case 'monitor.all-clear':
      return `${t}  ALL CLEAR     ${where(e)}: ${shorten(e.reason, 300)}`;
    case 'guard.breached':
      return `${t}  GUARD BREACH  ${where(e)}: ${shorten(e.reason, 400)}`;
    case 'stage.rolled-back':
      return `${t}  ROLLED BACK   ${where(e)}: ${describeSplit(d.from as Split)} → ${describeSplit(d.to as Split)} by ${by}: ${shorten(e.reason)}`;
    case 'flag.operator-change':
      return `${t}  OPERATOR      ${where(e)}: ${shorten(e.reason, 300)}`;
    case 'kill-switch.changed':
      return `${t}  KILL SWITCH   ${d.after ? 'ON' : 'off'} — ${by}: ${shorten(e.reason)}`;
    case 'threshold.changed': {
      const after = d.after as number | null | undefined;
      const coverage = d.coverage as number | null | undefined;
      return after === null || after === undefined
        ? `${t}  threshold     ${where(e)}: no certified confidence threshold (${shorten(e.reason, 120)})`
        : `${t}  threshold     ${where(e)}: auto at confidence ≥ ${after.toFixed(2)}${typeof coverage === 'number' ? ` (covers ${(coverage * 100).toFixed(0)} % of items)` : ''}${e.actorKind === 'person' ? ` set by ${by}` : ''}`;
    }
    case 'segment.held':
      return `${t}  HELD          ${where(e)} by ${by}: ${shorten(e.reason)}`;
    case 'segment.resumed':
      return `${t}  RESUMED       ${where(e)} by ${by}: ${shorten(e.reason)}`;
    case 'flag.written':
    case 'token.created':
    case 'token.revoked':
      return null;
    default:
      return `${t}  ${e.action.padEnd(13)} ${where(e)}${e.reason ? `: ${shorten(e.reason)}` : ''}`;
  }
}

export interface SummaryInput {
  now: Date;
  itemsPerSecond: number;
  decisionsPerSecond: number;
  /** Comparisons and agreements per workflow over the last minute or two. */
  agreement: Array<{ workflow: string; n: number; agree: number }>;
  routed: Record<string, number>;
  showcase: { segment: string; stage: string; trafficPct: number; paused: boolean; pauseKind: string | null; verdict: string | null } | null;
}

export function summaryLine(s: SummaryInput): string {
  const agreement = s.agreement.length
    ? s.agreement.map((a) => `${a.workflow} ${a.n ? (a.agree / a.n).toFixed(2) : '–'} (n=${a.n})`).join(', ')
    : 'no comparisons yet';
  const order = ['suggest', 'review', 'audit', 'auto', 'double-label', 'none'];
  const routed = Object.entries(s.routed)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const show = s.showcase
    ? ` · ${s.showcase.segment}: ${describeSplit(s.showcase)}${s.showcase.paused ? ` (paused: ${s.showcase.pauseKind})` : s.showcase.verdict ? ` (gate: ${s.showcase.verdict})` : ''}`
    : '';
  return `${clock(s.now)}  ·· ${s.itemsPerSecond.toFixed(0)} items/s, people ${s.decisionsPerSecond.toFixed(0)} decisions/s · agreement (last 2 min): ${agreement} · routed so far: ${routed || 'nothing yet'}${show}`;
}
