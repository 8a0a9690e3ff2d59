/**
 * Command line of the demo (`npm run demo -- [options]`, or `node dist-tools/scripts/demo.js [options]`).
 * Pure: parsing only, so it is unit-tested without starting anything.
 */
export interface DemoOptions {
  /** Shorter gates, a faster work floor; stops by itself after the revert (exit 0) or on timeout (exit 1). */
  fast: boolean;
  /** The demo's own PostgreSQL database, dropped and re-created with the migrations on every run. */
  database: string;
  /** HTTP port of the service; null: 3000, or a free port when 3000 is taken. 0: any free port. */
  port: number | null;
  /** Port of the Unleash server: one already running there (with the local stack's tokens) is reused. */
  unleashPort: number;
  /** Appended to the workflow names and the kill switch flag, so two demos can share one Unleash. */
  suffix: string | null;
  /** Work items per second the simulated work floor publishes (null: the mode's default). */
  rate: number | null;
  /** Give up after this many seconds without finishing (null: the mode's default; 0: never). */
  timeoutSeconds: number | null;
  /** Written once everything is up: URLs, tokens, names — for scripts and the e2e test. */
  stateFile: string | null;
  /** After finishing (fast mode), keep everything running until stdin closes (for the e2e test). */
  hold: boolean;
  /** Model name written into the workflows (default: as in the workflows file). */
  model: string | null;
  help: boolean;
}

export const DEMO_USAGE = `usage: npm run demo -- [options]      (or: node dist-tools/scripts/demo.js [options])

Runs Understudy on the local stack with a simulated work floor: support tickets and invoices
flow in, simulated people decide them, the AI runs in shadow beside them, and one segment
climbs shadow → supervised → confidence-routed (with a program manager's approval) until the
model drifts and the regression guard reverts it. Ctrl-C stops everything the demo started.

options:
  --fast                 short gates and a faster work floor; exits by itself after the revert
                         (code 0) or with code 1 and the reason on timeout
  --database <name>      its own database in the local PostgreSQL, re-created on every run
                         (default understudy_demo)
  --port <n>             HTTP port of the service (default 3000, or a free one if 3000 is taken;
                         0 for any free port)
  --unleash-port <n>     Unleash port (default 4242; an Unleash already running there is reused)
  --suffix <s>           appended to the workflow names and the kill switch flag, so the demo's
                         flags do not collide with another demo's in a shared Unleash
  --rate <n>             work items per second (default 30; 40 with --fast; 2 with a real model)
  --timeout <seconds>    give up after this long (default: none; 300 with --fast)
  --model <name>         model name for both workflows (default gpt-4o-mini, as in the file)
  --state-file <path>    write URLs, tokens and names as JSON once everything is up
  --hold                 after finishing, keep running until stdin closes (used by the e2e test)
  -h, --help             this text

A real model: with MODEL_BASE_URL and MODEL_API_KEY in the environment (any OpenAI-compatible
endpoint), the demo sends the work to it instead of the model simulator (no drift phase then).`;

export class DemoUsageError extends Error {}

const NAME = /^[a-z0-9_]{1,50}$/;
const SUFFIX = /^[a-z0-9]{1,16}$/;

export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  const o: DemoOptions = {
    fast: false,
    database: 'understudy_demo',
    port: null,
    unleashPort: 4242,
    suffix: null,
    rate: null,
    timeoutSeconds: null,
    stateFile: null,
    hold: false,
    model: null,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new DemoUsageError(`${flag} needs a value`);
      return v;
    };
    const number = (min: number, max: number): number => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isFinite(n) || n < min || n > max) throw new DemoUsageError(`${flag} must be a number from ${min} to ${max}, got ${raw}`);
      return n;
    };
    const port = (): number => {
      const n = number(0, 65535);
      if (!Number.isInteger(n)) throw new DemoUsageError(`${flag} must be a whole port number`);
      return n;
    };
    switch (flag) {
      case '--fast':
        o.fast = true;
        break;
      case '--database': {
        const v = value();
        if (!NAME.test(v)) throw new DemoUsageError(`--database must be lower-case letters, digits and _ (at most 50), got ${v}`);
        if (/^(postgres|template[01]|understudy_unleash|understudy_tpl_.*|understudy_t_.*)$/.test(v)) {
          throw new DemoUsageError(`--database ${v} belongs to something else; the demo drops and re-creates its database`);
        }
        o.database = v;
        break;
      }
      case '--port':
        o.port = port();
        break;
      case '--unleash-port': {
        const p = port();
        if (p === 0) throw new DemoUsageError('--unleash-port must not be 0');
        o.unleashPort = p;
        break;
      }
      case '--suffix': {
        const v = value();
        if (!SUFFIX.test(v)) throw new DemoUsageError(`--suffix must be 1-16 lower-case letters or digits, got ${v}`);
        o.suffix = v;
        break;
      }
      case '--rate':
        o.rate = number(0.1, 1000);
        break;
      case '--timeout':
        o.timeoutSeconds = number(0, 86_400);
        break;
      case '--state-file':
        o.stateFile = value();
        break;
      case '--hold':
        o.hold = true;
        break;
      case '--model':
        o.model = value();
        break;
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        throw new DemoUsageError(`unknown argument ${arg}`);
    }
  }
  return o;
}
