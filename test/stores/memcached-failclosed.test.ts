import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { memcachedStore, type MemcachedSessionStore } from '../../src/stores/memcached.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { memcachedBinary, startMemcached, type MemcachedServer } from '../helpers/memcached-server.js';

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-memcached-failclosed-'));
const secret = 'memcached-failclosed-secret-0123456789abcdef';
const started: MemcachedServer[] = [];
const open: MemcachedSessionStore[] = [];
let n = 0;

async function storeOn(servers: MemcachedServer[], commandTimeout?: number): Promise<MemcachedSessionStore> {
  n += 1;
  const store = await memcachedStore({
    servers: servers.map((s) => s.address), prefix: `fc${n}:`, ...(commandTimeout ? { commandTimeout } : {}),
    audit: sqliteStore({ path: join(dir, `audit-${n}.db`), synchronous: 'normal' }),
  });
  open.push(store);
  return store;
}
async function server(): Promise<MemcachedServer> {
  const s = await startMemcached();
  started.push(s);
  return s;
}

describeIfAvailable(memcachedBinary !== null, 'memcached binary', 'PATH (apt-get install memcached)', 'PATH')('memcached store fails closed', () => {
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers store_unavailable while the server is stopped, and works again (empty) when it is back', async () => {
    const mc = await server();
    const sessions = createSessionManager({ store: await storeOn([mc]), secret });
    const { token } = await sessions.create({ userId: 'u' });
    await mc.kill();
    await expect(sessions.validate(token)).rejects.toMatchObject({ code: 'store_unavailable', status: 503 });
    await expect(sessions.create({ userId: 'u' })).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(sessions.listForUser('u')).rejects.toMatchObject({ code: 'store_unavailable' });
    await mc.start();
    // A restarted Memcached is empty: the old session reads as not found, never as valid.
    await expect(sessions.validate(token)).rejects.toMatchObject({ code: 'session_not_found' });
    const fresh = await sessions.create({ userId: 'u' });
    expect((await sessions.validate(fresh.token)).userId).toBe('u');
  });

  it('gives up on a server that accepts but never answers after the default 2 s command timeout, then recovers', async () => {
    const mc = await server();
    const store = await storeOn([mc]);
    const sessions = createSessionManager({ store, secret });
    const { token } = await sessions.create({ userId: 'frozen' });
    await mc.freeze();
    try {
      const err = await sessions.validate(token).then(() => null, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'store_unavailable', message: expect.stringMatching(/timeout/i) });
    } finally {
      mc.thaw();
    }
    expect((await sessions.validate(token)).userId).toBe('frozen');
    await store.ping();
  });

  it('keeps serving the users of a live server while another server of the ring is down', async () => {
    const [a, b] = [await server(), await server()];
    const store = await storeOn([a, b], 500);
    const sessions = createSessionManager({ store, secret });
    const issued = await Promise.all(Array.from({ length: 16 }, (_, i) => sessions.create({ userId: `ring-${i}` })));
    await b.kill();
    let served = 0;
    let refused = 0;
    for (const { token, session } of issued) {
      if (store.serverOf(session.id) === a.address) {
        await sessions.validate(token);
        served += 1;
      } else {
        await expect(sessions.validate(token)).rejects.toMatchObject({ code: 'store_unavailable' });
        refused += 1;
      }
    }
    expect(served).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    await expect(store.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
  });
});
