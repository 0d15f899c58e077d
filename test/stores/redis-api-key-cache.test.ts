// Verified API keys are cached for API_KEY_CACHE_MS on Redis (issue 22, Low 7): on a Cluster all
// keys live in one hash slot, so without the cache a failover of that one shard failed every
// API call on every shard. A revocation still reaches every process at once (pub/sub notice), and
// the TTL bounds it when the notice is lost. Time is a fake clock; only the notice is waited for.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import { API_KEY_CACHE_MS, authenticateApiKey, createApiKey, revokeApiKey } from '../../src/server/api-keys.js';
import { redisStore, type RedisSessionStore } from '../../src/stores/redis.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { directClient, redisServerInstalled, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniquePrefix } from '../helpers/redis-env.js';

describeIfAvailable(redisServerInstalled, 'redis-server binary', 'PATH (install redis-server)', 'PATH')('API keys verified on a Redis store', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Two "processes" (store objects) sharing one prefix, and a fake clock. */
  async function twoProcesses(): Promise<{ a: RedisSessionStore; b: RedisSessionStore; prefix: string; clock: { t: number; now: () => number } }> {
    const prefix = uniquePrefix('apikey');
    const a = await redisStore({ url: server.url, prefix, commandTimeout: 500 });
    const b = await redisStore({ url: server.url, prefix, commandTimeout: 500 });
    const clock = { t: 1_700_000_000_000, now: () => clock.t };
    return { a, b, prefix, clock };
  }

  it('sees a key revoked by another process through the revocation notice, long before the cache TTL', async () => {
    const { a, b, prefix, clock } = await twoProcesses();
    const raw = directClient(server.port);
    try {
      const { id, key } = await createApiKey(b, { name: 'shop', scopes: ['sessions'] });
      expect((await authenticateApiKey(a, key, { now: clock.now }))?.id).toBe(id);
      // The first verification subscribed process a to the notices: wait until Redis has it.
      while (Number((await raw.pubsub('NUMSUB', `${prefix}changes`))[1]) < 1) await new Promise((r) => setTimeout(r, 20));
      expect(await revokeApiKey(b, id)).toBe(true);
      // The fake clock stands still: only the notice can end the cached entry.
      const deadline = Date.now() + 5000;
      while (await authenticateApiKey(a, key, { now: clock.now }) !== null) {
        if (Date.now() > deadline) throw new Error('the revoked key was still accepted from the cache');
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      raw.disconnect();
      await a.close();
      await b.close();
    }
  });

  it('reads a key again once API_KEY_CACHE_MS has passed, so a lost notice is bounded by the TTL', async () => {
    const { a, b, prefix, clock } = await twoProcesses();
    const raw = directClient(server.port);
    try {
      const { id, key } = await createApiKey(b, { name: 'shop', scopes: ['sessions'] });
      expect((await authenticateApiKey(a, key, { now: clock.now }))?.id).toBe(id);
      // Deleted without a notice, as when the subscriber was down at the time.
      expect(await raw.hdel(`${prefix}{r}:api-keys`, id)).toBe(1);
      clock.t += API_KEY_CACHE_MS - 1;
      expect((await authenticateApiKey(a, key, { now: clock.now }))?.id).toBe(id);
      clock.t += 1;
      expect(await authenticateApiKey(a, key, { now: clock.now })).toBeNull();
    } finally {
      raw.disconnect();
      await a.close();
      await b.close();
    }
  });

  it('refuses a wrong secret for a cached key id', async () => {
    const { a, b, clock } = await twoProcesses();
    try {
      const { key } = await createApiKey(b, { name: 'shop', scopes: ['sessions'] });
      expect(await authenticateApiKey(a, key, { now: clock.now })).not.toBeNull();
      const forged = `${key.slice(0, key.indexOf('.') + 1)}${'A'.repeat(43)}`;
      expect(await authenticateApiKey(a, forged, { now: clock.now })).toBeNull();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps a verified key working while its Redis does not answer, within the cache TTL, then fails closed', async () => {
    const { a, b, clock } = await twoProcesses();
    try {
      const { id, key } = await createApiKey(b, { name: 'shop', scopes: ['sessions'] });
      expect((await authenticateApiKey(a, key, { now: clock.now }))?.id).toBe(id);
      server.freeze();
      try {
        clock.t += API_KEY_CACHE_MS - 1;
        expect((await authenticateApiKey(a, key, { now: clock.now }))?.id).toBe(id);
        clock.t += 1;
        await expect(authenticateApiKey(a, key, { now: clock.now })).rejects.toSatisfy((e) => e instanceof SessionError && e.code === 'store_unavailable');
      } finally {
        server.thaw();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
