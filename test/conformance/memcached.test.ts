import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { storeSuite } from '../../src/testing/index.js';
import { memcachedStore } from '../../src/stores/memcached.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { describeIfAvailable } from '../helpers/availability.js';
import { memcachedBinary, startMemcached, type MemcachedServer } from '../helpers/memcached-server.js';

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-memcached-conformance-'));
let servers: MemcachedServer[] = [];
let n = 0;

describeIfAvailable(memcachedBinary !== null, 'memcached binary', 'PATH (apt-get install memcached)', 'PATH')('memcached store on two real memcached servers', () => {
  beforeAll(async () => {
    servers = await Promise.all([startMemcached(), startMemcached()]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  storeSuite('memcached', () => {
    n += 1;
    return memcachedStore({
      servers: servers.map((s) => s.address), prefix: `conf${n}:`,
      audit: sqliteStore({ path: join(dir, `audit-${n}.db`), synchronous: 'normal' }),
    });
  });
});
