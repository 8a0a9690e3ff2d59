import { UnleashAdminGateway } from '../../src/flags/unleash-admin.gateway';
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
  // What every test's flags rely on in the shared Unleash (the context fields), made once here:
  // test files run in parallel workers, and two of them creating a field at once could collide.
  await new UnleashAdminGateway({ url: stack.info.unleash.url, adminToken: stack.info.unleash.adminToken }).ensureSetup();
  process.env.US_STACK = JSON.stringify(stack.info);
  process.env.US_RUN_PID = String(process.pid);
  (globalThis as unknown as { __US_STACK__: typeof stack }).__US_STACK__ = stack;
  console.log(`[stack] ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
