import { redact, REDACTED } from './redact';
import { canonicalJson, renderTemplate, sha256 } from './render-prompt';
import { segmentKey } from './segment-key';

describe('segmentKey', () => {
  it('joins the configured attributes in order, lower-cased', () => {
    expect(segmentKey(['channel', 'region'], { region: 'EU', channel: 'email', tier: 'gold' })).toEqual({ ok: true, segment: 'email|eu' });
  });
  it('names a missing attribute', () => {
    const r = segmentKey(['channel', 'region'], { channel: 'email' });
    expect(r).toEqual({ ok: false, error: 'attributes.region is required: it is part of the segment key (channel,region)' });
  });
  it('refuses the separator inside a value', () => {
    expect(segmentKey(['channel'], { channel: 'a|b' }).ok).toBe(false);
  });
});

describe('redact', () => {
  const input = {
    subject: 'Refund',
    customer: { name: 'Ada', email: 'ada@example.com', phone: '+44 1' },
    lines: [
      { iban: 'GB00', amount: 3 },
      { iban: 'DE00', amount: 4 },
    ],
  };
  it('replaces the configured paths, including wildcards, without touching the original', () => {
    const out = redact(input, ['customer.email', 'customer.phone', 'lines.*.iban', 'not.there']);
    expect(out.customer).toEqual({ name: 'Ada', email: REDACTED, phone: REDACTED });
    expect(out.lines).toEqual([
      { iban: REDACTED, amount: 3 },
      { iban: REDACTED, amount: 4 },
    ]);
    expect(JSON.stringify(out)).not.toContain('ada@example.com');
    expect(input.customer.email).toBe('ada@example.com');
  });
});

describe('renderTemplate', () => {
  const ctx = { input: { subject: 'Refund', customer: { name: 'Ada' } }, attributes: { channel: 'email' }, segment: 'email|eu', itemId: 'T-1' };
  it('fills whole objects as JSON and single fields as text', () => {
    expect(renderTemplate('S={{input.subject}} N={{ input.customer.name }} seg={{segment}} id={{itemId}}', ctx)).toBe('S=Refund N=Ada seg=email|eu id=T-1');
    expect(JSON.parse(renderTemplate('{{input}}', ctx))).toEqual(ctx.input);
  });
  it('leaves unknown placeholders visible', () => {
    expect(renderTemplate('{{input.nope}} {{other}}', ctx)).toBe('{{input.nope}} {{other}}');
  });
  it("leaves names of an object's own machinery visible too", () => {
    expect(renderTemplate('{{constructor}} {{toString}} {{__proto__}}', ctx)).toBe('{{constructor}} {{toString}} {{__proto__}}');
  });
  it('fills a single pass: a placeholder inside an item stays as it is', () => {
    expect(renderTemplate('{{input.subject}}', { ...ctx, input: { subject: '{{itemId}}' } })).toBe('{{itemId}}');
  });
});

describe('canonicalJson', () => {
  it('is independent of key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}');
    expect(sha256(canonicalJson({ a: 1, b: 2 }))).toBe(sha256(canonicalJson({ b: 2, a: 1 })));
  });
});
