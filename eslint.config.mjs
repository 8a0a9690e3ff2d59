// @ts-check
// Lint: typescript-eslint's recommended rules, plus the structure the code must keep (CONVENTIONS.md 2, 11):
// pure domain folders, the one direction between feature folders, no import cycles, nothing in src
// from tests, scripts or tools (the model simulator included, in src/simulator or in tools/).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * What each folder of src/ may import from the others: the one direction of the dependencies, from
 * the composition root (src/*.ts, src/cli) down to config. A folder not named here may import none of
 * them, and a new folder must be added here before lint passes. An import that is not listed (a
 * back-edge) fails lint; the map must stay acyclic (checked below).
 */
const ALLOWED = {
  health: ['auth', 'common', 'config', 'flags', 'inference', 'kafka'],
  rollout: ['audit', 'auth', 'common', 'comparison', 'config', 'database', 'flags', 'inference', 'metrics', 'outbox', 'routing', 'stats', 'workflows'],
  reports: ['audit', 'auth', 'common', 'comparison', 'stats', 'workflows'],
  // Retention decides what goes; each table's owner removes it.
  retention: ['audit', 'auth', 'common', 'config', 'database', 'inference', 'ingest', 'outbox', 'workflows'],
  routing: ['common', 'comparison', 'config', 'database', 'flags', 'inference', 'metrics', 'outbox', 'workflows'],
  // Ingest queues the AI's jobs through inference's job queue (inference owns ai_jobs).
  ingest: ['common', 'comparison', 'config', 'database', 'inference', 'kafka', 'metrics', 'workflows'],
  inference: ['common', 'comparison', 'config', 'database', 'metrics', 'shutdown', 'workflows'],
  // The outbox knows no feature: what may leave is decided by its publish guard, bound at the root.
  outbox: ['common', 'config', 'database', 'kafka', 'metrics'],
  comparison: ['common', 'database', 'metrics', 'stats', 'workflows'],
  workflows: ['audit', 'auth', 'common', 'config'],
  // The entity list TypeORM is given names the entities of audit and workflows.
  database: ['audit', 'common', 'config', 'workflows'],
  metrics: ['auth'],
  auth: ['audit', 'common'],
  flags: ['common', 'config'],
  kafka: ['common', 'config'],
  audit: ['common'],
  common: ['config'],
  config: [],
  shutdown: [],
  stats: [],
  dashboard: [],
};
/** The composition root: wires everything, imported by nothing in src. */
const COMPOSITION = ['cli', 'app.module.ts', 'main.ts', 'port-bindings.module.ts'];

/**
 * Files outside domain/ held to the domain's rule, so domain code may use them: the shared error
 * and clock, and the ports' pure contract types.
 */
const CONTRACTS = [
  'src/common/domain-error.ts',
  'src/common/clock.ts',
  'src/comparison/comparison.types.ts',
  'src/flags/flag-reader.ts',
  'src/flags/flag-gateway.ts',
  'src/inference/decision-model.ts',
];

/** Packages domain code may not import: frameworks, drivers and outside systems' clients. */
const NOT_IN_DOMAIN = ['@nestjs/*', 'typeorm', 'typeorm/*', 'pg', 'pg-*', 'kafkajs', 'unleash-client', 'openai', 'express', 'opossum', 'prom-client', 'pino'];

function assertAcyclic(graph) {
  const state = new Map();
  const visit = (node, trail) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') throw new Error(`eslint.config.mjs: the allowed directions form a cycle: ${[...trail, node].join(' -> ')}`);
    state.set(node, 'open');
    for (const next of graph[node] ?? []) visit(next, [...trail, node]);
    state.set(node, 'done');
  };
  for (const node of Object.keys(graph)) visit(node, []);
}
assertAcyclic(ALLOWED);

const entries = fs.readdirSync(path.join(root, 'src'), { withFileTypes: true });
for (const e of entries) {
  if (e.isDirectory() && !(e.name in ALLOWED) && !COMPOSITION.includes(e.name))
    throw new Error(`eslint.config.mjs: src/${e.name} is not in ALLOWED: declare which folders it may import`);
}
const srcEntries = entries.filter((e) => e.isDirectory() || e.name.endsWith('.ts')).map((e) => e.name);

/** The zones of import-x/no-restricted-paths; `spec` relaxes what specs beside the code may use (test/factories). */
function zones({ spec }) {
  const z = [];
  for (const [folder, allowed] of Object.entries(ALLOWED)) {
    const from = srcEntries.filter((name) => name !== folder && !allowed.includes(name)).map((name) => `src/${name}`);
    if (from.length > 0)
      z.push({
        target: `src/${folder}`,
        from,
        message: `src/${folder} may import ${allowed.length ? `only ${allowed.join(', ')}` : 'nothing else in src'} (eslint.config.mjs ALLOWED).`,
      });
  }
  z.push(
    {
      target: 'src',
      from: 'test',
      ...(spec ? { except: ['factories'] } : {}),
      message: spec ? 'A spec in src may use test/factories only.' : 'src may not import tests.',
    },
    { target: 'src', from: 'scripts', message: 'src may not import scripts.' },
    { target: 'src', from: 'tools', message: 'src may not import tools (the model simulator is a test and demo tool).' },
    {
      target: srcEntries.filter((name) => name !== 'simulator').map((name) => `src/${name}`),
      from: 'src/simulator',
      message: 'src may not import the model simulator (a test and demo tool).',
    },
  );
  if (!spec) {
    z.push({
      target: ['src/**/domain/**', ...CONTRACTS],
      from: ['**/src/**'],
      except: ['**/src/**/domain/**', ...CONTRACTS.map((f) => `**/${f}`)],
      message: 'Domain code imports only domain code and the contract files (eslint.config.mjs CONTRACTS).',
    });
  }
  return z;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'src/dashboard/public/**', '**/*.js', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: path.join(root, 'tsconfig.json') })],
    },
    rules: {
      // `_name` marks what is left unused on purpose (a destructured field dropped, a signature kept).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: zones({ spec: false }) }],
    },
  },
  {
    // Tests read JSON answers and hand-edited YAML: `any` is what those are.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/**/*.spec.ts'],
    rules: { 'import-x/no-restricted-paths': ['error', { basePath: root, zones: zones({ spec: true }) }] },
  },
  {
    files: ['src/**/domain/**/*.ts', ...CONTRACTS],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: NOT_IN_DOMAIN, message: 'Domain code is pure: no framework, driver or outside system (CONVENTIONS.md 2).' }] },
      ],
    },
  },
);
