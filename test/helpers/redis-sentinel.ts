/**
 * A real Sentinel deployment for tests: one master, `replicas` replicas and three sentinels
 * (`redis-server --sentinel`, quorum 2) on free loopback ports, with fast failover settings
 * (`down-after-milliseconds` 1000). Ready when every sentinel knows the master and every replica.
 *
 * @example const set = await startSentinelSet(); const store = await redisStore({ url: set.url }); ...; await set.stop();
 */
import { spawnSync } from 'node:child_process';
import { freePort, startRedisServer, type RedisServer } from './redis-server.js';

export const SENTINEL_MASTER = 'mymaster';
export const DOWN_AFTER_MS = 1000;

export interface SentinelSet {
  /** The data nodes, the first one the initial master. */
  servers: RedisServer[];
  sentinels: RedisServer[];
  /** `redis+sentinel://127.0.0.1:p1,.../mymaster` */
  url: string;
  /** The master's port as the first sentinel that answers sees it. */
  masterPort(): number | null;
  stop(): Promise<void>;
}

function cli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 2000 }).stdout ?? '';
}

/** The role line of `INFO replication` (`master`, `slave`), or null when the node does not answer. */
export function roleOf(port: number): string | null {
  const m = /role:(\w+)/.exec(cli(port, 'info', 'replication'));
  return m ? m[1] as string : null;
}

/** Resolves once `check` holds, polling every 100 ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Resolves when the deployment is whole again: the sentinels agree on one master that says
 * `role:master`, and every other data node is its replica with a finished sync.
 */
export async function waitForSettled(set: SentinelSet, timeoutMs = 30_000): Promise<number> {
  let master = 0;
  await waitFor('the sentinel deployment to settle', () => {
    const seen = new Set(set.sentinels.map((s) => cli(s.port, 'sentinel', 'get-master-addr-by-name', SENTINEL_MASTER).split('\n')[1]?.trim()));
    if (seen.size !== 1) return false;
    master = Number([...seen][0]);
    if (roleOf(master) !== 'master') return false;
    return set.servers.filter((s) => s.port !== master).every((s) => {
      const info = cli(s.port, 'info', 'replication');
      return info.includes('role:slave') && info.includes(`master_port:${master}`) && info.includes('master_link_status:up')
        && info.includes('master_sync_in_progress:0');
    });
  }, timeoutMs);
  return master;
}

export async function startSentinelSet(opts: { replicas?: number; serverConfig?: string[] } = {}): Promise<SentinelSet> {
  const extra = opts.serverConfig ?? [];
  const master = await startRedisServer(extra);
  const replicas = await Promise.all(Array.from({ length: opts.replicas ?? 2 }, () => startRedisServer([...extra, `replicaof 127.0.0.1 ${master.port}`])));
  const servers = [master, ...replicas];
  const sentinels: RedisServer[] = [];
  for (let i = 0; i < 3; i += 1) {
    const port = await freePort();
    sentinels.push(await startRedisServer([`sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${master.port} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER} ${DOWN_AFTER_MS}`, `sentinel failover-timeout ${SENTINEL_MASTER} 10000`,
      `sentinel parallel-syncs ${SENTINEL_MASTER} 2`], { sentinel: true, port }));
  }
  const set: SentinelSet = {
    servers, sentinels,
    url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${SENTINEL_MASTER}`,
    masterPort() {
      for (const s of sentinels) {
        const port = Number(cli(s.port, 'sentinel', 'get-master-addr-by-name', SENTINEL_MASTER).split('\n')[1]?.trim());
        if (port > 0) return port;
      }
      return null;
    },
    async stop() {
      await Promise.all([...sentinels, ...servers].map((s) => s.stop()));
    },
  };
  try {
    // Sentinels learn replicas and each other through INFO and hello messages: wait for both, so a
    // failover can be authorised (quorum 2) and can pick a replica.
    await waitFor('the sentinels to know every replica and each other', () => sentinels.every((s) => {
      const info = cli(s.port, 'sentinel', 'master', SENTINEL_MASTER);
      const num = (field: string): number => Number(new RegExp(`${field}\\n(\\d+)`).exec(info)?.[1] ?? -1);
      return num('num-slaves') === replicas.length && num('num-other-sentinels') === sentinels.length - 1;
    }));
    await waitForSettled(set);
  } catch (err) {
    await set.stop();
    throw err;
  }
  return set;
}
