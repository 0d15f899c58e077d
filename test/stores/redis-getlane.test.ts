import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createSessionManager } from '../../src/core/manager.js';
import { SessionError } from '../../src/core/errors.js';
import type { StoredSession } from '../../src/core/types.js';
import { redisStore, type RedisSessionStore } from '../../src/stores/redis.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { directClient, redisServerInstalled, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

/**
 * The read lane (src/stores/redis/get-lane.ts): the store's own connection for session GETs.
 * A server of its own with an ACL user, so the lane's handshake (AUTH user pass, SELECT db) is real.
 */
describeIfAvailable(redisServerInstalled, 'redis-server binary', 'PATH (install redis-server)', 'PATH')('redis store read lane', () => {
  let server: RedisServer;
  let store: RedisSessionStore;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer(['user lane-user on >lane-secret-0123 ~* &* +@all']);
    store = await redisStore({ url: `redis://lane-user:lane-secret-0123@127.0.0.1:${server.port}/3`, prefix: 'lane:' });
    admin = directClient(server.port);
  });
  afterAll(async () => {
    admin?.disconnect();
    await store?.close();
    await server?.stop();
  });

  const record = (userId: string, data: Record<string, unknown>): StoredSession => {
    const now = Date.now();
    return {
      id: store.newSessionId?.(userId, randomBytes) as string, secretHash: 'a'.repeat(64), previousSecretHash: null,
      previousSecretExpiresAt: null, usedSecretHashes: [], generation: 0, tokenType: 'opaque', userId, roles: ['user'],
      createdAt: now, lastSeenAt: now, idleExpiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000, idleTimeout: 60_000,
      absoluteTimeout: 3_600_000, policy: null, authenticatedAt: now, authMethods: [],
      device: { userAgent: null, ip: null, label: null, browser: 'Hand-set', os: null, type: 'desktop' }, data, version: 1,
      revokedAt: null, revokeReason: null,
    };
  };

  it('authenticates as the URL user, selects its database, and validates through it', async () => {
    const sessions = createSessionManager({ store, secret: 'lane-test-secret-0123456789abcdef0123' });
    const { token, session } = await sessions.create({ userId: 'alice', device: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' } });
    const validated = await sessions.validate(token);
    expect(validated.id).toBe(session.id);
    // Derived again on read from the user agent (the compact record does not store them).
    expect(validated.device).toMatchObject({ browser: 'Firefox', os: 'Linux', type: 'desktop' });
    const clients = (await admin.client('LIST') as string).split('\n').filter((l) => l.includes('user=lane-user'));
    expect(clients.length).toBe(2); // the main connection and the read lane
    for (const c of clients) expect(c).toContain(' db=3 ');
    await admin.select(3);
    expect(await admin.exists(`lane:{${session.id.slice(0, 11)}}:s:${session.id.slice(11)}`)).toBe(1);
    await admin.select(0);
  });

  it('reads values larger than a socket chunk, with multi-byte characters across chunk edges, and many in one batch in order', async () => {
    // ~600 kB of 1-4 byte UTF-8 characters: the reply spans many `data` events, split anywhere.
    const big = 'aé€😀'.repeat(60_000);
    const large = record('bob', { big, note: 'żółw ✓' });
    await store.create(large, { now: Date.now(), events: [] });
    const small = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
      const r = record(`user-${i}`, { i });
      await store.create(r, { now: Date.now(), events: [] });
      return r;
    }));
    const missing = store.newSessionId?.('nobody', randomBytes) as string;
    // One tick: all of these go out in one write and come back as one stream of replies.
    const reads = await Promise.all([store.get(large.id), ...small.map((r) => store.get(r.id)), store.get(missing), store.get(large.id)]);
    expect(reads[0]).toEqual(large);
    expect(reads[reads.length - 1]).toEqual(large);
    expect(reads.slice(1, 41)).toEqual(small);
    expect(reads[41]).toBeNull();
  });

  it('fails a read closed when the key holds something else, and keeps working after it', async () => {
    const r = record('carol', {});
    await store.create(r, { now: Date.now(), events: [] });
    const key = `lane:{${r.id.slice(0, 11)}}:s:${r.id.slice(11)}`;
    await admin.select(3);
    await admin.del(key);
    await admin.hset(key, 'x', '1');
    await admin.select(0);
    const err = await store.get(r.id).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(SessionError);
    expect((err as SessionError).code).toBe('store_unavailable');
    expect((err as SessionError).message).toContain('WRONGTYPE');
    const other = record('dave', {});
    await store.create(other, { now: Date.now(), events: [] });
    expect(await store.get(other.id)).toEqual(other);
  });

  it('refuses reads after close', async () => {
    const closing = await redisStore({ url: `redis://lane-user:lane-secret-0123@127.0.0.1:${server.port}/3`, prefix: 'lane:' });
    const r = record('erin', {});
    await closing.create(r, { now: Date.now(), events: [] });
    expect(await closing.get(r.id)).toEqual(r);
    await closing.close();
    const err = await closing.get(r.id).then(() => null, (e: unknown) => e);
    expect((err as SessionError).code).toBe('store_unavailable');
  });
});
