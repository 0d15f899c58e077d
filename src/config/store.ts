import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { memoryStore } from '../stores/memory.js';
import type { SessionStore } from '../stores/types.js';
import { ConfigError } from './load.js';
import type { ServiceConfig } from './schema.js';

/** Which driver a store URL selects, and what it hands the driver. */
export type StoreTarget =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'redis'; url: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'memcached'; url: string };

/**
 * Reads a store URL: `memory:`, `sqlite:<path>`, `redis://…` (`rediss://`, `redis+cluster://`,
 * `redis+sentinel://`), `postgres://…` (`postgresql://`), `memcached://…`. Anything else is a
 * `ConfigError` naming the option.
 *
 * @example parseStoreUrl('sqlite:./data/sessionkit.db') // { kind: 'sqlite', path: './data/sessionkit.db' }
 */
export function parseStoreUrl(url: string): StoreTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'memory':
      return { kind: 'memory' };
    case 'sqlite': {
      const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\.|\/)/, '');
      if (path.length === 0) throw new ConfigError('invalid option store: sqlite: needs a file path, e.g. sqlite:./data/sessionkit.db', 'store');
      return { kind: 'sqlite', path };
    }
    case 'redis': case 'rediss': case 'redis+cluster': case 'redis+sentinel':
      return { kind: 'redis', url };
    case 'postgres': case 'postgresql':
      return { kind: 'postgres', url };
    case 'memcached':
      return { kind: 'memcached', url };
    default:
      throw new ConfigError(`invalid option store: unknown store ${scheme ? `scheme ${scheme}:` : 'URL'}; expected memory:, sqlite:<path>, redis://…, redis+cluster://…, redis+sentinel://…, postgres://… or memcached://…`, 'store');
  }
}

/** Turns a failed lazy import into a one-line `ConfigError`. */
function driverMissing(file: string): (err: unknown) => never {
  return (err) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND') throw new ConfigError(`invalid option store: the ${file} store or its client library is not installed (${(err as Error).message.split('\n')[0]})`, 'store');
    throw err;
  };
}

/**
 * Opens the store the configuration names. Drivers are imported lazily, so a deployment that never
 * uses PostgreSQL never loads `pg`. `sqlite:` creates the folder of its file. The returned store
 * is ready to use but not yet pinged.
 *
 * @example const store = await openStore(loadConfig({ env: { SESSIONKIT_STORE: 'memory:' } }))
 */
export async function openStore(config: Pick<ServiceConfig, 'store' | 'storePrefix'> & { auditStore?: string | null; auditRetention?: number }): Promise<SessionStore> {
  const target = parseStoreUrl(config.store);
  switch (target.kind) {
    case 'memory':
      return memoryStore();
    case 'sqlite': {
      const path = resolve(target.path);
      mkdirSync(dirname(path), { recursive: true });
      const { sqliteStore } = await import('../stores/sqlite.js').catch(driverMissing('sqlite'));
      return sqliteStore({ path });
    }
    case 'redis': {
      const { redisStore } = await import('../stores/redis.js').catch(driverMissing('redis'));
      return await redisStore({ url: target.url, prefix: `${config.storePrefix}:`, ...(config.auditRetention !== undefined ? { auditRetention: config.auditRetention } : {}) });
    }
    case 'postgres': {
      const { postgresStore } = await import('../stores/postgres.js').catch(driverMissing('postgres'));
      const store = postgresStore({ connectionString: target.url, schema: config.storePrefix });
      await store.ready();
      return store;
    }
    case 'memcached': {
      // Memcached evicts: the trail and the named records (API and signing keys) need a durable store.
      const auditUrl = config.auditStore ?? null;
      const auditKind = auditUrl ? parseStoreUrl(auditUrl).kind : null;
      if (auditKind !== 'sqlite' && auditKind !== 'postgres') {
        throw new ConfigError('invalid option auditStore: the memcached store needs a durable store for the audit trail and keys (SESSIONKIT_AUDIT_STORE=sqlite:<path> or postgres://…)', 'auditStore');
      }
      const { memcachedStore } = await import('../stores/memcached.js').catch(driverMissing('memcached'));
      const audit = await openStore({ store: auditUrl as string, storePrefix: config.storePrefix });
      try {
        return await memcachedStore({ url: target.url, prefix: `${config.storePrefix}:`, audit });
      } catch (err) {
        await audit.close().catch(() => {});
        throw err;
      }
    }
  }
}
