import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import { hashRing } from '../../src/stores/memcached/ring.js';
import { parseMemcachedServers } from '../../src/stores/memcached/url.js';
import { exptime } from '../../src/stores/memcached/client.js';

const keys = Array.from({ length: 5000 }, (_, i) => `user-tag-${i}`);

describe('memcached consistent-hash ring', () => {
  it('spreads keys over every server roughly evenly', () => {
    const ring = hashRing(['a:1', 'b:1', 'c:1'], (s) => s);
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(ring.pick(k), (counts.get(ring.pick(k)) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['a:1', 'b:1', 'c:1']);
    for (const c of counts.values()) expect(c / keys.length).toBeGreaterThan(0.25);
  });

  it('moves only the added server\'s share of the keys when a server joins', () => {
    const before = hashRing(['a:1', 'b:1', 'c:1'], (s) => s);
    const after = hashRing(['a:1', 'b:1', 'c:1', 'd:1'], (s) => s);
    const moved = keys.filter((k) => before.pick(k) !== after.pick(k));
    // Every moved key moved to the new server; about a quarter of them moved (hash % n would move three quarters).
    expect(moved.every((k) => after.pick(k) === 'd:1')).toBe(true);
    expect(moved.length / keys.length).toBeGreaterThan(0.15);
    expect(moved.length / keys.length).toBeLessThan(0.35);
  });

  it('gives the same answer whatever the order the servers are listed in', () => {
    const one = hashRing(['a:1', 'b:1'], (s) => s);
    const two = hashRing(['b:1', 'a:1'], (s) => s);
    expect(keys.slice(0, 1000).every((k) => one.pick(k) === two.pick(k))).toBe(true);
  });
});

describe('memcached server lists and expiry arguments', () => {
  it('reads memcached:// URLs and lists, with the default port', () => {
    expect(parseMemcachedServers('memcached://10.0.0.1,10.0.0.2:11212')).toEqual(['10.0.0.1:11211', '10.0.0.2:11212']);
    expect(parseMemcachedServers(['[::1]:11211', 'cache.local'])).toEqual(['[::1]:11211', 'cache.local:11211']);
  });

  it('refuses bad lists with invalid_request', () => {
    for (const bad of ['redis://h:1', 'memcached://', 'memcached://h:99999', 'memcached://a:1,a:1', ['h 1'], 42]) {
      expect(() => parseMemcachedServers(bad as string)).toThrow(SessionError);
    }
  });

  it('never asks Memcached for "no expiry" and switches to absolute times past 30 days', () => {
    expect(exptime(0)).toBe(-1);
    expect(exptime(-5)).toBe(-1);
    expect(exptime(1)).toBe(1);
    expect(exptime(8 * 3_600_000)).toBe(28_800);
    expect(exptime(31 * 86_400_000, 1_000_000_000_000)).toBe(1_000_000_000 + 31 * 86_400);
  });
});
