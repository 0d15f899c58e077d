import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { SessionError } from '../../src/core/errors.js';
import { redisStore, type RedisSessionStore } from '../../src/stores/redis.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { redisServerInstalled, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

async function failure(promise: Promise<unknown>): Promise<SessionError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SessionError);
    return err as SessionError;
  }
  throw new Error('expected the call to fail closed, but it resolved');
}

/** Retries until the store answers again (ioredis reconnects on its own), for at most 15 s. */
async function untilAvailable<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof SessionError) || err.code !== 'store_unavailable' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describeIfAvailable(redisServerInstalled, 'redis-server binary', 'PATH (install redis-server)', 'PATH')('redis store fails closed', () => {
  let server: RedisServer;
  let store: RedisSessionStore;
  beforeAll(async () => {
    // AOF with fsync on every write: an acknowledged session survives the SIGKILL below.
    server = await startRedisServer(['appendonly yes', 'appendfsync always']);
    store = await redisStore({ url: server.url, commandTimeout: 500 });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it('rejects with store_unavailable when the server hangs, then answers when it resumes', async () => {
    const sessions = createSessionManager({ store, secret: 'fail-closed-test-secret-0123456789abcdef' });
    const { token } = await sessions.create({ userId: 'u' });
    server.process.kill('SIGSTOP');
    try {
      const err = await failure(sessions.validate(token));
      expect(err.code).toBe('store_unavailable');
      expect(err.message).toContain('timed out');
    } finally {
      server.process.kill('SIGCONT');
    }
    await untilAvailable(() => sessions.validate(token));
  });

  it('rejects with store_unavailable while the server is down, and the same store recovers after a restart', async () => {
    const sessions = createSessionManager({ store, secret: 'fail-closed-test-secret-0123456789abcdef' });
    const { token, session } = await sessions.create({ userId: 'u' });
    await server.kill();
    expect((await failure(sessions.validate(token))).code).toBe('store_unavailable');
    expect((await failure(sessions.create({ userId: 'u' }))).code).toBe('store_unavailable');
    expect((await failure(store.ping())).code).toBe('store_unavailable');
    await server.restart();
    const back = await untilAvailable(() => sessions.validate(token));
    expect(back.id).toBe(session.id);
    await sessions.revoke(session.id);
    expect((await failure(sessions.validate(token))).code).toBe('session_revoked');
  });
});
