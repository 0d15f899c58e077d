/**
 * A consistent-hash ring over Memcached servers (ketama-style): every server owns `points` spots on
 * a 32-bit circle, each the first four bytes of MD5("<address>-<i>"); a key belongs to the first
 * spot at or after MD5(key). Adding or removing one of n servers moves about 1/n of the keys, where
 * `hash % n` would move almost all of them. The client library we use (memcache-client) treats
 * several servers as failover replicas, not as shards, hence this small ring.
 *
 * @example const ring = hashRing(['10.0.0.1:11211', '10.0.0.2:11211']); ring.pick('AbCdEfGhIjK')
 */
import { createHash } from 'node:crypto';

export interface HashRing<T> {
  /** The member that owns a routing key. */
  pick(key: string): T;
  readonly members: readonly T[];
}

function point(text: string): number[] {
  const digest = createHash('md5').update(text, 'utf8').digest();
  // One MD5 yields four 32-bit points, as ketama does.
  return [0, 4, 8, 12].map((o) => digest.readUInt32LE(o));
}

/** Builds the ring; `addressOf` names each member (the same name on every process gives the same ring). */
export function hashRing<T>(members: readonly T[], addressOf: (m: T) => string, pointsPerMember = 160): HashRing<T> {
  if (members.length === 0) throw new Error('a hash ring needs at least one member');
  const spots: { at: number; member: T }[] = [];
  for (const member of members) {
    for (let i = 0; i < pointsPerMember / 4; i += 1) {
      for (const at of point(`${addressOf(member)}-${i}`)) spots.push({ at, member });
    }
  }
  spots.sort((a, b) => a.at - b.at);
  const ats = Uint32Array.from(spots.map((s) => s.at));
  const owners = spots.map((s) => s.member);
  const only = members.length === 1 ? members[0] as T : null;
  // Routing keys repeat (one tag per user), and an MD5 costs more than a Map lookup.
  const recent = new Map<string, T>();
  return {
    members,
    pick(key) {
      if (only !== null) return only;
      const known = recent.get(key);
      if (known !== undefined) return known;
      const h = createHash('md5').update(key, 'utf8').digest().readUInt32LE(0);
      let lo = 0;
      let hi = ats.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((ats[mid] as number) < h) lo = mid + 1;
        else hi = mid;
      }
      const owner = owners[lo === ats.length ? 0 : lo] as T;
      if (recent.size >= 65_536) recent.clear();
      recent.set(key, owner);
      return owner;
    },
  };
}
