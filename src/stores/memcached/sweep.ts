/**
 * The sweep queue of the Memcached store. Memcached cannot list its keys, so `sweepExpired` needs
 * its own list of what may expire when: time buckets of one minute, `<prefix>x:<n>`, each holding
 * the ids of sessions whose retention fell in minute n when they were written (`append`, atomic on
 * the server), plus a cursor `<prefix>x:c` (the last bucket swept to the end).
 *
 * Touches do not move ids between buckets (that would cost a write per touch): the sweeper
 * re-files an id whose record is not yet due into the bucket of its current retention. A record
 * that is due is deleted with `cas` (expiry -1), so a touch that races the sweeper wins and the
 * session lives on. Buckets expire by themselves shortly after the records they list, so a
 * sweeper that never runs leaves nothing behind; Memcached's own expiry frees the records.
 *
 * @example const queue = sweepQueue(deps); await queue.enqueue(id, retentionOf(s), now); await queue.sweep(now, 500)
 */
import type { StoredSession } from '../../core/types.js';
import { retentionOf } from '../types.js';
import { exptime, type MemcachedNode } from './client.js';

export const BUCKET_MS = 60_000;
/** Without a cursor (evicted, or never written), the sweeper looks back this many buckets (a day). */
const LOOKBACK_BUCKETS = 1440;
const BUCKETS_PER_READ = 100;
const RECORDS_PER_READ = 100;
const CURSOR_LIFETIME = 30 * 86_400_000;
const ID = /^[A-Za-z0-9_-]{43}$/;

export interface SweepDeps {
  prefix: string;
  /** The server of a bookkeeping key (buckets, cursor). */
  nodeOfKey(key: string): MemcachedNode;
  /** The server and key of a session record. */
  recordOf(id: string): { node: MemcachedNode; key: string };
  decode(id: string, value: string): StoredSession;
  /** How long after its retention a record may still be found (the records' own expiry slack). */
  grace: number;
}

export const bucketOf = (t: number): number => Math.floor(t / BUCKET_MS);

export function sweepQueue(deps: SweepDeps) {
  const bucketKey = (n: number): string => `${deps.prefix}x:${n}`;
  const cursorKey = `${deps.prefix}x:c`;
  let cursorWritten = false;

  async function enqueue(id: string, retentionAt: number, now: number): Promise<void> {
    const n = bucketOf(retentionAt);
    const key = bucketKey(n);
    const node = deps.nodeOfKey(key);
    if (!cursorWritten) {
      // The first enqueue of this process makes sure a cursor exists: retention is never before
      // `now`, so no bucket before this one will ever be written.
      await deps.nodeOfKey(cursorKey).add(cursorKey, String(bucketOf(now) - 1), exptime(CURSOR_LIFETIME));
      cursorWritten = true;
    }
    if (await node.append(key, ` ${id}`)) return;
    const life = exptime((n + 1) * BUCKET_MS - now + deps.grace + BUCKET_MS);
    if (await node.add(key, id, life)) return;
    await node.append(key, ` ${id}`);
  }

  /** Reads many keys, each from its own server, in parallel. */
  async function readKeys(keys: string[]): Promise<Map<string, string>> {
    const byNode = new Map<MemcachedNode, string[]>();
    for (const k of keys) {
      const node = deps.nodeOfKey(k);
      const list = byNode.get(node);
      if (list) list.push(k);
      else byNode.set(node, [k]);
    }
    const out = new Map<string, string>();
    for (const part of await Promise.all([...byNode].map(([node, ks]) => node.get(ks)))) for (const [k, v] of part) out.set(k, v);
    return out;
  }

  /**
   * Deletes up to `limit` records whose retention is at or before `now`, oldest buckets first;
   * resolves with them as they were.
   */
  async function sweep(now: number, limit: number): Promise<StoredSession[]> {
    const raw = (await deps.nodeOfKey(cursorKey).get([cursorKey])).get(cursorKey);
    const cursor = raw !== undefined && /^-?\d+$/.test(raw) ? Number(raw) : null;
    const end = bucketOf(now);
    const start = cursor !== null ? cursor + 1 : end - LOOKBACK_BUCKETS;
    const swept: StoredSession[] = [];
    const seen = new Set<string>();
    let done = cursor;
    const saveCursor = async (): Promise<void> => {
      if (done !== cursor && done !== null) await deps.nodeOfKey(cursorKey).set(cursorKey, String(done), exptime(CURSOR_LIFETIME));
    };
    for (let first = start; first <= end; first += BUCKETS_PER_READ) {
      const numbers = Array.from({ length: Math.min(BUCKETS_PER_READ, end - first + 1) }, (_, i) => first + i);
      const buckets = await readKeys(numbers.map(bucketKey));
      for (const n of numbers) {
        const ids = [...new Set((buckets.get(bucketKey(n)) ?? '').split(' '))].filter((id) => ID.test(id) && !seen.has(id));
        for (let i = 0; i < ids.length; i += RECORDS_PER_READ) {
          const full = await sweepIds(ids.slice(i, i + RECORDS_PER_READ), n, now, limit, swept, seen);
          if (full) {
            await saveCursor();
            return swept;
          }
        }
        if (n < end) {
          await deps.nodeOfKey(bucketKey(n)).delete(bucketKey(n));
          done = n;
        }
      }
    }
    await saveCursor();
    return swept;
  }

  /** Sweeps or re-files the ids of bucket `n`; resolves true when `limit` is reached. */
  async function sweepIds(ids: string[], n: number, now: number, limit: number, swept: StoredSession[], seen: Set<string>): Promise<boolean> {
    const byNode = new Map<MemcachedNode, string[]>();
    for (const id of ids) {
      const { node, key } = deps.recordOf(id);
      const list = byNode.get(node);
      if (list) list.push(key);
      else byNode.set(node, [key]);
    }
    const items = new Map<string, { value: string; cas: string; node: MemcachedNode }>();
    await Promise.all([...byNode].map(async ([node, keys]) => {
      for (const [k, v] of await node.gets(keys)) items.set(k, { ...v, node });
    }));
    for (const id of ids) {
      const { key } = deps.recordOf(id);
      const item = items.get(key);
      if (!item) {
        seen.add(id);
        continue;
      }
      const record = deps.decode(id, item.value);
      const retention = retentionOf(record);
      if (retention <= now) {
        if (swept.length >= limit) return true;
        // Expiry -1 deletes it, but only if nobody wrote it since we read it.
        if (await item.node.cas(key, item.value, item.cas, -1)) swept.push(record);
        else await enqueue(id, now, now);
      } else if (bucketOf(retention) !== n) {
        // Not due (touched or revoked since it was filed): file it where its retention is now.
        await enqueue(id, retention, now);
      }
      seen.add(id);
    }
    return false;
  }

  return { enqueue, sweep };
}
