// Issue 18, low 9: the SQLite database (which holds the server secret) was created
// world-readable. The data folder is now created 0700, the database 0600, and SQLite gives its
// -wal and -shm files the database's permissions.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { resolveMasterKey } from '../../src/config/master-key.js';
import { createSessionManager } from '../../src/core/manager.js';
import { sqliteStore } from '../../src/stores/sqlite.js';

const root = mkdtempSync(join(tmpdir(), 'sessionkit-perms-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('SQLite files are private to their owner', () => {
  it('creates the folder 0700 and the database, -wal and -shm 0600 (library)', async () => {
    const dir = join(root, 'lib', 'data');
    const path = join(dir, 'sessions.db');
    const store = sqliteStore({ path });
    try {
      await createSessionManager({ store, secret: 'permissions-test-secret-0123456789abcdef' }).create({ userId: 'u' });
      expect([mode(dir), mode(path), mode(`${path}-wal`), mode(`${path}-shm`)]).toEqual(['700', '600', '600', '600']);
    } finally {
      await store.close();
    }
  });

  it('creates the folder 0700 when the service generates the master key beside the database', async () => {
    const dir = join(root, 'svc', 'data');
    resolveMasterKey(loadConfig({ env: { SESSIONKIT_STORE: `sqlite:${join(dir, 'sessionkit.db')}` }, argv: [] }));
    expect([mode(dir), mode(join(dir, 'master.key'))]).toEqual(['700', '600']);
    const store = sqliteStore({ path: join(dir, 'sessionkit.db') });
    await store.close();
    expect(mode(join(dir, 'sessionkit.db'))).toBe('600');
  });
});
