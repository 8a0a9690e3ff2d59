#!/usr/bin/env node
/* eslint-disable no-console */
'use strict';

/**
 * Starts the real unleash-server (6.10.x, runs on Node 20) for tests and the demo.
 *
 *   node test/harness/unleash-main.js [--port 4242] [--host 127.0.0.1] [--database understudy_unleash]
 *        [--pg-url postgres://postgres@127.0.0.1:5432/postgres] [--admin-token S] [--client-token S]
 *        [--state-file PATH]
 *
 * Each flag can also come from the environment: UNLEASH_HARNESS_PORT, _HOST, _DATABASE, _PG_URL,
 * _ADMIN_TOKEN, _CLIENT_TOKEN, _STATE_FILE (read first; every other DATABASE_*, UNLEASH_*, HTTP_*,
 * LOG_LEVEL … variable is then removed, because unleash-server reads those names itself and the
 * service's own DATABASE_URL / HTTP_PORT / LOG_LEVEL must not leak into it).
 *
 * Tokens are real API tokens, not auth type "none":
 *  - admin  (all projects, all environments)  secret `*:*.<hex>`
 *  - client (project default, env development) secret `default:development.<hex>`
 * Their secrets are stable per database: taken from the flags, else from the state file
 * (<repo>/.stack/unleash/<database>.tokens.json), else generated once and written there.
 * Unleash's `authentication.initApiTokens` only inserts tokens into an EMPTY api_tokens table
 * (ApiTokenService.initApiTokens returns early when count() > 0), so on a reused database the
 * harness checks after start that each secret is known and inserts the missing ones through
 * Unleash's own ApiTokenService (same code path initApiTokens uses, with an audit event).
 *
 * People log in to the UI with the default admin user (admin / unleash4all), created by Unleash
 * when the users table is empty.
 *
 * Prints `UNLEASH READY http://127.0.0.1:<port>` once /health answers and both tokens are accepted.
 * SIGTERM / SIGINT stop it gracefully (unleash-server's own handler).
 */

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const HARNESS_ENV_PREFIX = 'UNLEASH_HARNESS_';

// Unleash's migrator triggers pg's "client.query() while already executing" deprecation: not ours to fix.
process.noDeprecation = true;

function findRepoRoot(start) {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
    } else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`missing value for ${a}`);
      out[a.slice(2)] = v;
      i++;
    }
  }
  return out;
}

function readOptions() {
  const args = parseArgs(process.argv.slice(2));
  const env = (name) => process.env[HARNESS_ENV_PREFIX + name];
  const pick = (arg, name, dflt) => args[arg] ?? env(name) ?? dflt;
  const repoRoot = findRepoRoot(__dirname);
  const database = pick('database', 'DATABASE', 'understudy_unleash');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) {
    throw new Error(`database name must be a plain lower-case identifier, got ${JSON.stringify(database)}`);
  }
  const port = Number(pick('port', 'PORT', '4242'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port ${port}`);
  return {
    repoRoot,
    port,
    host: pick('host', 'HOST', '127.0.0.1'),
    database,
    pgUrl: pick('pg-url', 'PG_URL', 'postgres://postgres@127.0.0.1:5432/postgres'),
    adminToken: pick('admin-token', 'ADMIN_TOKEN', undefined),
    clientToken: pick('client-token', 'CLIENT_TOKEN', undefined),
    stateFile: pick('state-file', 'STATE_FILE', path.join(repoRoot, '.stack', 'unleash', `${database}.tokens.json`)),
  };
}

/** unleash-server reads many variables itself; only what this file passes explicitly may count. */
function scrubEnvironment() {
  const prefixes = ['DATABASE_', 'UNLEASH_', 'INIT_', 'AUTH_', 'HTTP_', 'CSP_', 'EMAIL_', 'IMPORT_', 'EXPERIMENTAL_'];
  const exact = ['PORT', 'LOG_LEVEL', 'BASE_URI_PATH', 'CDN_PREFIX', 'ENABLED_ENVIRONMENTS', 'SECURE_HEADERS', 'OPENAI_API_KEY', 'GOOGLE_AUTH_ENABLED'];
  for (const key of Object.keys(process.env)) {
    if (exact.includes(key) || prefixes.some((p) => key.startsWith(p))) delete process.env[key];
  }
  // telemetry: createConfig does `options.telemetry || parseEnvVarBoolean(SEND_TELEMETRY, true)`,
  // so passing `telemetry: false` alone is NOT enough; the variable must say false.
  process.env.SEND_TELEMETRY = 'false';
  process.env.CHECK_VERSION = 'false';
  // NODE_ENV=test (set by jest) changes how Unleash resolves its edition; run it as a normal server.
  process.env.NODE_ENV = 'production';
}

function resolveTokens(opts) {
  let state = {};
  if (fs.existsSync(opts.stateFile)) {
    try {
      state = JSON.parse(fs.readFileSync(opts.stateFile, 'utf8'));
    } catch (e) {
      throw new Error(`unreadable token state file ${opts.stateFile}: ${e.message}`);
    }
  }
  const adminToken = opts.adminToken || state.adminToken || `*:*.${crypto.randomBytes(24).toString('hex')}`;
  const clientToken = opts.clientToken || state.clientToken || `default:development.${crypto.randomBytes(24).toString('hex')}`;
  // Only tokens that came from the state file or were generated here are remembered there;
  // tokens passed explicitly belong to whoever passed them.
  if (!opts.adminToken && !opts.clientToken && (state.adminToken !== adminToken || state.clientToken !== clientToken)) {
    fs.mkdirSync(path.dirname(opts.stateFile), { recursive: true });
    // Written whole or not at all: whoever started this process reads the file while it starts.
    const partial = `${opts.stateFile}.${process.pid}.tmp`;
    fs.writeFileSync(partial, JSON.stringify({ database: opts.database, adminToken, clientToken, createdAt: new Date().toISOString() }, null, 2), {
      mode: 0o600,
    });
    fs.renameSync(partial, opts.stateFile);
  }
  return { adminToken, clientToken };
}

async function ensureDatabase(pgUrl, database) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: pgUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${database}"`);
        return true;
      } catch (e) {
        if (e && e.code === '42P04') return false; // created concurrently by another starter
        throw e;
      }
    }
    return false;
  } finally {
    await client.end();
  }
}

function dbOptions(pgUrl, database) {
  const u = new URL(pgUrl);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password || ''),
    database,
    ssl: false,
    schema: 'public',
    applicationName: 'unleash-understudy-harness',
    pool: { min: 0, max: 6 },
  };
}

function tokenDefinitions(tokens) {
  return [
    {
      secret: tokens.adminToken,
      type: 'admin',
      projects: ['*'],
      environment: '*',
      tokenName: 'understudy-admin',
    },
    {
      secret: tokens.clientToken,
      type: 'client',
      projects: ['default'],
      environment: 'development',
      tokenName: 'understudy-client',
    },
  ];
}

/** initApiTokens is a no-op on a non-empty api_tokens table: insert whatever is missing. */
async function ensureTokens(unleash, definitions, log) {
  const { SYSTEM_USER_AUDIT } = require('unleash-server/dist/lib/types');
  const service = unleash.services.apiTokenService;
  const existing = await service.getAllTokens();
  for (const def of definitions) {
    const found = existing.find((t) => t.secret === def.secret);
    if (found) {
      if (found.type !== def.type) {
        throw new Error(`token ${def.tokenName} exists with type ${found.type}, expected ${def.type}`);
      }
      if (found.expiresAt && new Date(found.expiresAt).getTime() < Date.now()) {
        throw new Error(`token ${def.tokenName} has expired (${found.expiresAt}); delete it or the state file`);
      }
      continue;
    }
    await service.insertNewApiToken(def, SYSTEM_USER_AUDIT);
    log(`inserted missing ${def.type} token ${def.tokenName} into the reused database`);
  }
}

async function probe(url, headers) {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

async function waitUntilServing(base, tokens, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = await probe(`${base}/health`, {});
    const admin = health === 200 ? await probe(`${base}/api/admin/projects`, { Authorization: tokens.adminToken }) : 0;
    const client = admin === 200 ? await probe(`${base}/api/client/features`, { Authorization: tokens.clientToken }) : 0;
    if (health === 200 && admin === 200 && client === 200) return;
    if (Date.now() > deadline) {
      throw new Error(`Unleash did not serve in time: /health ${health}, admin token ${admin}, client token ${client}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main() {
  const opts = readOptions();
  scrubEnvironment();
  const t0 = Date.now();
  const log = (msg) => console.log(`[unleash-harness] ${msg}`);

  const tokens = resolveTokens(opts);
  const created = await ensureDatabase(opts.pgUrl, opts.database);
  log(created ? `created database ${opts.database}; first start migrates it (this takes a while)` : `reusing database ${opts.database}`);

  const unleashServer = require('unleash-server');
  const definitions = tokenDefinitions(tokens);
  const publicUrl = `http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${opts.port}`;
  const unleash = await unleashServer.start({
    db: dbOptions(opts.pgUrl, opts.database),
    server: {
      port: opts.port,
      host: opts.host,
      unleashUrl: publicUrl,
      gracefulShutdownEnable: true,
      enableRequestLogger: false,
    },
    logLevel: 'warn',
    versionCheck: { enable: false },
    telemetry: false,
    authentication: {
      type: 'open-source',
      enableApiToken: true,
      createAdminUser: true,
      initApiTokens: definitions.map((d) => ({ ...d })),
    },
  });

  await ensureTokens(unleash, definitions, log);
  await waitUntilServing(publicUrl, tokens, 60_000);
  log(`state file ${opts.stateFile}; UI login admin / unleash4all; started in ${Date.now() - t0} ms`);
  console.log(`UNLEASH READY ${publicUrl}`);
}

// Unleash 6.10 handles some events in the background without catching their errors: archiving a
// flag and deleting it from the archive at once makes its lifecycle handler insert a row for a flag
// that is gone (feature_lifecycles_feature_fkey), and under Node 20 that unhandled rejection ended
// the whole server in the middle of a CI run. The server itself is fine: log it and go on.
process.on('unhandledRejection', (e) => {
  console.error(`[unleash-harness] unhandled rejection inside unleash-server (kept running): ${e && e.message ? e.message : e}`);
});
process.on('uncaughtException', (e) => {
  console.error(`[unleash-harness] uncaught exception inside unleash-server (kept running): ${e && e.stack ? e.stack : e}`);
});

// Unleash stops gracefully and silently (at log level warn) on these: say which one came.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => console.error(`[unleash-harness] ${signal} received (parent pid ${process.ppid}): stopping`));
}

main().catch((e) => {
  console.error(`[unleash-harness] failed: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
