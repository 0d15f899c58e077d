// Starts the built service (dist/cli/index.js serve) on a free port for the client suites. Builds
// nothing: `npm test` builds first (scripts/ensure.mjs); run `npm run build` before running this
// directory on its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'dist', 'cli', 'index.js');

export interface RunningService {
  url: string;
  stop(): Promise<void>;
  output(): string;
}

/** The environment without the developer's SESSIONKIT_* variables, plus `extra`. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SESSIONKIT_')) env[k] = v;
  return { ...env, ...extra };
}

/** `sessionkit serve --port 0` with `env`; resolves once it printed its URL. */
export function startService(env: Record<string, string>): Promise<RunningService> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build first (npm run build; npm test does it)`);
  const child: ChildProcess = spawn(process.execPath, [bin, 'serve', '--port', '0'], { cwd: root, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the service did not start:\n${out}`)); }, 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const url = /^sessionkit listening on (http:\/\/\S+)$/m.exec(out)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({
        url,
        output: () => out,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`the service exited before it started:\n${out}`)); });
  });
}
