// Every store the service runs on, opened the way the conformance suite opens them, so a test
// can ask "the same input, the same answer, on every store". A store whose server is missing is
// skipped locally (loudly) and fails under CI, as everywhere else.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { memcachedStore } from '../../src/stores/memcached.js';
import { memoryStore } from '../../src/stores/memory.js';
import { postgresStore, type PostgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import type { SessionStore } from '../../src/stores/types.js';
import { tcpReachable } from '../helpers/availability.js';
import { memcachedBinary, startMemcached, type MemcachedServer } from '../helpers/memcached-server.js';
import { closeAdminPool, DATABASE_URL, dropSchema, randomSchema } from '../helpers/pg-env.js';
import { deleteByPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis-env.js';

export interface StoreKind {
  name: 'memory' | 'sqlite' | 'redis' | 'postgres' | 'memcached';
  available: boolean;
  /** Where the store's server is configured, for the skip message. */
  where: string;
  open(): Promise<SessionStore>;
}

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-hardening-'));
const redisPrefix = uniquePrefix('hard');
let memcached: MemcachedServer | null = null;
let n = 0;
const schemas: string[] = [];

/** The five stores; call `closeStores()` after all. */
export async function storeKinds(): Promise<StoreKind[]> {
  const [redisUp, pgUp] = await Promise.all([tcpReachable(REDIS_URL), tcpReachable(DATABASE_URL)]);
  return [
    { name: 'memory', available: true, where: '', open: async () => memoryStore() },
    { name: 'sqlite', available: true, where: '', open: async () => sqliteStore({ path: join(dir, `store-${(n += 1)}.db`) }) },
    { name: 'redis', available: redisUp, where: REDIS_URL, open: () => redisStore({ url: REDIS_URL, prefix: `${redisPrefix}${(n += 1)}:` }) },
    {
      name: 'postgres', available: pgUp, where: DATABASE_URL, open: async () => {
        const store: PostgresStore = await postgresStore({ connectionString: DATABASE_URL, schema: randomSchema('hard'), poolSize: 2 });
        schemas.push(store.schema);
        return store;
      },
    },
    {
      name: 'memcached', available: memcachedBinary !== null, where: 'PATH', open: async () => {
        memcached ??= await startMemcached();
        n += 1;
        return memcachedStore({ servers: [memcached.address], prefix: `hard${n}:`, audit: sqliteStore({ path: join(dir, `audit-${n}.db`) }) });
      },
    },
  ];
}

/** Removes what the stores left: Redis keys, PostgreSQL schemas, the memcached server, the files. */
export async function closeStores(): Promise<void> {
  if (await tcpReachable(REDIS_URL)) {
    const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await deleteByPrefix(admin, redisPrefix).catch(() => 0);
    admin.disconnect();
  }
  for (const schema of schemas.splice(0)) await dropSchema(schema).catch(() => {});
  await closeAdminPool();
  await memcached?.stop();
  memcached = null;
  rmSync(dir, { recursive: true, force: true });
}
