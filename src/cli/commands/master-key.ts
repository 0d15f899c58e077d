import { parseStoreUrl } from '../../config/store.js';
import type { ServiceConfig } from '../../config/index.js';

/**
 * Whether private signing keys can be encrypted at rest: a configured master key, or (for
 * `sqlite:`) the one the service generates and keeps in the data folder. Every other store needs
 * one configured, because the instances sharing it must agree on it.
 *
 * @example masterKeyStatus(config) // { status: 'ok', detail: 'set by SESSIONKIT_MASTER_KEY/--master-key' }
 */
export function masterKeyStatus(config: ServiceConfig): { status: 'ok' | 'fail'; detail: string } {
  if (config.masterKey) return { status: 'ok', detail: 'set by SESSIONKIT_MASTER_KEY/--master-key (or the config file)' };
  const target = parseStoreUrl(config.store);
  if (target.kind === 'sqlite' || target.kind === 'memory') {
    return { status: 'ok', detail: `not set: generated and kept beside the ${target.kind === 'sqlite' ? 'SQLite file' : 'process (memory store)'}` };
  }
  return { status: 'fail', detail: `not set: SESSIONKIT_MASTER_KEY is required with the ${target.kind} store (all instances must share it)` };
}
