import { afterAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { GENESIS_HASH, verifyChain } from '../../src/audit/chain.js';
import { createSessionManager } from '../../src/core/manager.js';
import { SessionError } from '../../src/core/errors.js';
import { redisStore } from '../../src/stores/redis.js';
import type { StoreChange } from '../../src/stores/types.js';
import { parseRedisUrl } from '../../src/stores/redis/url.js';
import { decodeRecord, encodeRecord } from '../../src/stores/redis/codec.js';
import { fakeClock } from '../../src/testing/index.js';
import { describeIfAvailable, tcpReachable } from '../helpers/availability.js';
import { expectMemoSeesOtherWriters, expectSameReadsWithoutTheMemo } from '../helpers/read-memo.js';
import { REDIS_URL, deleteByPrefix, uniquePrefix } from '../helpers/redis-env.js';

const available = await tcpReachable(REDIS_URL);
const prefix = uniquePrefix('store');
const secret = 'redis-store-test-secret-0123456789abcdef';

it('reads the three URL forms and refuses others with invalid_request', () => {
  expect(parseRedisUrl('rediss://:pw@cache:6380/2')).toEqual({ kind: 'standalone', url: 'rediss://:pw@cache:6380/2' });
  expect(parseRedisUrl('redis+cluster://a:7000,b,[::1]:7002')).toEqual({ kind: 'cluster', tls: false,
    nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 6379 }, { host: '::1', port: 7002 }] });
  expect(parseRedisUrl('rediss+sentinel://app:s%40cret@s1:26379,s2/mymaster/3?sentinelPassword=sp')).toEqual({
    kind: 'sentinel', tls: true, sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'mymaster', db: 3,
    username: 'app', password: 's@cret', sentinelPassword: 'sp' });
  expect(parseRedisUrl('redis+cluster://a:7000?revocationReplicas=0')).toMatchObject({ kind: 'cluster', revocationReplicas: 0 });
  expect(parseRedisUrl('redis+sentinel://s1/m?revocationReplicas=2')).toMatchObject({ kind: 'sentinel', revocationReplicas: 2 });
  for (const bad of ['http://x', 'redis+sentinel://s1:26379', 'redis+cluster://a:7000/1', 'redis+cluster://a:99999', 'redis+sentinel://s/m/x',
    'redis+cluster://a:7000?revocationReplicas=-1', 'redis+sentinel://s1/m?revocationReplicas=all']) {
    expect(() => parseRedisUrl(bad)).toThrow(SessionError);
  }
});

it('encodes records compactly, keeps every non-default field, and still reads the earlier full layout', () => {
  const ca = 1_700_000_000_000;
  const usual = {
    id: 'i'.repeat(43), secretHash: 'ab'.repeat(32), previousSecretHash: null, previousSecretExpiresAt: null, usedSecretHashes: [],
    generation: 0, tokenType: 'opaque' as const, userId: 'u1', roles: ['user'], createdAt: ca, lastSeenAt: ca, idleExpiresAt: ca + 1_800_000,
    absoluteExpiresAt: ca + 28_800_000, idleTimeout: 1_800_000, absoluteTimeout: 28_800_000, policy: null, authenticatedAt: ca, authMethods: [],
    device: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '203.0.113.7', label: null, browser: 'Firefox', os: 'Linux', type: 'desktop' },
    data: {}, version: 1, revokedAt: null, revokeReason: null,
  };
  const value = encodeRecord(usual);
  expect(value.split('\n')[1]).toBe('["q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s","Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0","203.0.113.7",["user"],1800000]');
  expect(decodeRecord(usual.id, value)).toEqual(usual);
  const unusual = { ...usual, previousSecretHash: 'cd'.repeat(32), previousSecretExpiresAt: ca + 5, usedSecretHashes: ['not hex', 'ef'.repeat(32)],
    generation: 3, tokenType: 'jwt' as const, policy: 'admin', absoluteTimeout: 99, authenticatedAt: ca + 7, authMethods: ['totp'],
    device: { ...usual.device, label: 'laptop', browser: 'Custom' }, data: { a: [1, { b: null }] }, revokedAt: ca + 9, revokeReason: 'logout' };
  expect(decodeRecord(usual.id, encodeRecord(unusual))).toEqual(unusual);
  const legacy = `[1,${ca},0,1800000,28800000,null,null,"u1"]\n["q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s",null,null,[],0,0,["user"],1800000,28800000,null,0,[],` +
    '["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0","203.0.113.7",null,"Firefox","Linux","desktop"],{}]';
  expect(decodeRecord(usual.id, legacy)).toEqual(usual);
});

describeIfAvailable(available, 'Redis', 'REDIS_URL', REDIS_URL)('redis store specifics', () => {
  const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  afterAll(async () => {
    await deleteByPrefix(admin, prefix);
    admin.disconnect();
  });

  it('makes 43-character ids whose 11-character tag places the user without naming them', async () => {
    const a = await redisStore({ url: REDIS_URL, prefix: `${prefix}ids:`, salt: 'a salt of sixteen+ bytes' });
    const b = await redisStore({ url: REDIS_URL, prefix: `${prefix}ids:`, salt: 'another salt, sixteen+ bytes' });
    try {
      const ids = [1, 2, 3].map(() => a.newSessionId?.('alice@example.com', (n) => Buffer.alloc(n, 7)) as string);
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const tag = ids[0]?.slice(0, 11);
      expect(a.newSessionId?.('alice@example.com', (n) => Buffer.alloc(n, 9)).slice(0, 11)).toBe(tag);
      expect(a.newSessionId?.('bob@example.com', (n) => Buffer.alloc(n, 7)).slice(0, 11)).not.toBe(tag);
      expect(b.newSessionId?.('alice@example.com', (n) => Buffer.alloc(n, 7)).slice(0, 11)).not.toBe(tag);
      expect(Buffer.from(ids[0] as string, 'base64url').toString('latin1')).not.toContain('alice');
      expect(await a.get('not-an-id')).toBeNull();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('sets native expiry on every key it writes, longer for a revoked record', async () => {
    const store = await redisStore({ url: REDIS_URL, prefix: `${prefix}ttl:` });
    try {
      const sessions = createSessionManager({ store, secret, idleTimeout: '10m', absoluteTimeout: '1h' });
      const { session } = await sessions.create({ userId: 'ttl-user' });
      const tag = session.id.slice(0, 11);
      const recordKey = `${prefix}ttl:{${tag}}:s:${session.id.slice(11)}`;
      const ttl = await admin.pttl(recordKey);
      expect(ttl).toBeGreaterThan(9 * 60_000);
      expect(ttl).toBeLessThanOrEqual(10 * 60_000);
      expect(await admin.pttl(`${prefix}ttl:{${tag}}:u`)).toBeGreaterThan(9 * 60_000);
      await sessions.revoke(session.id);
      expect(await admin.pttl(recordKey)).toBeGreaterThan(59 * 60_000);
    } finally {
      await store.close();
    }
  });

  it('announces revocations and signing-key changes to every store on the same prefix', async () => {
    const writer = await redisStore({ url: REDIS_URL, prefix: `${prefix}watch:` });
    const reader = await redisStore({ url: REDIS_URL, prefix: `${prefix}watch:` });
    try {
      const changes: StoreChange[] = [];
      let wake: () => void = () => {};
      const stop = reader.watch((c) => {
        changes.push(c);
        wake();
      });
      const waitFor = (count: number) => new Promise<void>((resolve) => {
        wake = () => { if (changes.length >= count) resolve(); };
        wake();
      });
      while (Number((await admin.pubsub('NUMSUB', `${prefix}watch:changes`))[1]) < 1) await new Promise((r) => setTimeout(r, 20));
      const sessions = createSessionManager({ store: writer, secret });
      const { session } = await sessions.create({ userId: 'watched' });
      await sessions.revoke(session.id);
      await waitFor(1);
      expect(changes[0]).toMatchObject({ type: 'revoked', sessionId: session.id, userId: 'watched' });
      await writer.putRecord('signing-keys', 'k1', { kid: 'k1' });
      await waitFor(2);
      expect(changes[1]?.type).toBe('keys');
      stop();
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('chains audit events written by the scripts exactly as verifyChain recomputes them, whatever the user id', async () => {
    const store = await redisStore({ url: REDIS_URL, prefix: `${prefix}chain:` });
    try {
      const clock = fakeClock();
      const sessions = createSessionManager({ store, secret, now: clock.now, maxSessionsPerUser: 1 });
      const userId = 'odd "user"\\ / \u0001\t\n żółw ✓ 😀';
      const first = await sessions.create({ userId }, { ip: '203.0.113.5', userAgent: 'ua "quoted"', requestId: 'r/1' });
      clock.advance(1);
      await sessions.create({ userId });
      await sessions.create({ userId: 'other' });
      await sessions.revokeAllForUser(userId, { actor: 'admin\u0007' });
      const events = (await store.queryAudit({ after: 0, limit: 100 }));
      expect(events.map((e) => e.type)).toEqual(['session.created', 'session.created', 'session.revoked', 'session.created', 'session.revoked']);
      expect(events[2]).toMatchObject({ sessionId: first.session.id, userId, reason: 'evicted' });
      expect(verifyChain(events, GENESIS_HASH)).toEqual({ ok: true, count: 5 });
      expect((await store.queryAudit({ userId, type: 'session.revoked' })).map((e) => e.reason)).toEqual(['logout_all', 'evicted']);
      expect((await store.queryAudit({ before: 3, limit: 1 }))[0]?.seq).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('read memo: sees a change written through another store object, touches included, and never shares a mutable value', async () => {
    const a = await redisStore({ url: REDIS_URL, prefix: `${prefix}memo:` });
    const b = await redisStore({ url: REDIS_URL, prefix: `${prefix}memo:` });
    try {
      await expectMemoSeesOtherWriters(a, b, secret);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('read memo: reads the same with it off or smaller than the hot set, and refuses a bad readCache', async () => {
    await expectSameReadsWithoutTheMemo((readCache) => redisStore({ url: REDIS_URL, prefix: `${prefix}rc${readCache}:`, readCache }), secret);
    for (const readCache of [-1, 1.5, '10' as unknown as number]) {
      await expect(redisStore({ url: REDIS_URL, prefix: `${prefix}bad:`, readCache })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/readCache/) });
    }
  });
});
