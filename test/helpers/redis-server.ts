/**
 * Starts throwaway `redis-server` processes on free loopback ports in temp dirs, for tests that
 * must stop, kill or fail over a server (never the shared one on 6379).
 *
 * @example const server = await startRedisServer(); ...; await server.stop();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Whether a `redis-server` binary is on the PATH. */
export const redisServerInstalled = spawnSync('redis-server', ['--version']).status === 0;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

const taken = new Set<number>();

/** A free port whose cluster-bus port (+10000) is free too. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (taken.has(port)) continue;
    if (await portFree(port) && await portFree(port + 10000)) {
      taken.add(port);
      return port;
    }
  }
}

export interface RedisServer {
  port: number;
  dir: string;
  url: string;
  process: ChildProcess;
  /** Starts the server again on the same port and dir (after `kill`). */
  restart(): Promise<void>;
  /** SIGKILL, as in a crash; resolves when the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP: the process freezes with its sockets open (a stalled VM, a long GC-like pause). */
  freeze(): void;
  /** SIGCONT after `freeze`. */
  thaw(): void;
  /** Stops the server and removes its dir. */
  stop(): Promise<void>;
}

/** Resolves when the server at `port` answers PING. */
export async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (r.stdout.trim() === 'PONG') return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r2) => setTimeout(r2, 50));
  }
}

/** Starts a `redis-server` with extra config lines (e.g. `['appendonly yes']`). */
export async function startRedisServer(config: string[] = [], opts: { sentinel?: boolean; port?: number } = {}): Promise<RedisServer> {
  const port = opts.port ?? await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-redis-'));
  const conf = join(dir, 'redis.conf');
  writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'save ""', 'appendonly no', 'protected-mode no',
    'daemonize no', 'loglevel warning', `logfile ${join(dir, 'redis.log')}`, ...config].join('\n') + '\n');
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', opts.sentinel ? [conf, '--sentinel'] : [conf], { stdio: 'ignore' });
    await waitForPing(port);
  };
  const gone = (): Promise<void> => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  await launch();
  const server: RedisServer = {
    port, dir, url: `redis://127.0.0.1:${port}`,
    get process() { return child; },
    restart: launch,
    async kill() {
      child.kill('SIGKILL');
      await gone();
    },
    freeze() {
      child.kill('SIGSTOP');
    },
    thaw() {
      child.kill('SIGCONT');
    },
    async stop() {
      child.kill('SIGKILL');
      await gone();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** An ioredis client for one test server, without retries (for assertions and set-up). */
export function directClient(port: number): Redis {
  return new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, lazyConnect: true });
}
