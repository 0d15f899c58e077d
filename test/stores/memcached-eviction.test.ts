import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { SessionError } from '../../src/core/errors.js';
import { memcachedStore, type MemcachedSessionStore } from '../../src/stores/memcached.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { rawCommand } from '../helpers/memcached-raw.js';
import { memcachedBinary, startMemcached, type MemcachedServer } from '../helpers/memcached-server.js';

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-memcached-eviction-'));
let mc: MemcachedServer;
let store: MemcachedSessionStore;

describeIfAvailable(memcachedBinary !== null, 'memcached binary', 'PATH (apt-get install memcached)', 'PATH')('memcached store under memory pressure', () => {
  beforeAll(async () => {
    mc = await startMemcached({ memoryMb: 1, args: ['-I', '128k', '-o', 'slab_chunk_max=65536'] });
    store = await memcachedStore({ servers: [mc.address], prefix: 'ev:', audit: sqliteStore({ path: join(dir, 'audit.db'), synchronous: 'normal' }) });
  });
  afterAll(async () => {
    await store?.close();
    await mc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads sessions that Memcached evicted as session_not_found, and the others as valid', async () => {
    const sessions = createSessionManager({ store, secret: 'memcached-eviction-secret-0123456789abcdef' });
    const filler = { blob: 'x'.repeat(3000) };
    const issued: { token: string; userId: string }[] = [];
    // About 3 KiB per session: 800 of them are more than twice what a 1 MiB cache holds.
    for (let batch = 0; batch < 800; batch += 50) {
      const made = await Promise.all(Array.from({ length: 50 }, (_, i) => sessions.create({ userId: `evict-${batch + i}`, data: filler })));
      made.forEach(({ token }, i) => issued.push({ token, userId: `evict-${batch + i}` }));
    }
    const evictions = Number(/STAT evictions (\d+)/.exec(await rawCommand(mc.port, 'stats', /END\r\n$/))?.[1]);
    expect(evictions).toBeGreaterThan(0);
    const outcomes = await Promise.allSettled(issued.map(({ token }) => sessions.validate(token)));
    let valid = 0;
    let notFound = 0;
    outcomes.forEach((o, i) => {
      if (o.status === 'fulfilled') {
        expect(o.value.userId).toBe(issued[i]?.userId);
        valid += 1;
      } else {
        expect(o.reason).toBeInstanceOf(SessionError);
        expect((o.reason as SessionError).code).toBe('session_not_found');
        notFound += 1;
      }
    });
    expect(notFound).toBeGreaterThan(0);
    expect(valid).toBeGreaterThan(0);
    expect(valid + notFound).toBe(800);
  });
});
