import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { workflowsReferenceMarkdown, WORKFLOWS_REFERENCE_PATH } from '../workflows/domain/workflow-reference';
import { workflowFileJsonSchemaText, WORKFLOWS_SCHEMA_PATH } from '../workflows/domain/workflow-schema';

/**
 * `npm run workflows:schema` — rewrites schemas/workflows.schema.json and docs/workflows.md from
 * the zod definition of the workflows file. A unit test fails while the checked-in files differ.
 */
function repoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

function main(): void {
  const root = repoRoot(__dirname);
  for (const [file, text] of [
    [WORKFLOWS_SCHEMA_PATH, workflowFileJsonSchemaText()],
    [WORKFLOWS_REFERENCE_PATH, workflowsReferenceMarkdown()],
  ] as const) {
    const target = path.join(root, file);
    const before = existsSync(target) ? readFileSync(target, 'utf8') : null;
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
    process.stdout.write(`${file}: ${before === text ? 'unchanged' : 'written'}\n`);
  }
}

main();
