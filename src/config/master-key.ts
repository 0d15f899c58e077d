import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseMasterKey } from '../tokens/key-encryption.js';
import { ConfigError } from './load.js';
import type { ServiceConfig } from './schema.js';
import { parseStoreUrl } from './store.js';

/** The file, beside the SQLite database, that keeps the generated master key. */
export const MASTER_KEY_FILE = 'master.key';

/**
 * Makes sure the service has a master key to encrypt private signing keys at rest: the configured
 * one; for `sqlite:` one generated once and kept (mode 0600) in `master.key` beside the database;
 * for `memory:` none is needed (nothing is at rest). Redis, PostgreSQL and Memcached hold the keys
 * where other machines can read them, so there a configured key is required.
 *
 * @example const config = resolveMasterKey(loadConfig({ env: process.env }))
 */
export function resolveMasterKey(config: ServiceConfig): ServiceConfig {
  if (config.masterKey !== null) return config;
  const target = parseStoreUrl(config.store);
  if (target.kind === 'memory') return config;
  if (target.kind !== 'sqlite') {
    throw new ConfigError(`invalid option masterKey: required with the ${target.kind} store (SESSIONKIT_MASTER_KEY or --master-key; e.g. openssl rand -base64 32)`, 'masterKey');
  }
  const file = join(dirname(resolve(target.path)), MASTER_KEY_FILE);
  let key: string;
  try {
    // The folder holds the database (with the server secret) and this key: its owner's alone.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError(`invalid option masterKey: cannot create ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'masterKey');
  }
  try {
    key = readFileSync(file, 'utf8').trim();
    parseMasterKey(key);
  } catch {
    throw new ConfigError(`invalid option masterKey: ${file} does not hold a 32-byte key (hex or base64)`, 'masterKey');
  }
  return { ...config, masterKey: key };
}
