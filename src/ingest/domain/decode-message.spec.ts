import { storableText } from '../../database/domain/storable-text';
import { decodeMessage, MAX_JSON_DEPTH } from './decode-message';
import { validateEvent, workDecisionEventSchema, workItemEventSchema } from './work-events';

const MAX = 10_000;
const enc = (s: string) => Buffer.from(s, 'utf8');

describe('decodeMessage', () => {
  it('decodes a JSON object', () => {
    expect(decodeMessage(enc('{"a":[1,{"b":"é"}]}'), MAX)).toEqual({ ok: true, value: { a: [1, { b: 'é' }] } });
  });
  it('refuses empty, oversized, non-UTF-8 and non-JSON messages with a reason', () => {
    expect(decodeMessage(null, MAX)).toEqual({ ok: false, reason: 'empty message: a JSON object was expected' });
    expect(decodeMessage(Buffer.alloc(MAX + 1, 32), MAX)).toEqual({ ok: false, reason: `message too large: ${MAX + 1} bytes, the limit is ${MAX}` });
    expect(decodeMessage(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), MAX)).toEqual({ ok: false, reason: 'not valid UTF-8' });
    expect(decodeMessage(enc('{"a":'), MAX)).toEqual({ ok: false, reason: 'not JSON: unexpected end of input after 5 characters' });
    // The reason never quotes the content (it goes to logs): only where parsing failed.
    const leaky = decodeMessage(enc('{"email": ada@example.com}'), MAX);
    expect(leaky.ok).toBe(false);
    expect(!leaky.ok && leaky.reason).toMatch(/^not JSON: unexpected character/);
    expect(!leaky.ok && leaky.reason).not.toContain('ada@');
  });
  it('refuses deep nesting before parsing, but counts brackets inside strings as text', () => {
    const deep = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1);
    expect(decodeMessage(enc(deep), MAX)).toEqual({ ok: false, reason: `nested too deeply: ${MAX_JSON_DEPTH + 1} levels, the limit is ${MAX_JSON_DEPTH}` });
    expect(decodeMessage(enc(JSON.stringify({ s: '['.repeat(100) })), MAX).ok).toBe(true);
    const hugeDeep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(decodeMessage(enc(hugeDeep), 1_000_000).ok).toBe(false);
  });
  it('refuses strings PostgreSQL cannot store, naming where', () => {
    expect(decodeMessage(enc('{"input":{"t":"a\\u0000b"}}'), MAX)).toEqual({
      ok: false,
      reason: 'input.t: contains a NUL character (\\u0000), which cannot be stored',
    });
    expect(decodeMessage(enc('{"x":["ok","\\ud800"]}'), MAX)).toEqual({ ok: false, reason: 'x[1]: contains an unpaired UTF-16 surrogate' });
    expect(decodeMessage(enc('{"\\udc00":1}'), MAX)).toEqual({ ok: false, reason: 'key "\\udc00": contains an unpaired UTF-16 surrogate' });
    expect(decodeMessage(enc('{"emoji":"\\ud83d\\ude00"}'), MAX).ok).toBe(true);
  });
});

describe('work events', () => {
  const item = {
    eventId: 'e1',
    workflow: 'support-triage',
    itemId: 'T-1',
    attributes: { channel: 'email' },
    input: { subject: 'x' },
    occurredAt: '2026-11-23T10:00:00Z',
  };
  it('accepts a valid work item and defaults attributes', () => {
    const { attributes: _a, ...noAttributes } = item;
    const r = validateEvent(workItemEventSchema, noAttributes, 'work.items');
    expect(r).toEqual({ ok: true, event: { ...noAttributes, attributes: {} }, ignoredFields: [] });
  });
  it('names each wrong field', () => {
    const r = validateEvent(workItemEventSchema, { ...item, itemId: 7, occurredAt: 'yesterday', extra: 1 }, 'work.items');
    expect(r.ok).toBe(false);
    const reason = !r.ok ? r.reason : '';
    expect(reason).toMatch(/^not a valid work.items event: /);
    expect(reason).toContain('itemId:');
    expect(reason).toContain('occurredAt: an ISO-8601 date-time');
    expect(reason).not.toMatch(/extra/);
  });
  it('accepts and ignores a field it does not know (producers evolve), and names it', () => {
    const r = validateEvent(workItemEventSchema, { ...item, priority: 'high', trace: { id: 1 } }, 'work.items');
    expect(r).toEqual({ ok: true, event: item, ignoredFields: ['priority', 'trace'] });
    const d = {
      eventId: 'd1',
      workflow: 'w',
      itemId: 'T-1',
      decision: { category: 'billing' },
      actor: 'a',
      decidedAt: '2026-11-23T10:05:00Z',
      kind: 'independent',
      source: 'crm',
    };
    const rd = validateEvent(workDecisionEventSchema, d, 'work.decisions');
    expect(rd.ok && rd.ignoredFields).toEqual(['source']);
    expect(rd.ok && 'source' in rd.event).toBe(false);
  });
  it('requires a verdict on reviews and refuses one on independent decisions', () => {
    const d = {
      eventId: 'd1',
      workflow: 'w',
      itemId: 'T-1',
      decision: { category: 'billing' },
      actor: 'agent-7',
      decidedAt: '2026-11-23T10:05:00+01:00',
      kind: 'review',
    };
    const noVerdict = validateEvent(workDecisionEventSchema, d, 'work.decisions');
    expect(!noVerdict.ok && noVerdict.reason).toContain('verdict: is required when kind is "review"');
    expect(validateEvent(workDecisionEventSchema, { ...d, verdict: 'overridden', aiDecisionId: '42' }, 'work.decisions').ok).toBe(true);
    const wrong = validateEvent(workDecisionEventSchema, { ...d, kind: 'independent', verdict: 'accepted' }, 'work.decisions');
    expect(!wrong.ok && wrong.reason).toContain('verdict: only applies when kind is "review"');
  });
});

describe('storableText', () => {
  it('replaces NULs and unpaired surrogates, keeps the rest', () => {
    expect(storableText('a\u0000b\ud800c😀')).toBe('a\uFFFDb\uFFFDc😀');
  });
});
