/**
 * A real Redis Cluster for tests: six `redis-server` processes (3 masters, 3 replicas) on free
 * loopback ports, joined with `redis-cli --cluster create`, ready when every node reports
 * `cluster_state:ok`. Fast failover settings (1 s node timeout) keep the failover test short.
 *
 * @example const cluster = await startRedisCluster(); const url = cluster.url; ...; await cluster.stop();
 */
import { spawnSync } from 'node:child_process';
import { startRedisServer, type RedisServer } from './redis-server.js';

export interface RedisClusterHandle {
  servers: RedisServer[];
  /** `redis+cluster://127.0.0.1:p1,...` */
  url: string;
  stop(): Promise<void>;
}

function cli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout;
}

/** Resolves when every listed node reports `cluster_state:ok` and knows all 16384 slots. */
export async function waitForClusterOk(ports: number[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = ports.every((p) => {
      const info = cli(p, 'cluster', 'info');
      return info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384');
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('the test cluster did not reach cluster_state:ok');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves when every replica among `ports` has finished its sync with its master. */
export async function waitForReplicas(ports: number[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const synced = ports.every((p) => {
      const info = cli(p, 'info', 'replication');
      return info.includes('role:master') || (info.includes('master_link_status:up') && info.includes('master_sync_in_progress:0'));
    });
    if (synced) return;
    if (Date.now() > deadline) throw new Error('the test cluster replicas did not finish their sync');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The hash slot of a key, as the server computes it. */
export function keySlot(askPort: number, key: string): number {
  return Number(cli(askPort, 'cluster', 'keyslot', key).trim());
}

/** The port of the master serving `slot`, read from CLUSTER SLOTS on `askPort`. */
export function masterPortOfSlot(askPort: number, slot: number): number {
  const out = spawnSync('redis-cli', ['-p', String(askPort), '--json', 'cluster', 'slots'], { encoding: 'utf8' }).stdout;
  const ranges = JSON.parse(out) as [number, number, [string, number, string]][];
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  if (!range) throw new Error(`no master serves slot ${slot}`);
  return range[2][1];
}

/** Resolves when `askPort` sees another master than `oldPort` serving `slot`, and the cluster is ok again. */
export async function waitForPromotion(ports: number[], slot: number, oldPort: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let port = oldPort;
    try {
      port = masterPortOfSlot(ports[0] as number, slot);
    } catch {
      // the slot is unserved while the election runs
    }
    if (port !== oldPort) {
      await waitForClusterOk(ports, Math.max(1, deadline - Date.now()));
      return port;
    }
    if (Date.now() > deadline) throw new Error(`no replica was promoted for slot ${slot}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const config = ['cluster-enabled yes', 'cluster-config-file nodes.conf', 'cluster-node-timeout 1000',
    'cluster-replica-validity-factor 0', 'appendonly no'];
  const servers = await Promise.all(Array.from({ length: 6 }, () => startRedisServer(config)));
  const ports = servers.map((s) => s.port);
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8' });
  if (created.status !== 0) {
    await Promise.all(servers.map((s) => s.stop()));
    throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
  }
  await waitForClusterOk(ports);
  await waitForReplicas(ports);
  return {
    servers,
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
