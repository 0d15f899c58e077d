/**
 * The LISTEN connection notices a server that stopped answering without closing the socket (the
 * heartbeat), reconnects when it returns, and hears notifications again.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startListener } from '../../src/stores/postgres/listener.js';
import { adminPool, closeAdminPool, DATABASE_URL, describePg, randomSchema } from '../helpers/pg-env.js';
import { startProxy, type PgProxy } from '../helpers/pg-proxy.js';

/** A promise with its resolver, to wait for a callback without sleeping. */
function signal<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

describePg('postgres LISTEN connection', () => {
  let proxy: PgProxy;
  beforeAll(async () => { proxy = await startProxy(DATABASE_URL); });
  afterAll(async () => {
    await proxy.close();
    await closeAdminPool();
  });

  it('finds a silently dead connection with its heartbeat, reconnects, and hears again', async () => {
    const channel = `sk:${randomSchema('listen')}`;
    let listening = signal();
    const lost = signal();
    let payload = signal<string>();
    const listener = startListener({
      makeClient: (config) => new pg.Client(config),
      config: { connectionString: proxy.url, connectionTimeoutMillis: 300 },
      channel,
      onPayload: (p) => payload.resolve(p),
      onListening: () => listening.resolve(),
      onLost: () => lost.resolve(),
      heartbeatMs: 100,
      heartbeatTimeoutMs: 300,
    });
    try {
      await listening.promise;
      await adminPool().query('SELECT pg_notify($1, $2)', [channel, 'first']);
      expect(await payload.promise).toBe('first');

      listening = signal();
      proxy.cut('blackhole');
      // Nothing errors on a blackholed socket: only the heartbeat can notice.
      await lost.promise;
      proxy.resume();
      await listening.promise;
      payload = signal<string>();
      await adminPool().query('SELECT pg_notify($1, $2)', [channel, 'second']);
      expect(await payload.promise).toBe('second');
    } finally {
      await listener.stop();
    }
  });
});
