// The long fuzz run for releases: every target of test/fuzz with FUZZ_RUNS cases (default
// 100,000; the raw-TCP target runs a tenth of that), the fixed seed (FUZZ_SEED to vary it).
// Prints one line per target and the totals, and records them in docs/SECURITY.md between the
// fuzz-results markers. Exits 1 when any target failed.
//
//   npm run fuzz                      # 100,000 cases per target
//   FUZZ_RUNS=20000 npm run fuzz      # a shorter run (not recorded in docs/SECURITY.md unless FUZZ_RECORD=1)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const runs = Number(process.env.FUZZ_RUNS ?? 100_000);
const seed = process.env.FUZZ_SEED ?? '20250917';
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-fuzz-'));
const report = join(dir, 'fuzz.jsonl');
const started = Date.now();
console.log(`fuzz: ${runs} cases per target, seed ${seed}`);
const r = spawnSync('npx', ['vitest', 'run', 'test/fuzz', '--reporter=default'], {
  cwd: root, stdio: 'inherit',
  // Each target keeps what its cases created in one in-memory store: room for 100,000 of them.
  env: { ...process.env, FUZZ_RUNS: String(runs), FUZZ_SEED: seed, FUZZ_REPORT: report, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=8192`.trim() },
});
const rows = existsSync(report) ? readFileSync(report, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
rmSync(dir, { recursive: true, force: true });
const cases = rows.reduce((n, row) => n + row.runs, 0);
const failures = rows.reduce((n, row) => n + row.failures, 0);
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
const table = [
  '| target | cases | failures | seconds |', '| --- | ---: | ---: | ---: |',
  ...rows.map((row) => `| ${row.target} | ${row.runs.toLocaleString('en-US')} | ${row.failures} | ${(row.ms / 1000).toFixed(0)} |`),
  `| **total** | **${cases.toLocaleString('en-US')}** | **${failures}** | ${minutes} min |`,
].join('\n');
console.log(`\n${table}\n`);
for (const row of rows.filter((x) => x.failures > 0)) console.log(`FAILED ${row.target}: ${row.counterexample}\n${row.error}\n`);
const ok = r.status === 0 && failures === 0 && rows.length > 0;
if (ok && (runs >= 100_000 || process.env.FUZZ_RECORD === '1')) {
  const doc = join(root, 'docs', 'SECURITY.md');
  const text = readFileSync(doc, 'utf8');
  const begin = '<!-- fuzz-results:begin -->';
  const end = '<!-- fuzz-results:end -->';
  if (text.includes(begin) && text.includes(end)) {
    const when = new Date().toISOString().slice(0, 10);
    const block = `${begin}\nLast long run: ${when}, \`FUZZ_RUNS=${runs}\`, seed ${seed}, Node ${process.version}: ` +
      `${cases.toLocaleString('en-US')} cases, ${failures} failures.\n\n${table}\n${end}`;
    writeFileSync(doc, text.slice(0, text.indexOf(begin)) + block + text.slice(text.indexOf(end) + end.length));
    console.log('fuzz: results recorded in docs/SECURITY.md');
  }
}
console.log(`fuzz: ${cases} cases, ${failures} failures${ok ? '' : ' (FAILED)'}`);
process.exit(ok ? 0 : 1);
