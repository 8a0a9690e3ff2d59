import { prepareTemplate } from './postgres';
import { startStack } from './stack';

/**
 * jest globalSetup for integration tests: starts what is missing of the local stack, prepares
 * the migrated template database, and hands the addresses to the test workers in US_STACK.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const stack = await startStack({ reuse: false, log: (l) => console.log(`[stack] ${l}`) });
  await prepareTemplate(stack.info.postgres);
  process.env.US_STACK = JSON.stringify(stack.info);
  process.env.US_RUN_PID = String(process.pid);
  (globalThis as unknown as { __US_STACK__: typeof stack }).__US_STACK__ = stack;
  console.log(`[stack] ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
