/**
 * Shared bits of the Redis tests: where the shared server is, unique key prefixes per run, and
 * cleanup that deletes exactly one run's keys (on every master of a cluster).
 *
 * @example const prefix = uniquePrefix('conf'); ...; await deleteByPrefix(admin, prefix);
 */
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other run (or engineer) shares. */
export function uniquePrefix(label: string): string {
  return `skt:${label}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key starting with `prefix` (SCAN, never KEYS; one DEL per key for clusters). */
export async function deleteByPrefix(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes = (client as Cluster).isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of found) deleted += await node.del(key);
    } while (cursor !== '0');
  }
  return deleted;
}

/** Counts the keys starting with `prefix`. */
export async function countByPrefix(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes = (client as Cluster).isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  let count = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      count += found.length;
    } while (cursor !== '0');
  }
  return count;
}
