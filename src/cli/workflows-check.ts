import { readFileSync } from 'node:fs';
import { checkWorkflowFile, formatWorkflowFileCheck } from '../workflows/domain/workflow-check';

/**
 * `npm run workflows:check -- FILE…` — reads each workflows file with the loader the service
 * starts with and prints every problem at its path (workflows[0].rollout.gates.supervised.minSample).
 * Exit code 1 when a file would stop the service, 2 on a usage error, 0 otherwise.
 */
function main(files: string[]): number {
  if (files.length === 0 || files.some((f) => f === '--help' || f === '-h')) {
    process.stderr.write('usage: npm run workflows:check -- FILE… (e.g. config/workflows.yaml)\n');
    return 2;
  }
  let failed = false;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      process.stderr.write(`${file}: cannot read: ${(e as Error).message}\n`);
      failed = true;
      continue;
    }
    const check = checkWorkflowFile(text, file);
    for (const line of formatWorkflowFileCheck(check, file)) process.stdout.write(`${line}\n`);
    failed ||= check.errors.length > 0;
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
