import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { buildAnswer, corruptValue, drawConfidence, extractSimulation, findSimulation, malform } from './answer';
import { fill, type JsonSchema } from './json-schema';
import { createRng } from './prng';
import { CERTAIN_LOGPROB, splitTokens, tokenizeJson, withLogprobs } from './tokens';

const triageSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['category', 'priority', 'reply', 'confidence'],
  properties: {
    category: { type: 'string', enum: ['billing', 'technical', 'account', 'shipping', 'other'] },
    priority: { type: 'string', enum: ['low', 'normal', 'high', 'urgent'] },
    reply: { type: 'string' },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
  },
};

/** A richer schema in the shape zod/openai helpers emit: $defs, nullable anyOf, type arrays, dates. */
const claimSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['decision', 'amount', 'dueDate', 'flags', 'note', 'urgent', 'handler'],
  properties: {
    decision: { $ref: '#/$defs/decision' },
    amount: { type: 'number', minimum: 0, maximum: 10000 },
    dueDate: { type: 'string', format: 'date' },
    flags: { type: 'array', items: { type: 'string', enum: ['fraud', 'vip', 'repeat'] }, maxItems: 3 },
    note: { type: ['string', 'null'] },
    urgent: { type: 'boolean' },
    handler: { anyOf: [{ type: 'string', enum: ['team-a', 'team-b'] }, { type: 'null' }] },
    count: { type: 'integer', minimum: 1, maximum: 5 },
  },
  $defs: { decision: { type: 'string', enum: ['approve', 'reject', 'escalate'] } },
};

function validator(schema: JsonSchema) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

const ticket = (simulation: unknown) =>
  `Triage this ticket.\n\nTicket:\n${JSON.stringify({ subject: 'Charged twice {urgent}', body: 'See "invoice {42}"', simulation })}\nAnswer in JSON.`;

describe('findSimulation', () => {
  const sim = { truth: { category: 'billing', priority: 'high' }, segment: 'email|eu' };

  it('finds the simulation object among prose and stray braces', () => {
    const text = `Rules: use {category} and {priority}. } { not json\n${ticket(sim)}`;
    expect(findSimulation(text)).toEqual({ truth: sim.truth, segment: 'email|eu' });
  });

  it('looks one level down', () => {
    const text = `Item: ${JSON.stringify({ workflow: 'support-triage', input: { subject: 'x', simulation: sim } })}`;
    expect(findSimulation(text)).toEqual({ truth: sim.truth, segment: 'email|eu' });
  });

  it('skips JSON objects without a simulation and returns the later one', () => {
    const text = `Example: {"category":"other"}\nItem: ${JSON.stringify({ simulation: sim })}`;
    expect(findSimulation(text)?.truth).toEqual(sim.truth);
  });

  it('does not look two levels down', () => {
    const text = JSON.stringify({ a: { b: { simulation: sim } } });
    expect(findSimulation(text)).toBeNull();
  });

  it('returns null without a simulation, and a null truth when only the segment is given', () => {
    expect(findSimulation('no json here {at all')).toBeNull();
    expect(findSimulation(JSON.stringify({ simulation: { segment: 'chat|us' } }))).toEqual({ truth: null, segment: 'chat|us' });
  });

  it('reads the last user message, including content-part arrays', () => {
    const messages = [
      { role: 'system', content: ticket({ truth: { category: 'other' } }) },
      { role: 'user', content: ticket({ truth: { category: 'shipping' } }) },
      { role: 'assistant', content: '{}' },
      { role: 'user', content: [{ type: 'text', text: ticket({ truth: { category: 'account' }, segment: 's' }) }] },
    ];
    expect(extractSimulation(messages)).toEqual({ truth: { category: 'account' }, segment: 's' });
    expect(extractSimulation([{ role: 'system', content: ticket(sim) }])).toBeNull();
  });
});

describe('buildAnswer', () => {
  const truth = { category: 'billing', priority: 'high' };

  it('answers the truth, fills required fields and the confidence, and validates', () => {
    const answer = buildAnswer({ kind: 'correct', truth, schema: triageSchema, confidence: 0.87, rng: createRng(1) });
    expect(answer.value).toEqual({ category: 'billing', priority: 'high', reply: expect.any(String), confidence: 0.87 });
    expect(Object.keys(answer.value)).toEqual(['category', 'priority', 'reply', 'confidence']);
    expect(answer.corruptedField).toBeUndefined();
    expect(answer.carrierField).toBe('category');
    expect(validator(triageSchema)(answer.value)).toBe(true);
  });

  it('corrupts exactly one truth field to another enum value and stays schema-valid', () => {
    const validate = validator(triageSchema);
    const corrupted = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const { value, corruptedField } = buildAnswer({ kind: 'wrong', truth, schema: triageSchema, confidence: 0.5, rng: createRng(seed) });
      expect(validate(value)).toBe(true);
      const differing = Object.keys(truth).filter((k) => value[k] !== truth[k as keyof typeof truth]);
      expect(differing).toEqual([corruptedField]);
      corrupted.add(corruptedField!);
    }
    expect(corrupted).toEqual(new Set(['category', 'priority']));
  });

  it('corrupts only corruptFields when given', () => {
    for (let seed = 0; seed < 50; seed++) {
      const { corruptedField } = buildAnswer({
        kind: 'wrong',
        truth,
        schema: triageSchema,
        confidence: 0.5,
        corruptFields: ['priority'],
        rng: createRng(seed),
      });
      expect(corruptedField).toBe('priority');
    }
  });

  describe('with an answer bias', () => {
    const wrong = (seed: number, answerBias?: { field: string; value: string | number | boolean; share: number }) =>
      buildAnswer({ kind: 'wrong', truth, schema: triageSchema, confidence: 0.5, answerBias, corruptFields: ['priority'], rng: createRng(seed) });

    it('sets the biased value on its field in about `share` of the wrong answers, even outside corruptFields', () => {
      const validate = validator(triageSchema);
      let biased = 0;
      for (let seed = 0; seed < 1000; seed++) {
        const { value, corruptedField } = wrong(seed, { field: 'category', value: 'other', share: 0.7 });
        expect(validate(value)).toBe(true);
        if (corruptedField === 'category') {
          expect(value).toMatchObject({ category: 'other', priority: 'high' });
          biased++;
        } else {
          expect(value).toMatchObject({ category: 'billing' });
          expect(corruptedField).toBe('priority');
        }
      }
      expect(biased / 1000).toBeCloseTo(0.7, 1);
    });

    it('leaves correct answers alone', () => {
      const answerBias = { field: 'category', value: 'other', share: 1 };
      expect(buildAnswer({ kind: 'correct', truth, schema: triageSchema, confidence: 0.9, answerBias, rng: createRng(1) }).value).toMatchObject(truth);
    });

    it('answers wrong as usual when the bias would not make the answer wrong or valid', () => {
      for (const answerBias of [
        { field: 'category', value: 'billing', share: 1 },
        { field: 'category', value: 'spam', share: 1 },
        { field: 'category', value: 3, share: 1 },
        { field: 'team', value: 'other', share: 1 },
        { field: 'category', value: 'other', share: 0 },
      ]) {
        for (let seed = 0; seed < 20; seed++) expect(wrong(seed, answerBias)).toEqual(wrong(seed));
      }
    });

    it('biases any field type a schema allows, and without a schema', () => {
      const claimTruth = { decision: 'approve', amount: 120, urgent: false, handler: 'team-a' };
      const bias = (field: string, value: string | number | boolean, schema?: JsonSchema) =>
        buildAnswer({ kind: 'wrong', truth: claimTruth, schema, confidence: 0.5, answerBias: { field, value, share: 1 }, rng: createRng(1) }).value[field];
      expect(bias('decision', 'escalate', claimSchema)).toBe('escalate');
      expect(bias('handler', 'team-b', claimSchema)).toBe('team-b');
      expect(bias('urgent', true, claimSchema)).toBe(true);
      expect(bias('amount', 0, claimSchema)).toBe(0);
      expect(typeof bias('amount', 'zero', claimSchema)).toBe('number');
      expect(bias('decision', 'anything')).toBe('anything');
    });
  });

  it('handles $ref, nullable, dates, numbers, arrays and booleans', () => {
    const validate = validator(claimSchema);
    const claimTruth = { decision: 'approve', amount: 120, dueDate: '2024-03-30', flags: ['vip'], note: null, urgent: false, handler: 'team-a' };
    const correct = buildAnswer({ kind: 'correct', truth: claimTruth, schema: claimSchema, confidence: 0.9, rng: createRng(3) });
    expect(correct.value).toEqual(claimTruth);
    expect(correct.carrierField).toBe('decision');
    const seen = new Set<string>();
    for (let seed = 0; seed < 300; seed++) {
      const wrong = buildAnswer({ kind: 'wrong', truth: claimTruth, schema: claimSchema, confidence: 0.5, rng: createRng(seed) });
      expect(validate(wrong.value)).toBe(true);
      expect(wrong.value).not.toEqual(claimTruth);
      seen.add(wrong.corruptedField!);
    }
    expect(seen).toEqual(new Set(Object.keys(claimTruth)));
  });

  it('drops truth fields the schema forbids and keeps them when it allows more', () => {
    const withExtra = { ...truth, internalNote: 'x' };
    expect(buildAnswer({ kind: 'correct', truth: withExtra, schema: triageSchema, confidence: 0.9, rng: createRng(1) }).value).not.toHaveProperty(
      'internalNote',
    );
    const open = { ...triageSchema, additionalProperties: true };
    expect(buildAnswer({ kind: 'correct', truth: withExtra, schema: open, confidence: 0.9, rng: createRng(1) }).value).toHaveProperty('internalNote', 'x');
  });

  it('answers the truth as is without a schema (json_object)', () => {
    const answer = buildAnswer({ kind: 'correct', truth, confidence: 0.9, rng: createRng(1) });
    expect(answer.value).toEqual(truth);
  });

  it('makes up a schema-valid decision without a truth', () => {
    const validate = validator(triageSchema);
    const categories = new Set<unknown>();
    for (let seed = 0; seed < 40; seed++) {
      const answer = buildAnswer({ kind: 'no-truth', truth: null, schema: triageSchema, confidence: 0.7, rng: createRng(seed) });
      expect(validate(answer.value)).toBe(true);
      expect(answer.value['confidence']).toBe(0.7);
      categories.add(answer.value['category']);
    }
    expect(categories.size).toBeGreaterThan(1);
  });

  it('puts a percentage in an integer 0-100 confidence', () => {
    const schema = { ...triageSchema, properties: { ...(triageSchema['properties'] as object), confidence: { type: 'integer', minimum: 0, maximum: 100 } } };
    expect(buildAnswer({ kind: 'correct', truth, schema, confidence: 0.874, rng: createRng(1) }).value['confidence']).toBe(87);
  });
});

describe('corruptValue', () => {
  const rng = createRng(9);
  it('moves numbers outside a tolerance, inside the bounds', () => {
    expect(corruptValue(100, { type: 'number' }, {}, rng)).toEqual({ ok: true, value: 137 });
    expect(corruptValue(100, { type: 'number', maximum: 120 }, {}, rng)).toEqual({ ok: true, value: 63 });
    expect(corruptValue(3, { type: 'integer', minimum: 1, maximum: 5 }, {}, rng)).toEqual({ ok: true, value: 5 });
    expect(corruptValue(4, { type: 'integer', minimum: 1, maximum: 5 }, {}, rng)).toEqual({ ok: true, value: 1 });
  });

  it('shifts dates by 3 to 40 days and keeps a date-time format', () => {
    for (let i = 0; i < 100; i++) {
      const r = corruptValue('2024-03-30', { type: 'string', format: 'date' }, {}, rng);
      const days = Math.abs(Date.parse(r.ok ? String(r.value) : '') - Date.parse('2024-03-30')) / 86_400_000;
      expect(days).toBeGreaterThanOrEqual(3);
      expect(days).toBeLessThanOrEqual(40);
    }
    const dt = corruptValue('2024-03-30T10:00:00Z', { type: 'string' }, {}, rng);
    expect(dt.ok && String(dt.value)).toMatch(/^\d{4}-\d{2}-\d{2}T10:00:00Z$/);
  });

  it('changes strings plausibly and refuses what cannot change', () => {
    const id = corruptValue('ORD-1234', { type: 'string' }, {}, rng);
    expect(id.ok && id.value).toMatch(/^ORD-123\d$/);
    expect(id.ok && id.value).not.toBe('ORD-1234');
    const sentence = corruptValue('Please refund me.', undefined, {}, rng);
    expect(sentence.ok && sentence.value).not.toBe('Please refund me.');
    expect(corruptValue(true, undefined, {}, rng)).toEqual({ ok: true, value: false });
    expect(corruptValue('only', { enum: ['only'] }, {}, rng)).toEqual({ ok: false });
  });
});

describe('malform', () => {
  const value = { category: 'billing', priority: 'high', reply: 'Hello there.', confidence: 0.9 };
  it('produces truncated JSON and schema violations, half each by default', () => {
    const validate = validator(triageSchema);
    const rng = createRng(5);
    const kinds: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const { content, kind } = malform(value, triageSchema, rng, 0.5);
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      if (kind === 'invalid-json') expect(() => JSON.parse(content)).toThrow();
      else expect(validate(JSON.parse(content))).toBe(false);
    }
    expect(kinds['invalid-json']).toBeGreaterThan(150);
    expect(kinds['invalid-json']).toBeLessThan(250);
    expect(kinds['missing-required']).toBeGreaterThan(40);
    expect(kinds['invalid-enum']).toBeGreaterThan(40);
  });

  it('truncates when there is no schema to violate', () => {
    expect(malform(value, undefined, createRng(1), 0).kind).toBe('invalid-json');
  });
});

describe('drawConfidence', () => {
  const params = { correctMean: 0.9, wrongMean: 0.6, spread: 0.1 };
  it('is higher for correct answers and clipped to [0.01, 0.999]', () => {
    const rng = createRng(11);
    const mean = (correct: boolean) => {
      let sum = 0;
      for (let i = 0; i < 2000; i++) sum += drawConfidence(rng, correct, params);
      return sum / 2000;
    };
    expect(mean(true)).toBeCloseTo(0.89, 1);
    expect(mean(false)).toBeCloseTo(0.6, 1);
    for (let i = 0; i < 500; i++) {
      const c = drawConfidence(rng, true, { correctMean: 0.99, wrongMean: 0.01, spread: 0.5 });
      expect(c).toBeGreaterThanOrEqual(0.01);
      expect(c).toBeLessThanOrEqual(0.999);
    }
  });
});

describe('tokens and logprobs', () => {
  const value = { category: 'technical', priority: 'high', reply: 'Grüße — we are on it.', confidence: 0.8 };

  it('tokenises into small tokens that join back to JSON.stringify', () => {
    const tokens = tokenizeJson(value);
    expect(tokens.map((t) => t.text).join('')).toBe(JSON.stringify(value));
    expect(Math.max(...tokens.map((t) => [...t.text].length))).toBeLessThanOrEqual(5);
    expect(tokens.filter((t) => t.field === 'category').map((t) => t.text)).toEqual(['tech', 'nica', 'l']);
    expect(splitTokens('a\nb  c').join('')).toBe('a\nb  c');
  });

  it('carries the confidence on the carrier value tokens only', () => {
    const tokens = tokenizeJson(value);
    const lp = withLogprobs(tokens, { carrier: 'category', confidence: 0.8, topLogprobs: 3, carrierAlternatives: ['billing', 'technical'] });
    const carrier = lp.filter((_, i) => tokens[i]!.field === 'category');
    expect(Math.exp(carrier.reduce((s, t) => s + t.logprob, 0))).toBeCloseTo(0.8, 10);
    expect(lp.filter((_, i) => tokens[i]!.field !== 'category').every((t) => t.logprob === CERTAIN_LOGPROB)).toBe(true);
    for (const t of lp) {
      expect(t.bytes).toEqual([...Buffer.from(t.token, 'utf8')]);
      expect(t.top_logprobs).toHaveLength(3);
      expect(t.top_logprobs[0]!.token).toBe(t.token);
      expect(t.top_logprobs[1]!.logprob).toBeLessThan(t.logprob);
      expect(t.top_logprobs[2]!.logprob).toBeLessThan(t.top_logprobs[1]!.logprob);
    }
    expect(carrier[0]!.top_logprobs[1]!.token).toBe('bill');
  });

  it('gives no top_logprobs when none are asked for', () => {
    expect(withLogprobs(tokenizeJson(value), { carrier: null, confidence: 0.5, topLogprobs: 0 })[0]!.top_logprobs).toEqual([]);
  });
});

describe('fill', () => {
  it('fills every schema type validly', () => {
    const value = fill(claimSchema, claimSchema, { mode: 'first' });
    expect(validator(claimSchema)(value)).toBe(true);
  });
});
