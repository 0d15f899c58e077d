import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessionManager, type SessionManager } from '../../src/core/manager.js';
import { sqliteStore } from '../../src/stores/sqlite.js';

export const root = new URL('../..', import.meta.url).pathname;
export const bin = join(root, 'dist', 'cli', 'index.js');

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return latest;
}

/**
 * Makes sure `dist/` holds the CLI (the tests run the built bin, as users do). `npm test` builds
 * everything first; this only builds when the bin is missing or older than the CLI's own sources,
 * under a lock, so that other engineers' edits elsewhere in src/ never trigger a rebuild while a
 * parallel test file is running the bin.
 */
export function ensureBuilt(): void {
  if (existsSync(bin) && statSync(bin).mtimeMs >= newest(join(root, 'src', 'cli'))) return;
  // Checked again under the lock: another test file may have built it while this one waited.
  const script = 'if [ -f dist/cli/index.js ] && [ -z "$(find src/cli -newer dist/cli/index.js -print -quit)" ]; then exit 0; fi; npx tsc -p tsconfig.build.json && node scripts/copy-assets.mjs';
  spawnSync('flock', ['/tmp/sessionkit-build.lock', 'sh', '-c', script], { cwd: root, stdio: 'inherit' });
  if (!existsSync(bin)) throw new Error('the CLI was not built (npx tsc -p tsconfig.build.json)');
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An environment with no SESSIONKIT_* variables from the developer's shell, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SESSIONKIT_')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs `sessionkit <args>` to completion. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: cleanEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running `sessionkit <args>` (serve, audit tail) with helpers to wait for its output. */
export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches `pattern` (rejects if the process ends first). */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: cleanEnv(env) });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => {
    resolve(code);
    for (const w of waiters) w();
  }));
  let done = false;
  void exited.then(() => { done = true; });
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); for (const w of waiters) w(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(out);
          if (match) {
            waiters.delete(check);
            resolve(match);
          } else if (done || child.exitCode !== null) {
            waiters.delete(check);
            reject(new Error(`sessionkit ${args.join(' ')} exited before printing ${pattern}; stdout: ${out} stderr: ${err}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** A temporary folder for one test file's stores, removed by `cleanup()`. */
export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-cli-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Opens the SQLite file a CLI run will use, in this process, to arrange or inspect its state. */
export async function withSqlite<T>(path: string, fn: (manager: SessionManager) => Promise<T>): Promise<T> {
  const store = sqliteStore({ path });
  const manager = createSessionManager({ store });
  try {
    return await fn(manager);
  } finally {
    await store.close();
  }
}
