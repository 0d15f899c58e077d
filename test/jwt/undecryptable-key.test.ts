// Issue 18: a manager whose master key cannot decrypt the store's signing key must refuse to
// issue a JWT session without leaving the session (or its audit event) behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/stores/memory.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import type { SessionStore } from '../../src/stores/types.js';
import { expectCode, setup } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => SessionStore][] = [
  ['memory', () => memoryStore()],
  ['SQLite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessionkit-undecryptable-'));
    dirs.push(dir);
    return sqliteStore({ path: join(dir, 'sessions.db') });
  }],
];

describe.each(stores)('a JWT login on a %s store whose signing key another master key encrypted', (_label, makeStore) => {
  it('answers store_unavailable and stores, lists and audits no session for it', async () => {
    const store = makeStore();
    const owner = setup({ store });
    await owner.sessions.create({ userId: 'alice', tokenType: 'jwt' });
    const other = setup({ store, masterKey: Buffer.alloc(32, 1) });
    const err = await expectCode(other.sessions.create({ userId: 'bob', tokenType: 'jwt' }), 'store_unavailable');
    expect(err.message).toMatch(/signing key \S+ cannot be decrypted with the configured master key/);
    expect(await other.sessions.listForUser('bob')).toEqual([]);
    expect(other.trail.events.filter((e) => e.type === 'session.created')).toEqual([]);
    expect((await store.queryAudit({ userId: 'bob' })).filter((e) => e.type === 'session.created')).toEqual([]);
    // The session it replaced (if any) is untouched, and opaque logins still work.
    const opaque = await other.sessions.create({ userId: 'bob' });
    expect((await other.sessions.listForUser('bob')).map((s) => s.id)).toEqual([opaque.session.id]);
    await owner.sessions.close();
    await other.sessions.close().catch(() => {});
  });

  it('leaves a JWT session unrotated when its refresh cannot be signed, so the refresh token keeps working', async () => {
    const store = makeStore();
    const owner = setup({ store });
    const issued = await owner.sessions.create({ userId: 'alice', tokenType: 'jwt' });
    const other = setup({ store, masterKey: Buffer.alloc(32, 1) });
    await expectCode(other.sessions.refresh(issued.refreshToken), 'store_unavailable');
    // Well after the refresh grace: had the failed refresh rotated the record, this would be reuse (theft).
    owner.clock.advance(60_000);
    const refreshed = await owner.sessions.refresh(issued.refreshToken);
    expect(refreshed.session.id).toBe(issued.session.id);
    await owner.sessions.close();
    await other.sessions.close().catch(() => {});
  });
});

describe('keys.check()', () => {
  it('passes with the master key that encrypted the ring, and names the key another master key cannot decrypt', async () => {
    const store = memoryStore();
    const owner = setup({ store });
    await owner.sessions.keys.check();
    const { kid } = await owner.sessions.keys.rotate();
    await owner.sessions.keys.check();
    const other = setup({ store, masterKey: Buffer.alloc(32, 1) });
    const err = await expectCode(other.sessions.keys.check(), 'invalid_request');
    expect(err.details.kid).toBe(kid);
    expect(err.message).toContain(`signing key ${kid} in the store cannot be decrypted`);
    // A retired key has no private half left and is not checked.
    await owner.sessions.keys.retire(kid);
    await other.sessions.keys.check();
    await owner.sessions.close();
  });
});
