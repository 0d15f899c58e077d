import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { sqliteStore, type SqliteSessionStore } from '../../src/stores/sqlite.js';
import { auditQuerySql } from '../../src/stores/sqlite/audit.js';
import { SCHEMA_VERSION } from '../../src/stores/sqlite/schema.js';
import { RECORD_SQL, SESSION_SQL } from '../../src/stores/sqlite/statements.js';
import { retentionOf } from '../../src/stores/types.js';
import { fakeClock } from '../../src/testing/index.js';
import { expectMemoSeesOtherWriters, expectSameReadsWithoutTheMemo } from '../helpers/read-memo.js';

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-sqlite-store-'));
const secret = 'sqlite-store-test-secret-0123456789abcdef';
const open: (SqliteSessionStore | Database.Database)[] = [];
let n = 0;
const fresh = (options: { pollInterval?: number; changeRetention?: number } = {}): SqliteSessionStore => {
  const s = sqliteStore({ path: join(dir, `s-${(n += 1)}.db`), ...options });
  open.push(s);
  return s;
};
const raw = (path: string): Database.Database => {
  const db = new Database(path);
  open.push(db);
  return db;
};
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The plan SQLite would use, one line per step, with placeholder values bound. */
function plan(db: Database.Database, sql: string, params?: unknown[]): string {
  const named = [...sql.matchAll(/@(\w+)/g)].map((m) => m[1] as string);
  const bound = params ?? (named.length ? [Object.fromEntries(named.map((k) => [k, 1]))] : Array((sql.match(/\?/g) ?? []).length).fill(1));
  return db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...bound).map((r) => (r as { detail: string }).detail).join(' | ');
}

describe('sqlite store internals', () => {
  it('reads, writes and sweeps sessions through indexes, never a table scan', () => {
    const db = raw(fresh().path);
    for (const [name, sql] of Object.entries({ ...SESSION_SQL, ...RECORD_SQL })) {
      expect(plan(db, sql), name).not.toMatch(/SCAN (sessions|records)/);
    }
    expect(plan(db, SESSION_SQL.get)).toMatch(/USING INDEX sqlite_autoindex_sessions_1 \(id=\?\)/);
    expect(plan(db, SESSION_SQL.live)).toMatch(/sessions_by_user/);
    expect(plan(db, SESSION_SQL.sweep)).toMatch(/sessions_by_retention/);
  });

  it('answers every audit filter through an index', () => {
    const db = raw(fresh().path);
    const filters = [{ userId: 'u' }, { sessionId: 's' }, { type: 'session.created' }, { since: 1 }, { until: 2 }, { since: 1, until: 2 },
      { before: 5 }, { after: 5 }, { userId: 'u', type: 't', since: 1 }, { sessionId: 's', after: 3 }];
    for (const q of filters) {
      const { sql, params } = auditQuerySql(q);
      expect(plan(db, sql, params), JSON.stringify(q)).toMatch(/^SEARCH audit USING (INDEX|INTEGER PRIMARY KEY)/);
    }
    // No filter at all: the newest `limit` rows in rowid order, nothing more is read.
    expect(plan(db, auditQuerySql({}).sql, auditQuerySql({}).params)).toBe('SCAN audit');
  });

  it('rejects a malformed audit query with invalid_request', async () => {
    const store = fresh();
    for (const q of [{ limit: -1 }, { limit: 1.5 }, { userId: 42 }, { since: 'yesterday' }, { after: Number.NaN }]) {
      await expect(store.queryAudit(q as never), JSON.stringify(q)).rejects.toMatchObject({ code: 'invalid_request' });
    }
  });

  it('pages the trail newest first with before, oldest first with after', async () => {
    const store = fresh();
    const base = { sessionId: null, userId: 'u', ip: null, userAgent: null, reason: null, actor: null, requestId: null };
    await store.appendAudit(Array.from({ length: 10 }, (_, i) => ({ ...base, type: 'session.rejected' as const, at: 1000 + i })));
    const newest = await store.queryAudit({ limit: 3 });
    expect(newest.map((e) => e.seq)).toEqual([10, 9, 8]);
    expect((await store.queryAudit({ limit: 3, before: 8 })).map((e) => e.seq)).toEqual([7, 6, 5]);
    expect((await store.queryAudit({ limit: 3, after: 2 })).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect((await store.queryAudit({ since: 1004, until: 1006 })).map((e) => e.at)).toEqual([1005, 1004]);
  });

  it('computes the retention column exactly like retentionOf()', async () => {
    const store = fresh();
    const clock = fakeClock();
    const sessions = createSessionManager({ store, secret, now: clock.now, idleTimeout: '10m', absoluteTimeout: '1h' });
    const a = await sessions.create({ userId: 'u' });
    const b = await sessions.create({ userId: 'u' });
    await sessions.revoke(b.session.id);
    const db = raw(store.path);
    for (const id of [a.session.id, b.session.id]) {
      const row = db.prepare('SELECT retain_until FROM sessions WHERE id = ?').get(id) as { retain_until: number };
      const record = await store.get(id);
      expect(row.retain_until).toBe(retentionOf(record as NonNullable<typeof record>));
    }
  });

  it('sweeps in bounded batches, oldest retention first', async () => {
    const store = fresh();
    const clock = fakeClock();
    const sessions = createSessionManager({ store, secret, now: clock.now, idleTimeout: '10m', touchInterval: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      ids.push((await sessions.create({ userId: `u${i}` })).session.id);
      clock.advance(1000);
    }
    clock.advance(20 * 60_000);
    expect((await store.sweepExpired(clock.now(), 3)).map((s) => s.id)).toEqual(ids.slice(0, 3));
    expect((await store.sweepExpired(clock.now(), 3)).map((s) => s.id)).toEqual(ids.slice(3, 6));
    expect((await store.sweepExpired(clock.now(), 3)).map((s) => s.id)).toEqual(ids.slice(6));
    expect(await store.sweepExpired(clock.now(), 3)).toEqual([]);
    await expect(store.sweepExpired(clock.now(), 0)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('migrates a fresh file once and opens it again unchanged', async () => {
    const first = fresh();
    await first.putRecord('things', 'a', { kept: true });
    await first.close();
    const again = sqliteStore({ path: first.path });
    open.push(again);
    expect(await again.getRecord('things', 'a')).toEqual({ kept: true });
    const db = raw(first.path);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('lists records in insertion order and keeps a record\'s place when it is overwritten', async () => {
    const store = fresh();
    await store.putRecord('k', 'b', 1);
    await store.putRecord('k', 'a', 2);
    await store.putRecord('k', 'b', 3);
    expect(await store.listRecords('k')).toEqual([3, 2]);
    await expect(store.putRecord('k', 'c', undefined)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('announces its own changes at once, polls only while watched, and prunes old change rows', async () => {
    const store = fresh({ changeRetention: 60_000 });
    const other = sqliteStore({ path: store.path });
    open.push(other);
    const seen: unknown[] = [];
    const stop = store.watch((c) => seen.push(c));
    await store.putRecord('signing-keys', 'k1', {});
    expect(seen).toEqual([{ type: 'keys', at: expect.any(Number) }]);
    expect(store.pollChanges()).toBe(0);
    await other.deleteRecord('signing-keys', 'k1');
    expect(store.pollChanges()).toBe(1);
    stop();
    await other.putRecord('signing-keys', 'k2', {});
    expect(seen).toHaveLength(2);
    const db = raw(store.path);
    const count = (): number => (db.prepare('SELECT count(*) AS c FROM changes').get() as { c: number }).c;
    expect(count()).toBe(3);
    await store.sweepExpired(Date.now(), 10);
    expect(count()).toBe(3);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 61_000);
      await store.sweepExpired(Date.now(), 10);
    } finally {
      vi.useRealTimers();
    }
    expect(count()).toBe(0);
  });
});

describe('sqlite store read memo (rows.ts rowReader)', () => {
  it('sees a change written by another connection to the same file, and never shares a mutable value', async () => {
    const a = fresh();
    const b = sqliteStore({ path: a.path });
    open.push(b);
    // Each read is a new record object; only its nested values come from the memo.
    const { session } = await createSessionManager({ store: a, secret }).create({ userId: 'memo-shape' });
    const first = await a.get(session.id);
    const again = await a.get(session.id);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    await expectMemoSeesOtherWriters(a, b, secret);
  });

  it('reads the same with the cache off or smaller than the hot set, and refuses a bad readCache', async () => {
    const path = fresh().path;
    await expectSameReadsWithoutTheMemo((readCache) => sqliteStore({ path, readCache }), secret);
    for (const readCache of [-1, 1.5, '10' as unknown as number]) {
      expect(() => sqliteStore({ path, readCache })).toThrow(/readCache/);
    }
  });
});
