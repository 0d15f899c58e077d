import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import { createSessionManager } from '../../src/core/manager.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import type { SessionStore } from '../../src/stores/types.js';

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-sqlite-failures-'));
const immutable: string[] = [];
const secret = 'failure-test-secret-0123456789abcdef-0123';
afterEach(() => {
  for (const p of immutable.splice(0)) execFileSync('chattr', ['-i', p]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error a synchronous call throws. */
function thrown(fn: () => unknown): SessionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SessionError);
    return err as SessionError;
  }
  throw new Error('expected the call to throw');
}

/** A file that already holds a sessionkit store. */
async function existingStore(name: string): Promise<string> {
  const path = join(dir, name);
  await sqliteStore({ path }).close();
  return path;
}

describe('sqlite store failures', () => {
  it('fails to open a file another connection holds an exclusive lock on, naming the path', async () => {
    const path = await existingStore('locked.db');
    const holder = new Database(path);
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.prepare("INSERT INTO meta (key, value) VALUES ('held', 'yes') ON CONFLICT (key) DO UPDATE SET value = 'yes'").run();
    try {
      const err = thrown(() => sqliteStore({ path, busyTimeout: 50 }));
      expect(err.code).toBe('store_unavailable');
      expect(err.message).toContain(path);
      expect(err.message).toMatch(/locked/);
    } finally {
      holder.close();
    }
    await sqliteStore({ path }).close();
  });

  it('fails a write closed when another process holds the write lock too long, and keeps reading', async () => {
    const path = join(dir, 'busy.db');
    const store = sqliteStore({ path, busyTimeout: 50 });
    const sessions = createSessionManager({ store, secret });
    const { token } = await sessions.create({ userId: 'u' });
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const err = await sessions.create({ userId: 'u' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'store_unavailable' });
      expect((err as Error).message).toMatch(/locked/);
      await expect(store.revokeAllForUser('u', { reason: 'r', at: 0, event: { type: 'session.revoked', at: 0, sessionId: null, userId: null, ip: null, userAgent: null, reason: null, actor: null, requestId: null } }))
        .rejects.toMatchObject({ code: 'store_unavailable' });
      // WAL: a writer never blocks readers, so validation still answers.
      await sessions.validate(token);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await sessions.create({ userId: 'u' });
    await store.close();
  });

  it('fails to open a file that cannot be written, even as root (immutable file)', async () => {
    const path = await existingStore('immutable.db');
    execFileSync('chattr', ['+i', path]);
    immutable.push(path);
    const err = thrown(() => sqliteStore({ path }));
    expect(err.code).toBe('store_unavailable');
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/readonly/);
  });

  it('fails to open a new file in a folder where nothing can be created', () => {
    const folder = join(dir, 'sealed');
    mkdirSync(folder);
    execFileSync('chattr', ['+i', folder]);
    immutable.push(folder);
    const path = join(folder, 'new.db');
    const err = thrown(() => sqliteStore({ path }));
    expect(err.code).toBe('store_unavailable');
    expect(err.message).toContain(path);
  });

  it('fails to open a file of garbage, naming the path', () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, Buffer.concat([Buffer.from('definitely not a database '), Buffer.alloc(8192, 0x5a)]));
    const err = thrown(() => sqliteStore({ path }));
    expect(err.code).toBe('store_unavailable');
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/not a database/);
  });

  it('fails to open a real store whose pages were overwritten', async () => {
    const path = await existingStore('damaged.db');
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 100);
    closeSync(fd);
    const err = thrown(() => sqliteStore({ path }));
    expect(err.code).toBe('store_unavailable');
    expect(err.message).toContain(path);
  });

  it('refuses a file written by a newer sessionkit', async () => {
    const path = await existingStore('future.db');
    const db = new Database(path);
    db.pragma('user_version = 999');
    db.close();
    const err = thrown(() => sqliteStore({ path }));
    expect(err.code).toBe('store_unavailable');
    expect(err.message).toContain('schema version 999');
  });

  it('rejects every method with store_unavailable after close()', async () => {
    const store = sqliteStore({ path: join(dir, 'closed.db') });
    await store.close();
    await store.close();
    const session = { id: 'x' } as Parameters<SessionStore['create']>[0];
    const calls: [string, () => Promise<unknown>][] = [
      ['get', () => store.get('x')],
      ['create', () => store.create(session, { now: 0, events: [] })],
      ['replace', () => store.replace(session, 1, [])],
      ['touch', () => store.touch('x', 1, 2)],
      ['revoke', () => store.revoke('x', { reason: 'r', at: 0, events: [] })],
      ['revokeAllForUser', () => store.revokeAllForUser('u', { reason: 'r', at: 0, event: { type: 'session.revoked', at: 0, sessionId: null, userId: null, ip: null, userAgent: null, reason: null, actor: null, requestId: null } })],
      ['listForUser', () => store.listForUser('u', 0)],
      ['sweepExpired', () => store.sweepExpired(0, 10)],
      ['appendAudit', () => store.appendAudit([])],
      ['queryAudit', () => store.queryAudit({})],
      ['getRecord', () => store.getRecord('k', 'i')],
      ['putRecord', () => store.putRecord('k', 'i', 1)],
      ['listRecords', () => store.listRecords('k')],
      ['deleteRecord', () => store.deleteRecord('k', 'i')],
      ['ping', () => store.ping()],
    ];
    for (const [method, call] of calls) {
      await expect(call(), method).rejects.toMatchObject({ code: 'store_unavailable' });
    }
    expect(thrown(() => store.watch(() => {})).code).toBe('store_unavailable');
  });

  it('names the bad option', () => {
    const bad: [unknown, string][] = [
      [undefined, 'options'], [{}, 'option path'], [{ path: '' }, 'option path'],
      [{ path: join(dir, 'o.db'), synchronous: 'off' }, 'option synchronous'],
      [{ path: join(dir, 'o.db'), busyTimeout: -1 }, 'option busyTimeout'],
      [{ path: join(dir, 'o.db'), pollInterval: 0 }, 'option pollInterval'],
      [{ path: join(dir, 'o.db'), changeRetention: 1.5 }, 'option changeRetention'],
    ];
    for (const [options, named] of bad) {
      const err = thrown(() => sqliteStore(options as Parameters<typeof sqliteStore>[0]));
      expect(err.code).toBe('invalid_request');
      expect(err.message).toContain(named);
    }
  });
});
