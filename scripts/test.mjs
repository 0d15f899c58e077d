// The one test command: lint, type-check, then every test suite; ends with a
// "N passed, N failed" line that counts every test of every suite.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const step = (label, cmd, args, env = {}) => {
  console.log(`\n== ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
};

let failedSteps = 0;
failedSteps += step('lint', 'npx', ['eslint', '.']) === 0 ? 0 : 1;
failedSteps += step('type-check', 'npx', ['tsc', '-p', 'tsconfig.json']) === 0 ? 0 : 1;
failedSteps += step('layers', 'node', ['scripts/check-layers.mjs']) === 0 ? 0 : 1;
// The dashboard's browser scripts, against the DOM's types and without Node's.
failedSteps += step('type-check (browser)', 'npx', ['tsc', '-p', 'tsconfig.browser.json']) === 0 ? 0 : 1;

const out = join(mkdtempSync(join(tmpdir(), 'sessionkit-test-')), 'vitest.json');
const extra = process.argv.slice(2);
const vitestStatus = step('tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extra]);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(out, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  skipped = report.numPendingTests + report.numTodoTests;
  rmSync(out, { force: true });
} catch {
  failed += 1;
}
if (vitestStatus !== 0 && failed === 0) failed = 1;
failed += failedSteps;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
