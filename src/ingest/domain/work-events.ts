import { z } from 'zod';

/**
 * The events Understudy consumes, exactly as documented in the README's event schemas. Strict where
 * it matters (every documented field is checked), tolerant where producers evolve: a field this
 * version does not know is ignored, not a reason to dead-letter the event (`ignoredFields` names it).
 */

const id = (what: string) => z.string().min(1, `${what} must not be empty`).max(200, `${what} is longer than 200 characters`);
const isoTime = z.iso.datetime({ offset: true, message: 'an ISO-8601 date-time with a time zone, e.g. 2026-11-23T10:00:00Z' });
const jsonObject = z.record(z.string(), z.unknown());

export const workItemEventSchema = z.object({
  eventId: id('eventId'),
  workflow: id('workflow'),
  itemId: id('itemId'),
  attributes: z.record(z.string().max(100), z.string().max(200)).default({}),
  input: jsonObject,
  occurredAt: isoTime,
});
export type WorkItemEvent = z.infer<typeof workItemEventSchema>;

export const workDecisionEventSchema = z
  .object({
    eventId: id('eventId'),
    workflow: id('workflow'),
    itemId: id('itemId'),
    decision: jsonObject,
    actor: id('actor'),
    decidedAt: isoTime,
    kind: z.enum(['independent', 'review']),
    aiDecisionId: z.union([z.number().int().positive(), z.string().regex(/^[1-9][0-9]{0,17}$/, 'a positive integer')]).optional(),
    verdict: z.enum(['accepted', 'overridden']).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.kind === 'review' && !e.verdict) {
      ctx.addIssue({ code: 'custom', path: ['verdict'], message: 'is required when kind is "review" (accepted or overridden)' });
    }
    if (e.kind === 'independent' && e.verdict) {
      ctx.addIssue({ code: 'custom', path: ['verdict'], message: 'only applies when kind is "review"' });
    }
  });
export type WorkDecisionEvent = z.infer<typeof workDecisionEventSchema>;

export type Validated<T> = { ok: true; event: T; ignoredFields: string[] } | { ok: false; reason: string };

export function validateEvent<T>(schema: z.ZodType<T>, value: unknown, name: string): Validated<T> {
  const r = schema.safeParse(value);
  if (r.success) {
    const known = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
    const ignoredFields = value && typeof value === 'object' ? Object.keys(value).filter((k) => !known.includes(k)) : [];
    return { ok: true, event: r.data, ignoredFields };
  }
  const problems = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  const more = r.error.issues.length > 5 ? ` (+${r.error.issues.length - 5} more)` : '';
  return { ok: false, reason: `not a valid ${name} event: ${problems.join('; ')}${more}` };
}
