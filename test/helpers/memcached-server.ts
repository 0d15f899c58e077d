/**
 * Starts throwaway `memcached` processes on free loopback ports, for the Memcached store's tests:
 * each test file gets its own servers (never a shared one), which it may stop, freeze or restart.
 *
 * @example const server = await startMemcached(); ...; await server.stop();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from './ports.js';

/** The `memcached` binary: on the PATH, or Debian's /usr/bin/memcached. */
export const memcachedBinary = ['memcached', '/usr/bin/memcached'].find((b) => spawnSync(b, ['-V']).status === 0) ?? null;

/** Resolves when the server answers `version`; rejects at once if the process exits first. */
async function waitForVersion(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`memcached on port ${port} exited with code ${child.exitCode} (bad flags?)`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      const done = (v: boolean): void => {
        socket.destroy();
        resolve(v);
      };
      socket.setTimeout(500, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => socket.write('version\r\n'));
      socket.once('data', (d) => done(d.toString().startsWith('VERSION')));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`memcached on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

export interface MemcachedServer {
  port: number;
  address: string;
  /** Stops the process (SIGKILL); `start()` brings it back, empty, on the same port. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that accepts connections but never answers. */
  freeze(): Promise<void>;
  thaw(): void;
  stop(): Promise<void>;
}

/** Starts `memcached` with `memoryMb` of cache (default 64) and any extra flags. */
export async function startMemcached(opts: { memoryMb?: number; args?: string[] } = {}): Promise<MemcachedServer> {
  if (!memcachedBinary) throw new Error('memcached is not installed (apt-get install memcached)');
  const port = await freePort();
  let child: ChildProcess | null = null;
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0 ? ['-u', 'root'] : [];
  const gone = (c: ChildProcess): Promise<void> => new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve();
    else c.once('exit', () => resolve());
  });
  const server: MemcachedServer = {
    port,
    address: `127.0.0.1:${port}`,
    async start() {
      const started = spawn(memcachedBinary as string, ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', String(opts.memoryMb ?? 64), ...asRoot, ...(opts.args ?? [])], { stdio: 'ignore' });
      child = started;
      await waitForVersion(port, started);
    },
    async kill() {
      const c = child;
      if (!c) return;
      c.kill('SIGCONT');
      c.kill('SIGKILL');
      await gone(c);
      child = null;
    },
    async freeze() {
      const c = child;
      if (!c?.pid) return;
      c.kill('SIGSTOP');
      // The signal is delivered asynchronously: wait until the kernel reports the process stopped,
      // so no request sent after this resolves can still be answered.
      for (let i = 0; i < 200 && !/^\d+ \(.*\) T/.test(readFileSync(`/proc/${c.pid}/stat`, 'utf8')); i += 1) {
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    async stop() {
      await server.kill();
    },
  };
  await server.start();
  return server;
}
