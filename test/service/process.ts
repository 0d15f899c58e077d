// Starts the real service process (`node dist/cli/index.js serve`) for end-to-end tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'dist', 'cli', 'index.js');

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return latest;
}

/** Builds dist/ when a source is newer (under a lock, since suites run in parallel). */
export function ensureBuilt(): void {
  if (existsSync(bin) && statSync(bin).mtimeMs >= newest(join(root, 'src'))) return;
  spawnSync('flock', ['/tmp/sessionkit-build.lock', 'npx', 'tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (!existsSync(bin)) throw new Error('the service was not built (npx tsc -p tsconfig.build.json)');
}

export interface ServiceProcess {
  url: string;
  /** The admin key printed on a fresh store, if any. */
  printedAdminKey: string | null;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The environment without the developer's SESSIONKIT_* variables, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SESSIONKIT_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * Starts `sessionkit serve --port 0 ...args` and resolves once it printed its URL (and the admin
 * key line, when one is printed).
 */
export function startService(args: string[], env: Record<string, string> = {}, options: { cwd?: string; expectAdminKey?: boolean } = {}): Promise<ServiceProcess> {
  const cwd = options.cwd ?? root;
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start in time:\n${out}\n${err}`)), 20_000);
    const check = (): void => {
      const url = /^sessionkit listening on (http:\/\/\S+)$/m.exec(out)?.[1];
      if (!url || !/^dashboard: .*\n/m.test(out)) return;
      if (options.expectAdminKey && !/^admin API key .*\n/m.test(out)) return;
      clearTimeout(timer);
      resolve({
        url,
        printedAdminKey: /^admin API key \(shown once, store it now\): (ska_\S+)$/m.exec(out)?.[1] ?? null,
        child,
        stdout: () => out,
        stderr: () => err,
        stop: (signal = 'SIGTERM') => {
          if (child.exitCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); check(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with ${code} before it started:\n${out}\n${err}`));
    });
  });
}
