import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/chain.js';
import { createSessionManager } from '../../src/core/manager.js';
import { fakeClock, storeSuite } from '../../src/testing/index.js';
import { sqliteStore, type SqliteSessionStore } from '../../src/stores/sqlite.js';
import type { StoreChange } from '../../src/stores/types.js';
import { startWorker } from '../stores/helpers/worker.js';

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-sqlite-conformance-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeSuite('sqlite', () => sqliteStore({ path: join(dir, `store-${(n += 1)}.db`) }));

describe('sqlite store shared by several handles and processes', () => {
  const secret = 'multi-process-test-secret-0123456789abcdef';
  const open: SqliteSessionStore[] = [];
  const handle = (path: string): SqliteSessionStore => {
    const s = sqliteStore({ path, pollInterval: 20 });
    open.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('lets two handles on one file see each other\'s sessions, revocations and key changes', async () => {
    const path = join(dir, 'shared-handles.db');
    const a = handle(path);
    const b = handle(path);
    const clock = fakeClock();
    const onA = createSessionManager({ store: a, secret, now: clock.now });
    const onB = createSessionManager({ store: b, secret, now: clock.now });
    const seenByA: StoreChange[] = [];
    const stop = a.watch((c) => seenByA.push(c));

    const { session, token } = await onA.create({ userId: 'shared' });
    expect((await onB.validate(token)).id).toBe(session.id);
    expect(await onB.revoke(session.id, { reason: 'admin' })).toBe(true);
    await expect(onA.validate(token)).rejects.toMatchObject({ code: 'session_revoked' });
    await b.putRecord('signing-keys', 'k1', { kid: 'k1' });

    expect(a.pollChanges()).toBe(2);
    expect(seenByA).toEqual([
      { type: 'revoked', sessionId: session.id, userId: 'shared', at: clock.now() },
      { type: 'keys', at: expect.any(Number) },
    ]);
    stop();
    const events = await a.queryAudit({ after: 0, limit: 100 });
    expect(events.map((e) => e.type)).toEqual(['session.created', 'session.revoked', 'session.rejected']);
    expect(verifyChain(events).ok).toBe(true);
  });

  it('keeps exactly the limit when 200 logins race across two handles', async () => {
    const path = join(dir, 'shared-race.db');
    const managers = [handle(path), handle(path)].map((store) => createSessionManager({ store, secret, maxSessionsPerUser: 5 }));
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => (managers[i % 2] as typeof managers[0]).create({ userId: 'racer' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(200);
    expect(await (managers[0] as typeof managers[0]).listForUser('racer')).toHaveLength(5);
    expect(await (managers[1] as typeof managers[0]).listForUser('racer')).toHaveLength(5);
  });

  it('keeps exactly the limit when a second process races this one, and one unbroken audit chain', async () => {
    const path = join(dir, 'process-race.db');
    const store = handle(path);
    const sessions = createSessionManager({ store, secret, maxSessionsPerUser: 5 });
    const worker = startWorker('race', path, ['100', '5']);
    expect(await worker.next()).toEqual({ ready: true });
    worker.child.stdin?.write('go\n');
    const mine = await Promise.allSettled(Array.from({ length: 100 }, () => sessions.create({ userId: 'racer' })));
    expect(await worker.next()).toEqual({ fulfilled: 100 });
    expect(await worker.exited).toBe(0);
    expect(mine.filter((r) => r.status === 'fulfilled')).toHaveLength(100);
    expect(await sessions.listForUser('racer')).toHaveLength(5);
    const trail = await store.queryAudit({ after: 0, limit: 10_000 });
    expect(trail.filter((e) => e.type === 'session.created')).toHaveLength(200);
    expect(trail.filter((e) => e.type === 'session.revoked' && e.reason === 'evicted')).toHaveLength(195);
    expect(verifyChain(trail).ok).toBe(true);
  });

  it('announces a revocation made by another process to this one\'s watchers', async () => {
    const path = join(dir, 'process-watch.db');
    const store = handle(path);
    const sessions = createSessionManager({ store, secret });
    const { session, token } = await sessions.create({ userId: 'watched' });
    const announced = new Promise<StoreChange>((resolve) => { store.watch(resolve); });
    const worker = startWorker('revoke', path, [session.id]);
    expect(await worker.next()).toEqual({ revoked: true });
    expect(await announced).toMatchObject({ type: 'revoked', sessionId: session.id, userId: 'watched' });
    await expect(sessions.validate(token)).rejects.toMatchObject({ code: 'session_revoked' });
  });

  it('announces this process\'s revocations to a watcher in another process', async () => {
    const path = join(dir, 'process-watched.db');
    const store = handle(path);
    const sessions = createSessionManager({ store, secret });
    const { session } = await sessions.create({ userId: 'seen' });
    const worker = startWorker('watch', path);
    expect(await worker.next()).toEqual({ ready: true });
    await sessions.revoke(session.id);
    expect(await worker.next()).toMatchObject({ type: 'revoked', sessionId: session.id, userId: 'seen' });
    worker.child.stdin?.end();
    expect(await worker.exited).toBe(0);
  });
});
