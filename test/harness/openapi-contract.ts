import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/*
 * Real answers checked against the OpenAPI document the service serves (/docs-json): each answer's
 * status must be documented for its route, its content type must be one the route declares, and a
 * JSON body must validate against the declared schema — with no field the schema does not name.
 * The contract remembers which 2xx answers (route × content type) it has checked, so a test can
 * require that every documented one was.
 */

type Schema = Record<string, unknown>;

interface ResponseObject {
  description?: string;
  content?: Record<string, { schema?: Schema }>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses?: Record<string, ResponseObject> }>>;
  components?: { schemas?: Record<string, Schema> };
}

/** A route of the document, e.g. "GET /api/workflows/{workflow}/segments". */
export interface Operation {
  key: string;
  method: string;
  path: string;
  pattern: RegExp;
  responses: Record<string, ResponseObject>;
}

export interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);
const SCHEMA_ID = 'openapi';
/** OpenAPI 3.0 keywords that JSON Schema does not have; annotations only, except nullable (handled). */
const OPENAPI_ONLY = new Set(['nullable', 'example', 'xml', 'externalDocs', 'discriminator']);

/**
 * An OpenAPI 3.0 schema as JSON Schema for Ajv: `nullable: true` becomes "or null" (also around
 * a $ref or an enum, where adding "null" to `type` would not do), references point into the
 * components registered under SCHEMA_ID, and an object that names its properties allows no
 * others (unless it says additionalProperties), so an undocumented field fails validation.
 */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const s = node as Schema;
  if (typeof s.$ref === 'string') {
    const ref = { $ref: s.$ref.replace(/^#\/components\/schemas\//, `${SCHEMA_ID}#/definitions/`) };
    return s.nullable === true ? { anyOf: [ref, { type: 'null' }] } : ref;
  }
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (OPENAPI_ONLY.has(k)) continue;
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Schema).map(([name, p]) => [name, toJsonSchema(p)]));
    else if (k === 'items' || k === 'not' || (k === 'additionalProperties' && typeof v === 'object')) out[k] = toJsonSchema(v);
    else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') out[k] = (v as unknown[]).map(toJsonSchema);
    else out[k] = v;
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return s.nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
}

/** The media type of a content-type header: "text/csv; charset=utf-8" → "text/csv". */
const mediaType = (contentType: string | null) => (contentType ?? '').split(';')[0].trim().toLowerCase();

const escape = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');

export class OpenApiContract {
  readonly operations: Operation[];
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();
  /** "<operation> <status> <media type>" of every answer checked and found conforming. */
  private readonly seen = new Set<string>();

  constructor(doc: OpenApiDocument) {
    this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
    addFormats(this.ajv);
    const schemas = Object.entries(doc.components?.schemas ?? {}).map(([name, schema]) => [name, toJsonSchema(schema)]);
    this.ajv.addSchema({ $id: SCHEMA_ID, definitions: Object.fromEntries(schemas) });
    this.operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method]) => METHODS.has(method))
        .map(([method, op]) => ({
          key: `${method.toUpperCase()} ${path}`,
          method: method.toUpperCase(),
          path,
          pattern: new RegExp(
            `^${path
              .split(/\{[^}]+\}/)
              .map(escape)
              .join('[^/]+')}$`,
          ),
          responses: op.responses ?? {},
        })),
    );
  }

  /** The documented operation a request goes to (the most literal one when several match). */
  operationOf(method: string, url: string): Operation | null {
    const path = url.split('?')[0];
    const matches = this.operations.filter((o) => o.method === method.toUpperCase() && o.pattern.test(path));
    return matches.sort((a, b) => (a.path.match(/\{/g)?.length ?? 0) - (b.path.match(/\{/g)?.length ?? 0))[0] ?? null;
  }

  /** What is wrong with a real answer to a request, by the document; empty when it conforms. */
  problems(method: string, url: string, answer: Answer): string[] {
    const op = this.operationOf(method, url);
    if (!op) return [`${method} ${url} is not in the OpenAPI document`];
    const where = `${op.key} answered ${answer.status}`;
    const response = op.responses[String(answer.status)] ?? op.responses.default;
    if (!response) return [`${where}, a status the document does not give for it (it gives ${Object.keys(op.responses).join(', ')})`];
    const type = mediaType(answer.headers.get('content-type'));
    const declared = Object.keys(response.content ?? {});
    const content = Object.entries(response.content ?? {}).find(([t]) => mediaType(t) === type)?.[1];
    if (!content) return [`${where} as ${type || 'no content type'}; the document declares ${declared.join(', ') || 'no content'}`];
    if (!content.schema) return [`${where}: the document declares ${type} without a schema`];
    let body: unknown = answer.text;
    if (type === 'application/json' || type.endsWith('+json')) {
      try {
        body = JSON.parse(answer.text);
      } catch {
        return [`${where} with a body that is not JSON: ${answer.text.slice(0, 200)}`];
      }
    }
    const validate = this.validator(`${op.key} ${answer.status} ${type}`, content.schema);
    if (!validate(body)) {
      return (validate.errors ?? []).map(
        (e) => `${where}: ${e.instancePath || '(body)'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`,
      );
    }
    this.seen.add(`${op.key} ${answer.status} ${type}`);
    return [];
  }

  /** Operations that document no 2xx answer with a schema for each content type they declare. */
  undescribed(): string[] {
    return this.operations.flatMap((op) => {
      const ok = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
      if (ok.length === 0) return [`${op.key}: no 2xx response`];
      return ok.flatMap(([status, r]) => {
        const content = Object.entries(r.content ?? {});
        if (content.length === 0) return [`${op.key} ${status}: no content`];
        return content.filter(([, c]) => !c.schema).map(([type]) => `${op.key} ${status} ${type}: no schema`);
      });
    });
  }

  /** Documented 2xx answers (operation, status, content type) that no checked answer has shown. */
  unchecked(): string[] {
    return this.operations.flatMap((op) =>
      Object.entries(op.responses)
        .filter(([status]) => /^2\d\d$/.test(status))
        .flatMap(([status, r]) => Object.keys(r.content ?? {}).map((type) => `${op.key} ${status} ${mediaType(type)}`))
        .filter((k) => !this.seen.has(k)),
    );
  }

  private validator(key: string, schema: Schema): ValidateFunction {
    let v = this.validators.get(key);
    if (!v) {
      v = this.ajv.compile(toJsonSchema(schema) as Schema);
      this.validators.set(key, v);
    }
    return v;
  }
}
