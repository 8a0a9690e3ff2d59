import type { Stack } from './stack';

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as unknown as { __US_STACK__?: Stack }).__US_STACK__;
  if (stack) await stack.stop();
}
