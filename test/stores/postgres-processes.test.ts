/**
 * Several processes on one PostgreSQL schema, each played by its own store (own pool, own LISTEN
 * connection): limits stay exact, the audit chain stays whole, sweepers split the work, a CAS has
 * one winner, and changes reach the other processes through LISTEN/NOTIFY.
 */
import { afterAll, afterEach, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/chain.js';
import { createSessionManager } from '../../src/core/manager.js';
import { SessionError } from '../../src/core/errors.js';
import type { AuditEvent, StoredAuditEvent } from '../../src/core/types.js';
import { postgresStore, type PostgresStore } from '../../src/stores/postgres.js';
import type { StoreChange } from '../../src/stores/types.js';
import { fakeClock } from '../../src/testing/index.js';
import { closeAdminPool, DATABASE_URL, describePg, dropSchema, randomSchema } from '../helpers/pg-env.js';

const SECRET = 'processes-test-secret-0123456789abcdef';

/** Collects changes and lets a test wait for the n-th one (no sleeping). */
function recorder() {
  const changes: StoreChange[] = [];
  let waiting: { n: number; resolve: () => void } | null = null;
  return {
    changes,
    listener: (c: StoreChange) => {
      changes.push(c);
      if (waiting && changes.length >= waiting.n) waiting.resolve();
    },
    until: (n: number) => (changes.length >= n ? Promise.resolve() : new Promise<void>((resolve) => { waiting = { n, resolve }; })),
  };
}

describePg('postgres store across processes', () => {
  let schema = randomSchema('proc');
  const stores: PostgresStore[] = [];
  const startProcess = (): PostgresStore => {
    const s = postgresStore({ connectionString: DATABASE_URL, schema, poolSize: 3, timeout: '10s' });
    stores.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await dropSchema(schema);
    schema = randomSchema('proc');
  });
  afterAll(closeAdminPool);

  it('keeps the per-user limit exact when two processes race logins of one user', async () => {
    const clock = fakeClock();
    const manager = () => createSessionManager({ store: startProcess(), secret: SECRET, now: clock.now, maxSessionsPerUser: 3 });
    const [a, b] = [manager(), manager()];
    const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).create({ userId: 'racer' })));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await a.listForUser('racer')).toHaveLength(3);
    const trail = await stores[0]!.queryAudit({ userId: 'racer', limit: 1000 });
    expect(trail.filter((e) => e.type === 'session.created')).toHaveLength(60);
    expect(trail.filter((e) => e.type === 'session.revoked' && e.reason === 'evicted')).toHaveLength(57);
  });

  it('keeps one unbroken hash chain when processes append concurrently', async () => {
    const [a, b] = [startProcess(), startProcess()];
    const base: AuditEvent = { type: 'session.rejected', at: 1, sessionId: null, userId: 'u', ip: null, userAgent: null, reason: 'invalid', actor: null, requestId: null };
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).appendAudit([{ ...base, at: i }, { ...base, at: i, reason: 'malformed' }])));
    const all: StoredAuditEvent[] = await a.queryAudit({ after: 0, limit: 1000 });
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(verifyChain(all)).toEqual({ ok: true, count: 80 });
  });

  it('writes no audit event for a change that was refused', async () => {
    const store = startProcess();
    const sessions = createSessionManager({ store, secret: SECRET, maxSessionsPerUser: { max: 1, policy: 'reject' } });
    await sessions.create({ userId: 'u' });
    const err = await sessions.create({ userId: 'u' }).then(() => null, (e: unknown) => e);
    expect((err as SessionError).code).toBe('session_limit_reached');
    const events = await store.queryAudit({ userId: 'u' });
    expect(events.map((e) => e.type)).toEqual(['session.created']);
  });

  it('lets exactly one process win a compare-and-swap', async () => {
    const [a, b] = [startProcess(), startProcess()];
    const sessions = createSessionManager({ store: a, secret: SECRET });
    const { session } = await sessions.create({ userId: 'u' });
    const record = (await a.get(session.id))!;
    const next = (n: number) => ({ ...record, data: { n }, version: record.version + 1 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).replace(next(i), record.version, [])));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await b.get(session.id))?.version).toBe(record.version + 1);
  });

  it('splits a sweep between processes without deleting a record twice', async () => {
    const clock = fakeClock();
    const [a, b] = [startProcess(), startProcess()];
    const sessions = createSessionManager({ store: a, secret: SECRET, now: clock.now, idleTimeout: '1m' });
    for (let i = 0; i < 30; i += 1) await sessions.create({ userId: `u${i % 3}` });
    clock.advance(2 * 60_000);
    const batches = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).sweepExpired(clock.now(), 7)));
    const ids = batches.flat().map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    const rest = await a.sweepExpired(clock.now(), 100);
    expect(ids.length + rest.length).toBe(30);
  });

  it('tells other processes about revocations and key changes, and itself exactly once', async () => {
    const [a, b] = [startProcess(), startProcess()];
    await Promise.all([a.ready(), b.ready()]);
    const heardByA = recorder();
    const heardByB = recorder();
    a.watch(heardByA.listener);
    b.watch(heardByB.listener);
    await Promise.all([a.listening(), b.listening()]);
    const sessions = createSessionManager({ store: a, secret: SECRET });
    const one = await sessions.create({ userId: 'alice' });
    const two = await sessions.create({ userId: 'alice' });
    await sessions.revoke(one.session.id);
    await sessions.revokeAllForUser('alice');
    await b.putRecord('signing-keys', 'k1', { kid: 'k1' });
    await b.deleteRecord('signing-keys', 'k1');
    await b.putRecord('api-keys', 'x', { v: 1 });
    await heardByB.until(4);
    await heardByA.until(4);
    const expected = [
      { type: 'revoked', sessionId: one.session.id, userId: 'alice', at: expect.any(Number) },
      { type: 'revoked', sessionId: two.session.id, userId: 'alice', at: expect.any(Number) },
      { type: 'keys', at: expect.any(Number) },
      { type: 'keys', at: expect.any(Number) },
    ];
    expect(heardByB.changes).toEqual(expected);
    expect(heardByA.changes).toEqual(expected);
    // A marker round trip: anything else queued behind it would have arrived by now.
    await a.putRecord('signing-keys', 'k2', { kid: 'k2' });
    await heardByB.until(5);
    expect(heardByA.changes).toHaveLength(5);
  });
});
