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

/** Loads a store driver on demand, so a deployment that never uses PostgreSQL never loads `pg`. */
async function loadDriver<T>(file: string, factory: string): Promise<T> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(new URL(`../stores/${file}.js`, import.meta.url).href) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND') throw new ConfigError(`invalid option store: the ${file} store is not available in this build`, 'store');
    throw err;
  }
  const fn = mod[factory] ?? mod.default;
  if (typeof fn !== 'function') throw new ConfigError(`invalid option store: the ${file} store module has no ${factory}()`, 'store');
  return fn as T;
}

/**
 * Opens the store the configuration names (drivers are imported lazily). `sqlite:` creates the
 * folder of its file. The returned store is ready to use but not yet pinged.
 *
 * @example const store = await openStore(loadConfig({ env: { SESSIONKIT_STORE: 'memory:' } }))
 */
export async function openStore(config: Pick<ServiceConfig, 'store' | 'storePrefix'>): Promise<SessionStore> {
  const target = parseStoreUrl(config.store);
  switch (target.kind) {
    case 'memory':
      return memoryStore();
    case 'sqlite': {
      const path = resolve(target.path);
      mkdirSync(dirname(path), { recursive: true });
      const sqliteStore = await loadDriver<(o: { path: string }) => SessionStore>('sqlite', 'sqliteStore');
      return sqliteStore({ path });
    }
    case 'redis': {
      const redisStore = await loadDriver<(o: { url: string; prefix?: string }) => SessionStore>('redis', 'redisStore');
      return redisStore({ url: target.url, prefix: `${config.storePrefix}:` });
    }
    case 'postgres': {
      const postgresStore = await loadDriver<(o: { connectionString: string; schema?: string }) => SessionStore>('postgres', 'postgresStore');
      return postgresStore({ connectionString: target.url, schema: config.storePrefix });
    }
    case 'memcached': {
      const memcachedStore = await loadDriver<(o: { url: string; prefix?: string }) => SessionStore>('memcached', 'memcachedStore');
      return memcachedStore({ url: target.url, prefix: `${config.storePrefix}:` });
    }
  }
}
