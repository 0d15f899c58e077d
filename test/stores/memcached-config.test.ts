import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, openStore } from '../../src/config/index.js';
import { createSessionManager } from '../../src/core/manager.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { memcachedBinary, startMemcached, type MemcachedServer } from '../helpers/memcached-server.js';

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-memcached-config-'));
let mc: MemcachedServer;

describeIfAvailable(memcachedBinary !== null, 'memcached binary', 'PATH (apt-get install memcached)', 'PATH')('memcached:// in the service configuration', () => {
  beforeAll(async () => {
    mc = await startMemcached();
  });
  afterAll(async () => {
    await mc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens a Memcached store whose audit trail and keys land in the configured SQLite file', async () => {
    const auditPath = join(dir, 'audit.db');
    const config = loadConfig({ env: { SESSIONKIT_STORE: `memcached://${mc.address}`, SESSIONKIT_AUDIT_STORE: `sqlite:${auditPath}`, SESSIONKIT_STORE_PREFIX: 'cfg' } });
    const store = await openStore(config);
    try {
      expect(store.name).toBe('memcached');
      const sessions = createSessionManager({ store, secret: 'memcached-config-secret-0123456789abcdef' });
      const { session, token } = await sessions.create({ userId: 'configured' });
      expect((await sessions.validate(token)).id).toBe(session.id);
      await store.putRecord('api-keys', 'k', { name: 'app' });
    } finally {
      await store.close();
    }
    const durable = sqliteStore({ path: auditPath });
    try {
      expect((await durable.queryAudit({ type: 'session.created' })).map((e) => e.userId)).toEqual(['configured']);
      expect(await durable.getRecord('api-keys', 'k')).toEqual({ name: 'app' });
    } finally {
      await durable.close();
    }
  });

  it('refuses start-up without a durable audit store, in one line naming the option', async () => {
    const err = await openStore(loadConfig({ env: { SESSIONKIT_STORE: `memcached://${mc.address}` } })).then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/^invalid option auditStore: .*SESSIONKIT_AUDIT_STORE/);
    expect(err?.message).not.toContain('\n');
  });
});
