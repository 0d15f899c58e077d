// Shared helpers for the benchmark modules (bench/*.bench.mjs): a fixed-time measuring loop, a
// Markdown table printer with ratio and target columns, and a description of the machine.
// Figures are only comparable within one run: every module measures its own baseline (a floor or a
// peer library) next to the code under test, and reports ratios rather than absolute numbers.
import { createServer as createNetServer } from 'node:net';
import { cpus, loadavg, totalmem, freemem, platform, arch, release } from 'node:os';
import { performance } from 'node:perf_hooks';

/**
 * Measures how many times per second `fn` runs. `fn(i)` receives a running counter (use it to pick
 * the i-th token of a prepared set); it may be sync or return a promise (then it is awaited, with
 * up to `concurrency` calls in flight). It is first warmed up, then run for `seconds` (default 2)
 * or exactly `iterations` times. One call in `sampleEvery` (default 16) is timed on its own, so
 * p50/p99 cost two clock reads per sampled call, not per call.
 *
 * @example
 * const r = await measure('sha256', (i) => hash(secrets[i % n]), { seconds: 2 });
 * // { name, ops, elapsedMs, opsPerSec, p50Us, p99Us, concurrency }
 */
export async function measure(name, fn, options = {}) {
  const { seconds = 2, iterations, concurrency = 1, warmupSeconds = Math.min(0.5, seconds / 4), sampleEvery = 16 } = options;
  if (!(concurrency >= 1)) throw new Error(`measure ${name}: concurrency must be at least 1`);
  const mask = pow2AtLeast(sampleEvery) - 1;
  const first = fn(0);
  const isAsync = first !== null && typeof first === 'object' && typeof first.then === 'function';
  if (isAsync) await first;
  const loop = isAsync ? asyncLoop : syncLoop;

  // Warm-up: lets the JIT settle and sizes the batch between clock checks (about 2 ms of work).
  const warm = await loop(fn, { ms: warmupSeconds * 1000, batch: 16, mask, concurrency, start: 1 });
  const perOpMs = warm.ops > 0 ? warm.elapsedMs / warm.ops : 1;
  const batch = Math.max(1, Math.min(65_536, Math.round(2 / Math.max(perOpMs, 1e-6) / concurrency)));

  const r = await loop(fn, { ms: iterations === undefined ? seconds * 1000 : Infinity, iterations, batch, mask, concurrency, start: warm.ops + 1 });
  const sorted = Float64Array.from(r.samples).sort();
  return {
    name,
    ops: r.ops,
    elapsedMs: r.elapsedMs,
    opsPerSec: r.ops / (r.elapsedMs / 1000),
    p50Us: percentile(sorted, 0.5) * 1000,
    p99Us: percentile(sorted, 0.99) * 1000,
    concurrency: isAsync ? concurrency : 1,
  };
}

/**
 * Measures several operations in alternation, `rounds` times each (`seconds` split between the
 * rounds), and keeps each one's best round. On a shared machine, other load only ever slows a
 * round down; alternating spreads it across all the operations being compared, and the best round
 * is the least disturbed one. Results come back in the order given.
 *
 * @example
 * const [floor, mine] = await measureAll([
 *   { name: 'floor', fn: (i) => hash(secrets[i % n]) },
 *   { name: 'validate', fn: (i) => sessions.validate(tokens[i % n]), options: { concurrency: 16 } },
 * ], { rounds: 3, seconds: 3 });
 */
export async function measureAll(entries, { rounds = 3, seconds = 3, between } = {}) {
  const best = new Array(entries.length).fill(null);
  for (let round = 0; round < rounds; round += 1) {
    for (let k = 0; k < entries.length; k += 1) {
      const { name, fn, options = {} } = entries[k];
      const r = await measure(name, fn, { ...options, seconds: seconds / rounds });
      r.rounds = [...(best[k]?.rounds ?? []), r.opsPerSec];
      if (best[k] === null || r.opsPerSec > best[k].opsPerSec) best[k] = r;
      else best[k].rounds = r.rounds;
      if (between) await between();
    }
  }
  return best;
}

function syncLoop(fn, { ms, iterations, batch, mask, start }) {
  const samples = [];
  const limit = iterations ?? Infinity;
  let i = start;
  let ops = 0;
  const t0 = performance.now();
  const deadline = t0 + ms;
  for (;;) {
    const n = Math.min(batch, limit - ops);
    for (let k = 0; k < n; k += 1, i += 1) {
      if ((i & mask) === 0) {
        const s = performance.now();
        fn(i);
        samples.push(performance.now() - s);
      } else {
        fn(i);
      }
    }
    ops += n;
    if (ops >= limit || performance.now() >= deadline) break;
  }
  return Promise.resolve({ ops, elapsedMs: performance.now() - t0, samples });
}

async function asyncLoop(fn, { ms, iterations, batch, mask, concurrency, start }) {
  const samples = [];
  const limit = iterations ?? Infinity;
  let next = start;
  let issued = 0;
  let stop = false;
  const t0 = performance.now();
  const deadline = t0 + ms;
  const worker = async () => {
    while (!stop) {
      for (let k = 0; k < batch; k += 1) {
        if (issued >= limit) {
          stop = true;
          break;
        }
        issued += 1;
        const i = next;
        next += 1;
        if ((i & mask) === 0) {
          const s = performance.now();
          await fn(i);
          samples.push(performance.now() - s);
        } else {
          await fn(i);
        }
      }
      if (performance.now() >= deadline) stop = true;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ops: issued, elapsedMs: performance.now() - t0, samples };
}

function pow2AtLeast(n) {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** `1234567.8` → `1,234,568`; small numbers keep a few significant digits. */
export function formatNumber(n, digits = 0) {
  if (!Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function formatUs(us) {
  if (!Number.isFinite(us)) return '–';
  return us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : us.toFixed(0);
}

/**
 * Prints results as a Markdown table (paste-ready for docs/PERFORMANCE.md) with a ratio column:
 * each row's rate divided by the rate of the row named by its `vs` (or `options.baseline`).
 *
 * @example
 * printTable(log, [floor, memory, express], { title: 'memory store', baseline: 'floor' });
 */
export function printTable(log, rows, options = {}) {
  const byName = new Map(rows.map((r) => [r.name, r]));
  log(options.title ? `\n### ${options.title}\n` : '');
  const hasNote = rows.some((r) => r.note);
  const head = ['operation', 'ops/s', 'p50 µs', 'p99 µs', 'ratio'];
  if (hasNote) head.push('note');
  const lines = [head];
  for (const r of rows) {
    const base = byName.get(r.vs ?? options.baseline);
    const ratio = base && base !== r ? `${(r.opsPerSec / base.opsPerSec).toFixed(2)}x ${base.name}` : base === r ? '1.00x' : '';
    const line = [r.name, formatNumber(r.opsPerSec), formatUs(r.p50Us), formatUs(r.p99Us), ratio];
    if (hasNote) line.push(r.note ?? '');
    lines.push(line);
  }
  printMarkdown(log, lines, [false, true, true, true, false, false]);
}

/**
 * Prints target checks: `{ label, value, min }` rows with the measured ratio, the target and
 * whether it is met. Returns how many targets were missed.
 *
 * @example
 * printTargets(log, [{ label: 'memory / floor', value: mem.opsPerSec / floor.opsPerSec, min: 0.6 }]);
 */
export function printTargets(log, checks, options = {}) {
  log(options.title ? `\n### ${options.title}\n` : '');
  const lines = [['comparison', 'ratio', 'target', 'met']];
  let missed = 0;
  for (const c of checks) {
    const met = (c.min === undefined || c.value >= c.min) && (c.max === undefined || c.value <= c.max);
    if (!met) missed += 1;
    const target = [c.min !== undefined ? `≥ ${c.min}` : '', c.max !== undefined ? `≤ ${c.max}` : ''].filter(Boolean).join(' and ');
    lines.push([c.label, `${c.value.toFixed(2)}x`, target, met ? 'yes' : 'NO']);
  }
  printMarkdown(log, lines, [false, true, false, false]);
  return missed;
}

export function printMarkdown(log, lines, rightAligned) {
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => String(l[c] ?? '').length)));
  const cell = (v, c) => (rightAligned[c] ? String(v).padStart(widths[c]) : String(v).padEnd(widths[c]));
  log(`| ${lines[0].map(cell).join(' | ')} |`);
  log(`| ${widths.map((w, c) => (rightAligned[c] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`);
  for (const l of lines.slice(1)) log(`| ${l.map(cell).join(' | ')} |`);
}

/** CPU model and count, Node version, platform, memory and the load average right now. */
export function machineInfo() {
  const cpu = cpus();
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  return {
    cpu: `${cpu[0]?.model ?? 'unknown'} × ${cpu.length}`,
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} free)`,
    load,
  };
}

/** Prints `machineInfo()` as a few lines. */
export function printMachineInfo(log) {
  const m = machineInfo();
  log(`cpu: ${m.cpu}`);
  log(`node: ${m.node}   platform: ${m.platform}`);
  log(`memory: ${m.memory}   load average (1/5/15 min): ${m.load}`);
  log(`date: ${new Date().toISOString()}`);
}

/** Runs the garbage collector when node was started with --expose-gc (the harness does). */
export function collectGarbage() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

/** A free TCP port on 127.0.0.1 (closed again at once), for a server the benchmark starts. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
