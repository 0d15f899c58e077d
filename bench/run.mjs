// The benchmark harness: `npm run bench` runs every bench/*.bench.mjs in name order;
// `npm run bench -- core redis` runs only those named. Each module exports
// `async function run({ log })` and prints its own tables. Each runs in its own node process
// (started with --expose-gc), so one module's heap, JIT state or leftover handles cannot skew or
// hang the next, and a module that throws or crashes is reported while the rest still run.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { printMachineInfo } from './lib.mjs';

const here = new URL('.', import.meta.url).pathname;
const SUFFIX = '.bench.mjs';
/** A module that runs longer than this is stopped and reported (BENCH_TIMEOUT_SECONDS overrides). */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 900) * 1000;

const log = (...args) => console.log(...args);

if (process.argv[2] === '--child') {
  await runChild(process.argv[3]);
} else {
  process.exitCode = await runAll(process.argv.slice(2));
}

/** In the child process: import one module and run it. */
async function runChild(file) {
  try {
    const mod = await import(pathToFileURL(file).href);
    if (typeof mod.run !== 'function') throw new Error(`${basename(file)} does not export async function run({ log })`);
    await mod.run({ log });
  } catch (err) {
    log(`\n!! error: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  }
  // Modules should close their clients; exiting here keeps a forgotten handle from hanging the run.
  process.exit(0);
}

async function runAll(names) {
  const available = readdirSync(here).filter((f) => f.endsWith(SUFFIX)).sort();
  const nameOf = (f) => f.slice(0, -SUFFIX.length);
  const unknown = names.filter((n) => !available.some((f) => nameOf(f) === n || f === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.map(nameOf).join(', ') || 'none'}`);
    return 2;
  }
  const selected = names.length === 0 ? available : available.filter((f) => names.includes(nameOf(f)) || names.includes(f));

  log('# sessionkit benchmarks\n');
  printMachineInfo(log);
  log(`modules: ${selected.map(nameOf).join(', ') || 'none'}`);

  const results = [];
  for (const file of selected) {
    log(`\n## ${nameOf(file)}`);
    const started = performance.now();
    const outcome = await runInChild(join(here, file));
    const seconds = (performance.now() - started) / 1000;
    results.push({ name: nameOf(file), ...outcome, seconds });
    if (!outcome.ok) log(`\n!! ${nameOf(file)} failed: ${outcome.reason}`);
  }

  log('\n## summary\n');
  for (const r of results) log(`${r.ok ? 'ok    ' : 'FAILED'} ${r.name.padEnd(12)} ${r.seconds.toFixed(1).padStart(6)} s${r.ok ? '' : `  (${r.reason})`}`);
  const failed = results.filter((r) => !r.ok).length;
  log(`\n${results.length} module(s): ${results.length - failed} ok, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

function runInChild(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname, '--child', file], {
      stdio: 'inherit',
      env: process.env,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `could not start: ${err.message}` });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ ok: false, reason: `stopped after ${TIMEOUT_MS / 1000} s` });
      else if (code === 0) resolve({ ok: true });
      else resolve({ ok: false, reason: signal ? `killed by ${signal}` : `exit code ${code}, see the error above` });
    });
  });
}
