import { AuditChainVerifier, auditEntryHash, canonicalAuditContent, parseChainAnchor, StoredAuditEntry } from './audit-chain';

// Hashes below were computed outside this code, with printf '%s' '<canonical text>' | sha256sum.
const FIRST = {
  id: '42',
  at: '2026-11-30T12:00:00.123456Z',
  actor: 'alice',
  actorKind: 'person',
  action: 'stage.promoted',
  workflow: 'support-triage',
  segment: 'email|eu',
  reason: 'café!',
  details: '{"to": {"stage": "shadow"}}',
};
const FIRST_HASH = '71fa9cd34c36fd0351dce40bb322bb9d14364af544ee8c55fe27800c42c15c69';
const SECOND = {
  id: '43',
  at: '2026-11-30T12:00:01.000000Z',
  actor: 'controller',
  actorKind: 'controller',
  action: 'stage.reverted',
  workflow: null,
  segment: null,
  reason: null,
  details: '{}',
};
const SECOND_HASH = 'd8f91505c2941af577b2fd7054317ae2a2cd07eac6a52663ad987d9c9fb2d99d';

function chain(): StoredAuditEntry[] {
  return [
    { ...FIRST, prevHash: null, hash: FIRST_HASH },
    { ...SECOND, prevHash: FIRST_HASH, hash: SECOND_HASH },
  ];
}

function verify(entries: StoredAuditEntry[], anchors: Array<{ id: string; hash: string }> = []) {
  const v = new AuditChainVerifier(anchors);
  for (const e of entries) v.next(e);
  return v.result();
}

describe('the canonical content of an audit entry', () => {
  it('is every field as its UTF-8 byte length and text, null as a dash, in a fixed order', () => {
    expect(canonicalAuditContent(FIRST)).toBe(
      '2:4227:2026-11-30T12:00:00.123456Z5:alice6:person14:stage.promoted14:support-triage8:email|eu6:café!27:{"to": {"stage": "shadow"}}',
    );
    expect(canonicalAuditContent(SECOND)).toBe('2:4327:2026-11-30T12:00:01.000000Z10:controller10:controller14:stage.reverted---2:{}');
  });

  it('tells a null field from an empty one and moved text from a field boundary', () => {
    expect(canonicalAuditContent({ ...SECOND, reason: '' })).not.toBe(canonicalAuditContent(SECOND));
    expect(canonicalAuditContent({ ...SECOND, workflow: 'ab', segment: 'c' })).not.toBe(canonicalAuditContent({ ...SECOND, workflow: 'a', segment: 'bc' }));
  });
});

describe('the hash of an entry', () => {
  it('is sha256 over the previous hash (a dash for the first entry) and the content', () => {
    expect(auditEntryHash(null, FIRST)).toBe(FIRST_HASH);
    expect(auditEntryHash(FIRST_HASH, SECOND)).toBe(SECOND_HASH);
  });

  it('changes with the previous hash, so an entry is bound to its place in the chain', () => {
    expect(auditEntryHash(SECOND_HASH, SECOND)).not.toBe(SECOND_HASH);
  });
});

describe('verifying the chain', () => {
  it('accepts an intact chain and reports its length and last hash', () => {
    expect(verify(chain())).toEqual({ ok: true, count: 2, lastId: '43', lastHash: SECOND_HASH });
  });

  it('accepts an empty log', () => {
    expect(verify([])).toEqual({ ok: true, count: 0, lastId: null, lastHash: null });
  });

  it('accepts gaps in the ids (rolled-back appends use up ids)', () => {
    const first = { ...FIRST, id: '7' };
    const firstHash = auditEntryHash(null, first);
    const second = { ...SECOND, id: '12' };
    expect(
      verify([
        { ...first, prevHash: null, hash: firstHash },
        { ...second, prevHash: firstHash, hash: auditEntryHash(firstHash, second) },
      ]).ok,
    ).toBe(true);
  });

  it('names a changed entry', () => {
    const [a, b] = chain();
    expect(verify([a, { ...b, reason: 'rewritten' }])).toEqual({
      ok: false,
      count: 2,
      broken: { id: '43', reason: expect.stringMatching(/content does not match its hash.*changed/) },
    });
  });

  it('names the entry after a removed one', () => {
    const third = { ...SECOND, id: '44', action: 'kill-switch.changed' };
    const entries = [...chain(), { ...third, prevHash: SECOND_HASH, hash: auditEntryHash(SECOND_HASH, third) }];
    expect(verify([entries[0], entries[2]])).toEqual({
      ok: false,
      count: 2,
      broken: { id: '44', reason: expect.stringMatching(/not the hash of entry 42.*removed/) },
    });
  });

  it('names a first entry that points back at removed ones', () => {
    expect(verify([chain()[1]])).toMatchObject({ ok: false, broken: { id: '43', reason: expect.stringMatching(/first entry/) } });
  });

  it('names an entry written without a hash', () => {
    const [a, b] = chain();
    expect(verify([a, { ...b, hash: null }])).toMatchObject({ ok: false, broken: { id: '43', reason: expect.stringMatching(/no hash/) } });
  });

  it('stops at the first break, since every later hash depends on it', () => {
    const [a, b] = chain();
    const v = new AuditChainVerifier();
    expect(v.next({ ...a, actor: 'mallory' })).toBe(false);
    expect(v.next(b)).toBe(false);
    expect(v.result()).toMatchObject({ count: 1, broken: { id: '42' } });
  });

  it('catches a chain rewritten consistently from a recorded entry on, by the hash recorded earlier', () => {
    const forged = { ...FIRST, reason: 'forged' };
    const forgedHash = auditEntryHash(null, forged);
    const rewritten = [
      { ...forged, prevHash: null, hash: forgedHash },
      { ...SECOND, prevHash: forgedHash, hash: auditEntryHash(forgedHash, SECOND) },
    ];
    expect(verify(rewritten).ok).toBe(true);
    expect(verify(rewritten, [{ id: '43', hash: SECOND_HASH }])).toMatchObject({
      ok: false,
      broken: { id: '43', reason: expect.stringMatching(/not the recorded/) },
    });
    expect(verify(chain(), [{ id: '43', hash: SECOND_HASH.toUpperCase() }]).ok).toBe(true);
  });

  it('catches a log cut before a recorded entry', () => {
    expect(verify(chain().slice(0, 1), [{ id: '43', hash: SECOND_HASH }])).toMatchObject({
      ok: false,
      broken: { id: '43', reason: expect.stringMatching(/no longer in the log/) },
    });
  });
});

describe('an anchor on the command line', () => {
  it('is the id and hash the verify command printed', () => {
    expect(parseChainAnchor(`43:${SECOND_HASH.toUpperCase()}`)).toEqual({ id: '43', hash: SECOND_HASH });
  });

  it('is refused with the expected form when malformed', () => {
    expect(() => parseChainAnchor('43')).toThrow(/<entry id>:<64 hex digits>/);
    expect(() => parseChainAnchor(`x:${SECOND_HASH}`)).toThrow(/anchor/);
  });
});
