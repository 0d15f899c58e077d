// `php -S` with several workers for the PHP client's end-to-end tests, and curl requests against
// it: each request is its own curl process, so concurrent requests are truly concurrent.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '../helpers/ports.js';
import { root } from './service.js';

export interface PhpServer {
  url: string;
  stop(): Promise<void>;
  output(): string;
}

/** Resolves once something accepts connections on the port (or rejects after `ms`). */
async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `php -S 127.0.0.1:<free port> <router>` with PHP_CLI_SERVER_WORKERS=`workers` and `env`. */
export async function startPhpServer(router: string, env: Record<string, string>, workers = 4): Promise<PhpServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('php', ['-S', `127.0.0.1:${port}`, router], {
    cwd: root, env: { ...process.env, ...env, PHP_CLI_SERVER_WORKERS: String(workers) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 10_000);
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface CurlAnswer { status: number; body: string }

/** One GET through the curl binary, with an optional Cookie header. */
export function curl(url: string, cookie?: string): Promise<CurlAnswer> {
  const args = ['-sS', '--max-time', '30', '-w', '\n%{http_code}', ...(cookie ? ['-H', `Cookie: ${cookie}`] : []), url];
  return new Promise((resolve, reject) => {
    execFile('curl', args, { timeout: 40_000 }, (err, stdout, stderr) => {
      if (err) { reject(new Error(`curl ${url} failed: ${stderr || err.message}`)); return; }
      const cut = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) });
    });
  });
}
