/** A short, bounded label for a refusal reason (for metrics; the full reason goes with the message). */
export function reasonClass(reason: string): string {
  if (reason.startsWith('empty message')) return 'empty';
  if (reason.startsWith('message too large')) return 'too_large';
  if (reason.startsWith('not valid UTF-8')) return 'invalid_utf8';
  if (reason.startsWith('nested too deeply')) return 'too_deep';
  if (reason.startsWith('not JSON')) return 'not_json';
  if (reason.includes('cannot be stored') || reason.includes('unpaired UTF-16')) return 'unstorable_text';
  if (reason.startsWith('not a valid')) return 'schema';
  if (reason.startsWith('unknown workflow')) return 'unknown_workflow';
  if (reason.includes('part of the segment key') || reason.includes('must not contain "|"')) return 'segment';
  if (reason.startsWith('decision.')) return 'decision_fields';
  if (reason.startsWith('could not be stored')) return 'storage';
  return 'other';
}
