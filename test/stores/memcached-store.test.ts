import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/chain.js';
import { createSessionManager } from '../../src/core/manager.js';
import { SessionError } from '../../src/core/errors.js';
import { memoryStore } from '../../src/stores/memory.js';
import { memcachedStore, type MemcachedSessionStore } from '../../src/stores/memcached.js';
import { sqliteStore, type SqliteSessionStore } from '../../src/stores/sqlite.js';
import type { StoreChange } from '../../src/stores/types.js';
import { fakeClock } from '../../src/testing/index.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { dropKey, keysOn, ttlOf } from '../helpers/memcached-raw.js';
import { memcachedBinary, startMemcached, type MemcachedServer } from '../helpers/memcached-server.js';

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-memcached-store-'));
const secret = 'memcached-store-test-secret-0123456789abcdef';
let servers: MemcachedServer[] = [];
let n = 0;
const open: MemcachedSessionStore[] = [];

async function makeStore(opts: { audit?: SqliteSessionStore; prefix?: string } = {}): Promise<MemcachedSessionStore> {
  n += 1;
  const store = await memcachedStore({
    servers: servers.map((s) => s.address), prefix: opts.prefix ?? `st${n}:`,
    audit: opts.audit ?? sqliteStore({ path: join(dir, `audit-${n}.db`), synchronous: 'normal' }),
  });
  open.push(store);
  return store;
}
const portOf = (address: string | null): number => Number(address?.split(':')[1]);

describeIfAvailable(memcachedBinary !== null, 'memcached binary', 'PATH (apt-get install memcached)', 'PATH')('memcached store', () => {
  beforeAll(async () => {
    servers = await Promise.all([startMemcached(), startMemcached()]);
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('spreads sessions over both servers, keeps each user\'s records and index together, and finds every session', async () => {
    const store = await makeStore({ prefix: 'spread:' });
    const sessions = createSessionManager({ store, secret });
    const issued = await Promise.all(Array.from({ length: 40 }, (_, i) => sessions.create({ userId: `spread-user-${i}` })));
    const onServer = await Promise.all(servers.map((s) => keysOn(s.port)));
    const recordsOn = onServer.map((keys) => keys.filter((k) => k.startsWith('spread:s:')));
    expect(recordsOn.map((r) => r.length).every((c) => c >= 5)).toBe(true);
    expect(recordsOn[0]!.length + recordsOn[1]!.length).toBe(40);
    for (const { session, token } of issued) {
      expect((await sessions.validate(token)).id).toBe(session.id);
      const port = portOf(store.serverOf(session.id));
      const keys = onServer[servers.findIndex((s) => s.port === port)]!;
      expect(keys).toContain(`spread:s:${session.id}`);
      expect(keys).toContain(`spread:u:${session.id.slice(0, 11)}`);
    }
    // Keys carry a salted tag of the user, never the user id.
    expect(onServer.flat().some((k) => k.includes('spread-user'))).toBe(false);
  });

  it('gives every item a native expiry: idle plus grace, never past the absolute lifetime', async () => {
    const store = await makeStore();
    const clock = fakeClock();
    const short = createSessionManager({ store, secret, now: clock.now, idleTimeout: '10m', absoluteTimeout: '1h' });
    const capped = createSessionManager({ store, secret, now: clock.now, idleTimeout: '10m', absoluteTimeout: '12m' });
    const a = await short.create({ userId: 'ttl-a' });
    const b = await capped.create({ userId: 'ttl-b' });
    const ttl = async (id: string, kind: 's' | 'u'): Promise<number> => ttlOf(portOf(store.serverOf(id)), `st${n}:${kind}:${kind === 's' ? id : id.slice(0, 11)}`) as Promise<number>;
    const ttlA = await ttl(a.session.id, 's');
    expect(ttlA).toBeLessThanOrEqual(15 * 60);
    expect(ttlA).toBeGreaterThan(14 * 60);
    const ttlB = await ttl(b.session.id, 's');
    expect(ttlB).toBeLessThanOrEqual(12 * 60);
    expect(ttlB).toBeGreaterThan(11 * 60);
    expect(await ttl(a.session.id, 'u')).toBeLessThanOrEqual(60 * 60);
    await short.revoke(a.session.id);
    // A revoked record is kept (to answer "revoked") until the absolute expiry, not longer.
    const revokedTtl = await ttl(a.session.id, 's');
    expect(revokedTtl).toBeLessThanOrEqual(60 * 60);
    expect(revokedTtl).toBeGreaterThan(59 * 60);
  });

  it('refuses to start without a durable audit store', async () => {
    const servers2 = servers.map((s) => s.address);
    await expect(memcachedStore({ servers: servers2 } as never)).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('audit') });
    await expect(memcachedStore({ servers: servers2, audit: memoryStore() })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(memcachedStore({ servers: [], audit: sqliteStore({ path: join(dir, 'unused.db') }) })).rejects.toBeInstanceOf(SessionError);
  });

  it('writes the audit trail and the named records to the durable store, which outlive a Memcached restart', async () => {
    const path = join(dir, 'durable.db');
    const store = await makeStore({ audit: sqliteStore({ path }), prefix: 'durable:' });
    const sessions = createSessionManager({ store, secret, jwt: { issuer: 'https://memcached.test', audience: 'memcached' } });
    const { session, token } = await sessions.create({ userId: 'audited' });
    await sessions.renew(token);
    await sessions.revoke(session.id);
    await store.putRecord('api-keys', 'k1', { name: 'app' });
    const { kid } = await sessions.keys.rotate();
    await store.close();

    const durable = sqliteStore({ path });
    try {
      const trail = await durable.queryAudit({ after: 0, limit: 100 });
      expect(trail.filter((e) => e.sessionId === session.id).map((e) => e.type)).toEqual(['session.created', 'session.renewed', 'session.revoked']);
      expect(verifyChain(trail).ok).toBe(true);
      expect(await durable.getRecord('api-keys', 'k1')).toEqual({ name: 'app' });
      expect((await durable.listRecords<{ kid: string }>('signing-keys')).map((k) => k.kid)).toContain(kid);
    } finally {
      await durable.close();
    }
  });

  it('announces its own revocations and the durable store\'s key changes to watchers, never a heartbeat', async () => {
    const path = join(dir, 'watched.db');
    const audit = sqliteStore({ path, pollInterval: 20 });
    const store = await makeStore({ audit });
    const seen: StoreChange[] = [];
    const stop = store.watch((c) => seen.push(c));
    const sessions = createSessionManager({ store, secret });
    const { session } = await sessions.create({ userId: 'watched' });
    await sessions.revoke(session.id, { reason: 'admin' });
    const other = sqliteStore({ path });
    await other.putRecord('signing-keys', 'k9', { kid: 'k9' });
    await other.close();
    expect(audit.pollChanges()).toBe(1);
    stop();
    expect(seen).toEqual([
      { type: 'revoked', sessionId: session.id, userId: 'watched', at: expect.any(Number) },
      { type: 'keys', at: expect.any(Number) },
    ]);
    expect(store.capabilities.crossProcessEvents).toBe(false);
  });

  it('keeps exactly the limit when 200 logins race through two store instances (as two processes would)', async () => {
    const prefix = 'race2:';
    const first = await makeStore({ prefix, audit: sqliteStore({ path: join(dir, 'race-a.db'), synchronous: 'normal' }) });
    const salt = (await first.audit.getRecord<{ salt: string }>('settings', `memcached-tag-salt:${prefix}`))?.salt as string;
    const second = await memcachedStore({ servers: servers.map((s) => s.address), prefix, salt, audit: sqliteStore({ path: join(dir, 'race-b.db'), synchronous: 'normal' }) });
    open.push(second);
    const managers = [first, second].map((store) => createSessionManager({ store, secret, maxSessionsPerUser: 5 }));
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => managers[i % 2]!.create({ userId: 'racer' })));
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual([]);
    expect(await managers[0]!.listForUser('racer')).toHaveLength(5);
    expect(await managers[1]!.listForUser('racer')).toHaveLength(5);
    const live = results.map((r) => (r as PromiseFulfilledResult<{ token: string }>).value.token);
    const outcomes = await Promise.allSettled(live.map((t) => managers[0]!.validate(t)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
  });

  it('reads a user\'s sessions as not found once the user\'s index is gone (evicted), never as valid', async () => {
    const store = await makeStore({ prefix: 'lostindex:' });
    const sessions = createSessionManager({ store, secret });
    const a = await sessions.create({ userId: 'forgotten' });
    const b = await sessions.create({ userId: 'forgotten' });
    const other = await sessions.create({ userId: 'kept' });
    expect(await dropKey(portOf(store.serverOf(a.session.id)), `lostindex:u:${a.session.id.slice(0, 11)}`)).toBe(true);
    for (const t of [a.token, b.token]) await expect(sessions.validate(t)).rejects.toMatchObject({ code: 'session_not_found' });
    expect(await sessions.listForUser('forgotten')).toEqual([]);
    expect(await sessions.revokeAllForUser('forgotten')).toBe(0);
    await sessions.validate(other.token);
    const again = await sessions.create({ userId: 'forgotten' });
    await sessions.validate(again.token);
    await expect(sessions.validate(a.token)).rejects.toMatchObject({ code: 'session_not_found' });
  });
});
