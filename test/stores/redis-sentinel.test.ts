import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { SessionError } from '../../src/core/errors.js';
import { redisStore } from '../../src/stores/redis.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { waitForReplicas } from '../helpers/redis-cluster.js';
import { freePort, redisServerInstalled, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

describeIfAvailable(redisServerInstalled, 'redis-server binary', 'PATH (install redis-server)', 'PATH')('redis store through Sentinel', () => {
  const servers: RedisServer[] = [];
  let sentinelUrl = '';
  let sentinelPort = 0;
  const cli = (port: number, ...args: string[]): string => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout;
  beforeAll(async () => {
    const master = await startRedisServer();
    servers.push(master);
    const replica = await startRedisServer([`replicaof 127.0.0.1 ${master.port}`]);
    servers.push(replica);
    // Revocations wait for one replica by default on Sentinel (revocationReplicas): let it sync.
    await waitForReplicas([replica.port]);
    sentinelPort = await freePort();
    servers.push(await startRedisServer([`sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
      'sentinel down-after-milliseconds mymaster 1000'], { sentinel: true, port: sentinelPort }));
    const deadline = Date.now() + 15_000;
    while (!spawnSync('redis-cli', ['-p', String(sentinelPort), 'sentinel', 'get-master-addr-by-name', 'mymaster'], { encoding: 'utf8' }).stdout.includes(String(master.port))) {
      if (Date.now() > deadline) throw new Error('sentinel did not learn the master');
      await new Promise((r) => setTimeout(r, 100));
    }
    sentinelUrl = `redis+sentinel://127.0.0.1:${sentinelPort}/mymaster`;
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('creates, validates and revokes a session through redis+sentinel://', async () => {
    const store = await redisStore({ url: sentinelUrl });
    try {
      const sessions = createSessionManager({ store, secret: 'sentinel-test-secret-0123456789abcdef' });
      const { token, session } = await sessions.create({ userId: 'sentinel-user' });
      expect((await sessions.validate(token)).id).toBe(session.id);
      expect(await sessions.revoke(session.id)).toBe(true);
      await expect(sessions.validate(token)).rejects.toSatisfy((e) => e instanceof SessionError && e.code === 'session_revoked');
      expect((await store.queryAudit({ sessionId: session.id })).map((e) => e.type)).toEqual(['session.rejected', 'session.revoked', 'session.created']);
    } finally {
      await store.close();
    }
  });

  it('does not acknowledge a revocation that no replica holds (revocationReplicas, default 1 on Sentinel)', async () => {
    const store = await redisStore({ url: sentinelUrl, revocationWaitTimeout: 200 });
    const replica = servers[1] as RedisServer;
    try {
      const sessions = createSessionManager({ store, secret: 'sentinel-test-secret-0123456789abcdef' });
      const { session } = await sessions.create({ userId: 'sentinel-wait-user' });
      replica.freeze();
      try {
        await expect(sessions.revoke(session.id)).rejects.toSatisfy((e) => e instanceof SessionError && e.code === 'store_unavailable');
      } finally {
        replica.thaw();
      }
    } finally {
      await store.close();
    }
  });

  it('acknowledges revocations without replicas when the URL says ?revocationReplicas=0', async () => {
    const store = await redisStore({ url: `${sentinelUrl}?revocationReplicas=0` });
    const replica = servers[1] as RedisServer;
    try {
      const sessions = createSessionManager({ store, secret: 'sentinel-test-secret-0123456789abcdef' });
      const { session } = await sessions.create({ userId: 'sentinel-nowait-user' });
      replica.freeze();
      try {
        expect(await sessions.revoke(session.id)).toBe(true);
      } finally {
        replica.thaw();
      }
    } finally {
      await store.close();
    }
  });

  it('goes on writing on the new master after a manual failover (SENTINEL FAILOVER)', async () => {
    // Sentinel ends the old master's client connections when it demotes a reachable one (CLIENT
    // KILL), so ioredis reconnects by itself here; READONLY handling and the watch are for the
    // cases where nobody ends them (a frozen master; docs/OPERATIONS.md, "Failover").
    const store = await redisStore({ url: sentinelUrl });
    try {
      const sessions = createSessionManager({ store, secret: 'sentinel-test-secret-0123456789abcdef' });
      await sessions.create({ userId: 'sentinel-readonly-user' });
      const before = Number(cli(sentinelPort, 'sentinel', 'get-master-addr-by-name', 'mymaster').split('\n')[1]);
      expect(cli(sentinelPort, 'sentinel', 'failover', 'mymaster').trim()).toBe('OK');
      const deadline = Date.now() + 20_000;
      while (!cli(before, 'info', 'replication').includes('role:slave')
        || Number(cli(sentinelPort, 'sentinel', 'get-master-addr-by-name', 'mymaster').split('\n')[1]) === before) {
        if (Date.now() > deadline) throw new Error('the manual failover did not finish');
        await new Promise((r) => setTimeout(r, 100));
      }
      const { token, session } = await sessions.create({ userId: 'sentinel-readonly-user' });
      expect((await sessions.validate(token)).id).toBe(session.id);
    } finally {
      await store.close();
    }
  }, 30_000);
});
