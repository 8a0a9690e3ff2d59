/**
 * Removes configured fields from an item's input before anything is sent to the model.
 * Paths are dot paths; "*" matches every key of an object or every element of an array.
 * A redacted value is replaced by a marker so the model knows something was withheld.
 */
export const REDACTED = '[redacted]';

export function redact<T>(input: T, paths: string[]): T {
  if (paths.length === 0) return input;
  const copy = structuredClone(input);
  for (const path of paths) redactPath(copy, path.split('.'));
  return copy;
}

function redactPath(node: unknown, parts: string[]): void {
  if (node === null || typeof node !== 'object' || parts.length === 0) return;
  const [head, ...rest] = parts;
  const container = node as Record<string, unknown>;
  const keys = head === '*' ? Object.keys(container) : Object.prototype.hasOwnProperty.call(container, head) ? [head] : [];
  for (const key of keys) {
    if (rest.length === 0) container[key] = REDACTED;
    else redactPath(container[key], rest);
  }
}
