// Review of issue 3 point 3 (the verified-token cache is bounded, keyed by a hash of the token and
// never answers at or past the token's expiry) and of issue 2 point 1 / issues 4 and 11 (the
// package's exports map names every documented subpath, each backed by a source module that
// exports what the docs import from it).
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createVerifiedTokenCache } from '../../src/tokens/token-cache.js';
import type { AccessTokenClaims } from '../../src/tokens/jwt-verify.js';

const claims = { sub: 'u' } as unknown as AccessTokenClaims;

describe('the verified-token cache', () => {
  it('keys entries by the SHA-256 of the token, never the token itself', () => {
    const cache = createVerifiedTokenCache(10);
    const token = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2ln';
    const key = cache.keyOf(token);
    expect(key).toBe(createHash('sha256').update(token).digest('base64'));
    expect(key).not.toContain(token);
  });

  it('holds at most its bound, dropping the oldest entries first', () => {
    // Two generations of two (core/bounded-map.ts): a and b went with the first full generation.
    const cache = createVerifiedTokenCache(4);
    for (const k of ['a', 'b', 'c', 'd', 'e']) cache.set(k, { claims, expiresAt: 1000 });
    expect(cache.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].map((k) => cache.get(k, 0) !== undefined)).toEqual([false, false, true, true, true]);
  });

  it('never answers at or past the entry\'s expiry, and forgets the entry then', () => {
    const cache = createVerifiedTokenCache(3);
    cache.set('t', { claims, expiresAt: 1000 });
    expect(cache.get('t', 999)?.claims).toBe(claims);
    expect(cache.get('t', 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('stores nothing when disabled (bound 0), and empties on clear()', () => {
    const off = createVerifiedTokenCache(0);
    off.set('t', { claims, expiresAt: 1000 });
    expect([off.enabled, off.size]).toEqual([false, 0]);
    const on = createVerifiedTokenCache(2);
    on.set('t', { claims, expiresAt: 1000 });
    on.clear();
    expect(on.get('t', 0)).toBeUndefined();
  });
});

describe('the package exports map', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    exports: Record<string, string | { types: string; default: string }>; type: string; engines: { node: string };
  };
  const documented: [string, string[]][] = [
    ['.', ['createSessionManager', 'SessionError', 'pinoAudit', 'memoryAudit', 'memoryStore']],
    ['./stores/memory', ['memoryStore']],
    ['./stores/sqlite', ['sqliteStore']],
    ['./stores/redis', ['redisStore']],
    ['./stores/postgres', ['postgresStore']],
    ['./stores/memcached', ['memcachedStore']],
    ['./testing', ['storeSuite', 'fakeClock', 'countingStore']],
  ];

  it('is an ESM package for Node 20 or later', () => {
    expect(pkg.type).toBe('module');
    expect(pkg.engines.node).toBe('>=20');
  });

  for (const [subpath, names] of documented) {
    it(`maps ${subpath} to built JavaScript and types whose source exports ${names.join(', ')}`, async () => {
      const entry = pkg.exports[subpath];
      expect(entry, subpath).toBeTypeOf('object');
      const { types, default: js } = entry as { types: string; default: string };
      expect(js).toMatch(/^\.\/dist\/.+\.js$/);
      expect(types).toBe(js.replace(/\.js$/, '.d.ts'));
      const source = new URL(`../../${js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')}`, import.meta.url);
      expect(existsSync(source), source.pathname).toBe(true);
      const mod = await import(source.href) as Record<string, unknown>;
      for (const name of names) expect(typeof mod[name], `${subpath} ${name}`).toBe('function');
    });
  }
});
