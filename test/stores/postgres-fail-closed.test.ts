/**
 * Fail closed, recover by itself: a store whose server goes away rejects with store_unavailable
 * (never hangs, never resolves), and the same store object works again when the server returns.
 * "The server" is a proxy this file controls in front of the shared PostgreSQL, which keeps running.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { SessionError } from '../../src/core/errors.js';
import { postgresStore, type PostgresStore } from '../../src/stores/postgres.js';
import type { StoreChange } from '../../src/stores/types.js';
import { closeAdminPool, DATABASE_URL, describePg, dropSchema, randomSchema } from '../helpers/pg-env.js';
import { startProxy, type PgProxy } from '../helpers/pg-proxy.js';

const SECRET = 'fail-closed-test-secret-0123456789abcdef';

async function expectUnavailable(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(SessionError);
  expect((err as SessionError).code).toBe('store_unavailable');
}

describePg('postgres store when its server goes away', () => {
  let proxy: PgProxy;
  const stores: PostgresStore[] = [];
  const make = (options: { timeout?: string } = {}, url?: string): PostgresStore => {
    const schema = stores[0]?.schema ?? randomSchema('fc');
    const s = postgresStore({ connectionString: url ?? proxy.url, schema, poolSize: 2, ...options });
    stores.push(s);
    return s;
  };

  beforeAll(async () => { proxy = await startProxy(DATABASE_URL); });
  afterEach(async () => {
    proxy.resume();
    const schema = stores[0]?.schema;
    for (const s of stores.splice(0)) await s.close();
    if (schema) await dropSchema(schema);
  });
  afterAll(async () => {
    await proxy.close();
    await closeAdminPool();
  });

  it('rejects validate and create with store_unavailable when connections are refused, then recovers', async () => {
    const store = make();
    const sessions = createSessionManager({ store, secret: SECRET });
    const { token } = await sessions.create({ userId: 'u' });
    proxy.cut('refuse');
    await expectUnavailable(sessions.validate(token));
    await expectUnavailable(sessions.create({ userId: 'u' }));
    await expectUnavailable(store.ping());
    proxy.resume();
    expect((await sessions.validate(token)).userId).toBe('u');
    await sessions.create({ userId: 'u' });
  });

  it('gives up within the default timeout when the server stops answering, then recovers', async () => {
    const store = make();
    const sessions = createSessionManager({ store, secret: SECRET });
    const { token } = await sessions.create({ userId: 'u' });
    proxy.cut('blackhole');
    // Nothing answers and nothing resets: only the store's own 2 s deadline can end these calls.
    await expectUnavailable(sessions.validate(token));
    await expectUnavailable(sessions.revoke('some-id'));
    proxy.resume();
    expect((await sessions.validate(token)).userId).toBe('u');
  });

  it('starts while the server is down and migrates once it is back', async () => {
    proxy.cut('refuse');
    const store = make();
    await expectUnavailable(store.ready());
    const sessions = createSessionManager({ store, secret: SECRET });
    await expectUnavailable(sessions.create({ userId: 'u' }));
    proxy.resume();
    const { token } = await sessions.create({ userId: 'u' });
    await sessions.validate(token);
  });

  it('reconnects its LISTEN connection and hears other processes again', async () => {
    const watcher = make();
    await watcher.ready();
    const other = make({}, DATABASE_URL);
    const heard: StoreChange[] = [];
    let onHeard: (() => void) | null = null;
    watcher.watch((c) => { heard.push(c); onHeard?.(); });
    await watcher.listening();
    proxy.cut('refuse');
    await expectUnavailable(watcher.ping());
    proxy.resume();
    await watcher.ping();
    await watcher.listening();
    const arrived = new Promise<void>((resolve) => { onHeard = resolve; });
    await other.putRecord('signing-keys', 'k1', { kid: 'k1' });
    await arrived;
    expect(heard).toEqual([{ type: 'keys', at: expect.any(Number) }]);
  });

  it('rejects every call after close', async () => {
    const store = make();
    await store.ready();
    await store.close();
    await expectUnavailable(store.get('x'));
    await expectUnavailable(store.ready());
  });
});
