import { OpenApiContract, toJsonSchema } from './openapi-contract';

const json = (body: unknown, status = 200, type = 'application/json; charset=utf-8') => ({
  status,
  text: JSON.stringify(body),
  headers: new Headers({ 'content-type': type }),
});

/** A document shaped like the one @nestjs/swagger writes: nullable refs as allOf, error answers by status. */
const doc = {
  paths: {
    '/api/segments/{segment}': {
      get: {
        responses: {
          '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Segment' } } } },
          '404': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        },
      },
    },
    '/api/segments/{segment}/history': {
      get: { responses: { '200': { content: { 'application/json': { schema: { type: 'array', items: { type: 'string' } } } } } } },
    },
    '/api/report': {
      get: {
        responses: {
          '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Segment' } }, 'text/csv': { schema: { type: 'string' } } } },
        },
      },
    },
    '/api/undescribed': { post: { responses: { '201': { description: '' } } } },
  },
  components: {
    schemas: {
      Split: { type: 'object', properties: { stage: { type: 'string', enum: ['shadow', 'supervised'] } }, required: ['stage'] },
      Segment: {
        type: 'object',
        properties: {
          name: { type: 'string', example: 'email|eu' },
          pauseKind: { type: 'string', enum: ['hold', 'guard'], nullable: true },
          pending: { nullable: true, type: 'object', allOf: [{ $ref: '#/components/schemas/Split' }] },
          details: { type: 'object', additionalProperties: true },
          at: { type: 'string', format: 'date-time' },
        },
        required: ['name', 'pauseKind', 'pending', 'details', 'at'],
      },
      Error: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' } }, required: ['code'] } }, required: ['error'] },
    },
  },
};

const segment = { name: 'email|eu', pauseKind: null, pending: null, details: { any: ['thing'] }, at: '2026-01-02T03:04:05.000Z' };

describe('an OpenAPI 3.0 schema read as JSON Schema', () => {
  it('allows null where nullable says so, also around a reference and an enum', () => {
    expect(toJsonSchema({ type: 'string', enum: ['a'], nullable: true })).toEqual({ anyOf: [{ type: 'string', enum: ['a'] }, { type: 'null' }] });
    expect(toJsonSchema({ nullable: true, type: 'object', allOf: [{ $ref: '#/components/schemas/X' }] })).toEqual({
      anyOf: [{ type: 'object', allOf: [{ $ref: 'openapi#/definitions/X' }] }, { type: 'null' }],
    });
  });

  it('allows no property an object does not name, unless it says additionalProperties', () => {
    expect(toJsonSchema({ type: 'object', properties: { required: { type: 'number' } }, required: ['required'] })).toEqual({
      type: 'object',
      properties: { required: { type: 'number' } },
      required: ['required'],
      additionalProperties: false,
    });
    expect(toJsonSchema({ type: 'object', additionalProperties: { type: 'number' } })).toEqual({ type: 'object', additionalProperties: { type: 'number' } });
  });
});

describe('real answers checked against the document', () => {
  it('accepts an answer that matches its schema, nulls and free-form objects included', () => {
    const c = new OpenApiContract(doc);
    expect(c.problems('GET', '/api/segments/email%7Ceu', json(segment))).toEqual([]);
    expect(c.problems('GET', '/api/segments/x', json({ ...segment, pauseKind: 'hold', pending: { stage: 'supervised' } }))).toEqual([]);
  });

  it('refuses a missing field, a wrong value, a field the schema does not name and a nested one', () => {
    const c = new OpenApiContract(doc);
    const { at: _at, ...withoutAt } = segment;
    expect(c.problems('GET', '/api/segments/x', json(withoutAt)).join()).toContain("must have required property 'at'");
    expect(c.problems('GET', '/api/segments/x', json({ ...segment, pauseKind: 'later' })).join()).toContain('/pauseKind');
    expect(c.problems('GET', '/api/segments/x', json({ ...segment, at: 'yesterday' })).join()).toContain('must match format "date-time"');
    expect(c.problems('GET', '/api/segments/x', json({ ...segment, extra: 1 })).join()).toContain('must NOT have additional properties');
    expect(c.problems('GET', '/api/segments/x', json({ ...segment, pending: { stage: 'shadow', pct: 5 } })).join()).toContain('/pending');
  });

  it('refuses a status or a content type the route does not declare, and a route the document lacks', () => {
    const c = new OpenApiContract(doc);
    expect(c.problems('GET', '/api/segments/x', json({ error: { code: 'X' } }, 500)).join()).toContain('a status the document does not give');
    expect(c.problems('GET', '/api/segments/x', { status: 200, text: 'a,b', headers: new Headers({ 'content-type': 'text/csv' }) }).join()).toContain(
      'as text/csv',
    );
    expect(c.problems('GET', '/api/nowhere', json({})).join()).toContain('is not in the OpenAPI document');
    expect(c.problems('GET', '/api/segments/x', json({ error: { code: 'NOT_FOUND' } }, 404))).toEqual([]);
  });

  it('goes to the most literal route when templates overlap', () => {
    const c = new OpenApiContract(doc);
    expect(c.operationOf('GET', '/api/segments/x/history?limit=3')?.key).toBe('GET /api/segments/{segment}/history');
    expect(c.operationOf('GET', '/api/segments/history')?.key).toBe('GET /api/segments/{segment}');
  });

  it('lists routes without a 2xx schema, and documented 2xx answers no check has shown yet', () => {
    const c = new OpenApiContract(doc);
    expect(c.undescribed()).toEqual(['POST /api/undescribed 201: no content']);
    expect(c.unchecked()).toEqual([
      'GET /api/segments/{segment} 200 application/json',
      'GET /api/segments/{segment}/history 200 application/json',
      'GET /api/report 200 application/json',
      'GET /api/report 200 text/csv',
    ]);
    c.problems('GET', '/api/segments/x', json(segment));
    c.problems('GET', '/api/report', { status: 200, text: 'key,n\r\n', headers: new Headers({ 'content-type': 'text/csv; charset=utf-8' }) });
    c.problems('GET', '/api/segments/x/history', json([1])); // not conforming: not counted
    expect(c.unchecked()).toEqual(['GET /api/segments/{segment}/history 200 application/json', 'GET /api/report 200 application/json']);
  });
});
