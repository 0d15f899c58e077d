import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createSessionManager } from '../../src/core/manager.js';
import { redisStore, type RedisSessionStore } from '../../src/stores/redis.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { directClient, redisServerInstalled, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

/**
 * Watches the server with MONITOR on a second connection and records the commands clients send
 * (a script's inner commands are reported with source `lua` and left out: they cost no round trip).
 */
async function monitorCommands(admin: Redis): Promise<{ during(work: () => Promise<unknown>): Promise<Record<string, number>>; stop(): void }> {
  const markers = admin.duplicate();
  await markers.ping();
  const monitor = await admin.monitor();
  let seen: string[] = [];
  let marker: { name: string; resolve: () => void } | null = null;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua') return;
    const cmd = String(args[0]).toLowerCase();
    if (cmd === 'echo' && marker && args[1] === marker.name) marker.resolve();
    else seen.push(cmd);
  });
  let n = 0;
  // Every command sent before a marker has been reported once the marker is.
  const flush = async (): Promise<void> => {
    const name = `mark-${(n += 1)}`;
    await new Promise<void>((resolve) => {
      marker = { name, resolve };
      void markers.echo(name);
    });
  };
  return {
    async during(work) {
      // Drain what earlier work sent (MONITOR reports lag under load) before counting this work.
      await flush();
      seen = [];
      await work();
      await flush();
      const counts: Record<string, number> = {};
      for (const c of seen) counts[c] = (counts[c] ?? 0) + 1;
      return counts;
    },
    stop: () => {
      monitor.disconnect();
      markers.disconnect();
    },
  };
}

// A server of its own, so the only commands seen are this store's.
describeIfAvailable(redisServerInstalled, 'redis-server binary', 'PATH (install redis-server)', 'PATH')('redis store round trips', () => {
  let server: RedisServer;
  let store: RedisSessionStore;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    store = await redisStore({ url: server.url });
    admin = directClient(server.port);
  });
  afterAll(async () => {
    admin?.disconnect();
    await store?.close();
    await server?.stop();
  });

  it('validates with exactly one command and creates with one script call, sent once and then by SHA', async () => {
    const monitor = await monitorCommands(admin);
    try {
      const sessions = createSessionManager({ store, secret: 'round-trip-test-secret-0123456789abcdef', maxSessionsPerUser: 5 });
      let issued = await sessions.create({ userId: 'u', device: { userAgent: 'Mozilla/5.0', ip: '192.0.2.1' } });
      expect(await monitor.during(() => sessions.validate(issued.token))).toEqual({ get: 1 });
      expect(await monitor.during(async () => { issued = await sessions.create({ userId: 'u' }); })).toEqual({ evalsha: 1 });
      // `replaces` costs the manager one GET to check the presented token; the create is one script.
      expect(await monitor.during(() => sessions.create({ userId: 'u', replaces: issued.token }))).toEqual({ get: 1, evalsha: 1 });
      // A script's first use on a connection sends its source (EVAL, which also loads it); later uses send only the SHA.
      expect(await monitor.during(() => sessions.revokeAllForUser('u'))).toEqual({ eval: 1 });
      expect(await monitor.during(() => sessions.revokeAllForUser('u'))).toEqual({ evalsha: 1 });
      expect(await monitor.during(() => sessions.listForUser('u'))).toEqual({ eval: 1 });
      expect(await monitor.during(() => sessions.listForUser('u'))).toEqual({ evalsha: 1 });
    } finally {
      monitor.stop();
    }
  });
});
