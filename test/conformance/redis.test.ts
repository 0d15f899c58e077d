import { afterAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { storeSuite } from '../../src/testing/index.js';
import { redisStore, type RedisSessionStore } from '../../src/stores/redis.js';
import { describeIfAvailable, tcpReachable } from '../helpers/availability.js';
import { REDIS_URL, countByPrefix, deleteByPrefix, uniquePrefix } from '../helpers/redis-env.js';

const available = await tcpReachable(REDIS_URL);
const runPrefix = uniquePrefix('conf');
let n = 0;
const prefixes = new WeakMap<object, string>();

describeIfAvailable(available, 'Redis', 'REDIS_URL', REDIS_URL)('redis store (standalone)', () => {
  const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  afterAll(async () => {
    await deleteByPrefix(admin, runPrefix);
    admin.disconnect();
  });

  storeSuite('redis', async () => {
    const prefix = `${runPrefix}${(n += 1)}:`;
    const store = await redisStore({ url: REDIS_URL, prefix });
    prefixes.set(store, prefix);
    return store;
  }, {
    cleanup: async (store) => {
      await deleteByPrefix(admin, prefixes.get(store) as string);
    },
    // A real client failure, not the store's closed flag: the connection is gone for good.
    breakStore: (store) => (store as RedisSessionStore).client.disconnect(),
  });

  it('leaves no key of this run behind', async () => {
    expect(await countByPrefix(admin, runPrefix)).toBe(0);
  });
});
