/**
 * The segment an item belongs to: the values of the workflow's segment attributes, in the
 * configured order, joined by "|" (e.g. channel,region → "email|eu").
 */
export type SegmentKeyResult = { ok: true; segment: string } | { ok: false; error: string };

export function segmentKey(segmentBy: string[], attributes: Record<string, string>): SegmentKeyResult {
  const values: string[] = [];
  for (const name of segmentBy) {
    const value = attributes[name];
    if (value === undefined || value.trim() === '') {
      return { ok: false, error: `attributes.${name} is required: it is part of the segment key (${segmentBy.join(',')})` };
    }
    if (value.includes('|')) return { ok: false, error: `attributes.${name} must not contain "|"` };
    values.push(value.trim().toLowerCase());
  }
  return { ok: true, segment: values.join('|') };
}
