import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MASTER_KEY_FILE, parseStoreUrl, type ServiceConfig } from '../../config/index.js';
import { parseMasterKey } from '../../tokens/key-encryption.js';

/**
 * Whether private signing keys can be encrypted at rest, as the service will resolve it: a
 * configured master key (checked: 32 bytes as hex or base64); for `sqlite:` the generated one in
 * `master.key` beside the database (or the note that the first start makes it); for `memory:`
 * none is needed. Redis, PostgreSQL and Memcached need one configured. Never shows the key.
 *
 * @example masterKeyStatus(config) // { status: 'ok', detail: 'set by SESSIONKIT_MASTER_KEY, --master-key or the config file' }
 */
export function masterKeyStatus(config: ServiceConfig): { status: 'ok' | 'warn' | 'fail'; detail: string } {
  if (config.masterKey !== null) {
    try {
      parseMasterKey(config.masterKey);
      return { status: 'ok', detail: 'set by SESSIONKIT_MASTER_KEY, --master-key or the config file' };
    } catch {
      return { status: 'fail', detail: 'the configured master key is not 32 bytes as 64 hex digits or base64 (openssl rand -base64 32)' };
    }
  }
  const target = parseStoreUrl(config.store);
  if (target.kind === 'memory') return { status: 'ok', detail: 'not needed with memory: (nothing is kept at rest)' };
  if (target.kind !== 'sqlite') {
    return { status: 'fail', detail: `not set: SESSIONKIT_MASTER_KEY is required with the ${target.kind} store (every instance must share it)` };
  }
  const file = join(dirname(resolve(target.path)), MASTER_KEY_FILE);
  if (!existsSync(file)) return { status: 'ok', detail: `not set: the first start generates one in ${file}` };
  try {
    parseMasterKey(readFileSync(file, 'utf8').trim());
  } catch {
    return { status: 'fail', detail: `${file} does not hold a 32-byte key (hex or base64)` };
  }
  // Group- or world-readable: anyone who can read it can decrypt the signing keys in the database.
  const mode = statSync(file).mode & 0o077;
  return mode === 0
    ? { status: 'ok', detail: `generated, kept in ${file}` }
    : { status: 'warn', detail: `kept in ${file}, which other users can read (chmod 600 it)` };
}
