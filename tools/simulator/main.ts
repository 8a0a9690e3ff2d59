/**
 * CLI of the MODEL SIMULATOR (see model-simulator.ts):
 *
 *   node dist-tools/tools/simulator/main.js [--port 4010] [--host 127.0.0.1] [--scenario file.json] [--log-requests]
 *
 * The scenario file is either one scenario (it becomes the default for every model) or
 * `{"default": {...scenario...}, "models": {"<model name>": {...scenario...}}}`.
 * Stops cleanly on SIGTERM / SIGINT.
 */
import { readFileSync } from 'node:fs';
import { ModelSimulator } from './model-simulator';
import { ScenarioError, isPlainObject } from './scenario';

interface CliOptions {
  port: number;
  host: string;
  scenarioFile?: string;
  logRequests: boolean;
}

const USAGE =
  'usage: main.js [--port 4010] [--host 127.0.0.1] [--scenario file.json] [--log-requests]\n' +
  'Starts the MODEL SIMULATOR, an OpenAI-compatible server for tests and demos (not a model).';

export function parseArgs(argv: readonly string[]): CliOptions {
  const opts: CliOptions = { port: 4010, host: '127.0.0.1', logRequests: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535`);
        opts.port = port;
        break;
      }
      case '--host':
        opts.host = value();
        break;
      case '--scenario':
        opts.scenarioFile = value();
        break;
      case '--log-requests':
        opts.logRequests = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  return opts;
}

function loadScenarios(file: string): { default?: unknown; models: Record<string, unknown> } {
  const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (isPlainObject(data) && ('default' in data || 'models' in data)) {
    const models = data['models'] ?? {};
    if (!isPlainObject(models)) throw new Error(`${file}: "models" must be an object of model name → scenario`);
    return { default: data['default'], models };
  }
  return { default: data, models: {} };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const scenarios = opts.scenarioFile ? loadScenarios(opts.scenarioFile) : { models: {} };
  const simulator = new ModelSimulator({
    port: opts.port,
    host: opts.host,
    defaultScenario: scenarios.default as Record<string, unknown> | undefined,
    log: (line) => console.log(line),
    logRequests: opts.logRequests,
  });
  for (const [model, scenario] of Object.entries(scenarios.models)) simulator.setScenario(model, scenario);
  const { url } = await simulator.start();
  console.log(`MODEL SIMULATOR listening on ${url}`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`MODEL SIMULATOR stopping (${signal})`);
    simulator.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('MODEL SIMULATOR failed to stop cleanly:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    const message = err instanceof ScenarioError || err instanceof Error ? err.message : String(err);
    console.error(`MODEL SIMULATOR could not start: ${message}\n${USAGE}`);
    process.exit(1);
  });
}
