import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { createSessionManager } from '../../src/core/manager.js';
import { SessionError } from '../../src/core/errors.js';
import { storeSuite } from '../../src/testing/index.js';
import { redisStore, type RedisSessionStore } from '../../src/stores/redis.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { keySlot, masterPortOfSlot, startRedisCluster, waitForPromotion, type RedisClusterHandle } from '../helpers/redis-cluster.js';
import { redisServerInstalled } from '../helpers/redis-server.js';

let cluster: RedisClusterHandle;
let n = 0;

describeIfAvailable(redisServerInstalled, 'redis-server binary', 'PATH (install redis-server)', 'PATH')('redis store on a real Redis Cluster (3 masters, 3 replicas)', () => {
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  storeSuite('redis cluster', () => redisStore({ url: cluster.url, prefix: `c${(n += 1)}:` }), {
    breakStore: (store) => (store as RedisSessionStore).client.disconnect(),
  });

  describe('failover', () => {
    it('keeps sessions written before a master is killed and its replica promoted', async () => {
      const store = await redisStore({ url: cluster.url, prefix: 'failover:' });
      try {
        expect(store.isCluster).toBe(true);
        const sessions = createSessionManager({ store, secret: 'failover-test-secret-0123456789abcdef' });
        const issued = await Promise.all(Array.from({ length: 24 }, (_, i) => sessions.create({ userId: `user-${i}` })));
        // Redis replicates asynchronously: WAIT makes this test's writes reach a replica first
        // (docs/OPERATIONS.md describes the window without it).
        const masters = (store.client as Cluster).nodes('master');
        const acks = await Promise.all(masters.map((m) => m.call('WAIT', 1, 1500) as Promise<number>));
        expect(acks.every((a) => a >= 1)).toBe(true);

        const first = issued[0]?.session.id as string;
        const askPort = cluster.servers[0]?.port as number;
        const slot = keySlot(askPort, `failover:{${first.slice(0, 11)}}:s:x`);
        const victimPort = masterPortOfSlot(askPort, slot);
        const victim = cluster.servers.find((s) => s.port === victimPort);
        if (!victim) throw new Error('the master of the slot is not one of ours');
        await victim.kill();
        const survivors = cluster.servers.filter((s) => s !== victim).map((s) => s.port);
        const promoted = await waitForPromotion(survivors, slot, victimPort);
        expect(survivors).toContain(promoted);

        // The store fails closed while the client learns the new slot map, then answers again.
        const deadline = Date.now() + 20_000;
        for (;;) {
          try {
            await sessions.validate(issued[0]?.token);
            break;
          } catch (err) {
            if (!(err instanceof SessionError) || err.code !== 'store_unavailable' || Date.now() > deadline) throw err;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        for (const { token, session } of issued) expect((await sessions.validate(token)).id).toBe(session.id);
      } finally {
        await store.close();
      }
    });
  });
});
