import { z } from 'zod';
import { workflowFileSchema } from './workflow-file';

/**
 * The JSON Schema of the workflows file, generated from its zod definition (workflow-file.ts,
 * workflow-definition.ts) so that editors, docs/workflows.md and the loader cannot disagree.
 * Written to schemas/workflows.schema.json by `npm run workflows:schema`.
 */
export type JsonSchema = { [keyword: string]: unknown };

export const WORKFLOWS_SCHEMA_PATH = 'schemas/workflows.schema.json';

/** The schema with the descriptions as written in the zod definition. */
export function baseWorkflowFileJsonSchema(): JsonSchema {
  return z.toJSONSchema(workflowFileSchema, {
    // The file is what people write: a field with a default may be left out.
    io: 'input',
    target: 'draft-2020-12',
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def;
      // The service drops keys it does not know without a word; an editor should flag them as the
      // misspellings they almost always are. The top level stays open, for YAML anchors.
      if (def.type === 'object' && (def as z.core.$ZodObjectDef).catchall === undefined) jsonSchema.additionalProperties = false;
    },
  }) as JsonSchema;
}

/**
 * The schema as checked in: each field's description ends with its default and limits, since an
 * editor's hover shows the description alone.
 */
export function workflowFileJsonSchema(): JsonSchema {
  const schema = baseWorkflowFileJsonSchema();
  forEachField(schema, (field, required) => {
    const facts = [
      required ? 'Required.' : defaultText(field) ? `Default: ${defaultText(field)}.` : '',
      limitsText(field) ? `Limits: ${limitsText(field)}.` : '',
    ]
      .filter(Boolean)
      .join(' ');
    if (facts) field.description = `${field.description ?? ''} ${facts}`.trim();
  });
  return schema;
}

export function workflowFileJsonSchemaText(): string {
  return `${JSON.stringify(workflowFileJsonSchema(), null, 2)}\n`;
}

/**
 * Calls `visit` for every field of the file: each property of an object, each map value of a
 * record and each property of a union's branches, at any depth. Free-form values (a decision's
 * own JSON Schema) are fields, not containers.
 */
export function forEachField(schema: JsonSchema, visit: (field: JsonSchema, required: boolean, path: string) => void, path = ''): void {
  for (const [key, field, required] of childrenOf(schema)) {
    const at = path ? `${path}.${key}` : key;
    visit(field, required, at);
    forEachField(field, visit, at);
  }
  for (const branch of asSchemas(schema.oneOf)) forEachField(branch, visit, path);
  if (isSchema(schema.items)) forEachField(schema.items, visit, `${path}[]`);
}

/** The fields directly inside a schema: [key, schema, required]; a record's values are under `*`. */
export function childrenOf(schema: JsonSchema): Array<[string, JsonSchema, boolean]> {
  const out: Array<[string, JsonSchema, boolean]> = [];
  if (isRecord(schema)) {
    if (isSchema(schema.additionalProperties) && Object.keys(schema.additionalProperties).length > 0) out.push(['*', schema.additionalProperties, false]);
    return out;
  }
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  for (const [key, field] of Object.entries(isSchema(schema.properties) ? schema.properties : {})) {
    if (isSchema(field)) out.push([key, field, required.has(key)]);
  }
  return out;
}

/** A map with keys of the user's choosing (comparator.fields, decision.schema), as zod emits z.record. */
export function isRecord(schema: JsonSchema): boolean {
  return schema.propertyNames !== undefined;
}

/** The default as it would be written in YAML ('' when there is none). */
export function defaultText(schema: JsonSchema): string {
  if (!('default' in schema)) return '';
  const value = schema.default;
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}]`;
  if (value !== null && typeof value === 'object') return Object.keys(value).length === 0 ? '{}' : 'every field at its default';
  return JSON.stringify(value);
}

/** The limits a value must keep, in words ('' when it has none). */
export function limitsText(schema: JsonSchema): string {
  const parts: string[] = [];
  const bound = (strictKey: string, key: string, unbounded: number): { value: number; strict: boolean } | null => {
    if (typeof schema[strictKey] === 'number') return { value: schema[strictKey] as number, strict: true };
    // zod bounds every integer by the safe range: no limit worth stating.
    return typeof schema[key] === 'number' && schema[key] !== unbounded ? { value: schema[key] as number, strict: false } : null;
  };
  const min = bound('exclusiveMinimum', 'minimum', Number.MIN_SAFE_INTEGER);
  const max = bound('exclusiveMaximum', 'maximum', Number.MAX_SAFE_INTEGER);
  if (min && max) parts.push(`${min.value} ${min.strict ? '<' : '≤'} x ${max.strict ? '<' : '≤'} ${max.value}`);
  else if (min) parts.push(`${min.strict ? '>' : '≥'} ${min.value}`);
  else if (max) parts.push(`${max.strict ? '<' : '≤'} ${max.value}`);
  if (typeof schema.minLength === 'number') parts.push(schema.minLength === 1 ? 'not empty' : `at least ${schema.minLength} characters`);
  if (typeof schema.maxLength === 'number') parts.push(`at most ${schema.maxLength} characters`);
  if (typeof schema.pattern === 'string') parts.push(`matches /${schema.pattern}/`);
  if (typeof schema.minItems === 'number') parts.push(`at least ${schema.minItems} ${schema.minItems === 1 ? 'entry' : 'entries'}`);
  if (schema.uniqueItems === true) parts.push('no repeats');
  if (isSchema(schema.contains) && 'const' in schema.contains) parts.push(`contains ${JSON.stringify(schema.contains.const)}`);
  if (typeof schema.minProperties === 'number') parts.push(`at least ${schema.minProperties} ${schema.minProperties === 1 ? 'entry' : 'entries'}`);
  if (isRecord(schema) && Array.isArray(schema.required)) {
    const props = isSchema(schema.properties) ? schema.properties : {};
    parts.push(
      `has ${(schema.required as string[])
        .map((key) => {
          const p = props[key];
          return isSchema(p) && 'const' in p ? `${key}: ${String(p.const)}` : key;
        })
        .join(' and ')}`,
    );
  }
  if (isSchema(schema.items)) {
    const each = limitsText(schema.items);
    if (each) parts.push(`each ${each}`);
  }
  return parts.join('; ');
}

export function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asSchemas(value: unknown): JsonSchema[] {
  return Array.isArray(value) ? value.filter(isSchema) : [];
}

let cachedSchema: JsonSchema | null = null;

/**
 * Keys of a workflows document the schema does not know, as paths (workflows[0].rollout.gates.supervised.minSamples).
 * The service drops them without a word, so a misspelt optional field leaves its default in force.
 */
export function unknownKeys(doc: unknown, schema: JsonSchema = (cachedSchema ??= baseWorkflowFileJsonSchema()), path = ''): string[] {
  if (Array.isArray(doc)) return isSchema(schema.items) ? doc.flatMap((item, i) => unknownKeys(item, schema.items as JsonSchema, `${path}[${i}]`)) : [];
  if (!isSchema(doc)) return [];
  const at = (key: string) => (path ? `${path}.${key}` : key);
  const branches = asSchemas(schema.oneOf);
  if (branches.length > 0) {
    // The branch whose discriminator the value names; with none, the loader reports the discriminator.
    const branch = branches.find((b) =>
      Object.entries(isSchema(b.properties) ? b.properties : {}).every(([k, p]) => !isSchema(p) || !('const' in p) || doc[k] === p.const),
    );
    return branch ? unknownKeys(doc, branch, path) : [];
  }
  if (isRecord(schema)) {
    const value = schema.additionalProperties;
    return isSchema(value) && Object.keys(value).length > 0 ? Object.keys(doc).flatMap((key) => unknownKeys(doc[key], value, at(key))) : [];
  }
  const properties = isSchema(schema.properties) ? schema.properties : {};
  return Object.keys(doc).flatMap((key) => {
    const field = properties[key];
    if (isSchema(field)) return unknownKeys(doc[key], field, at(key));
    return schema.additionalProperties === false ? [at(key)] : [];
  });
}
