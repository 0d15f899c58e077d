export { configFlags } from '../config/index.js';
import type { SessionManager } from '../core/manager.js';
import type { SessionStore } from '../stores/types.js';
import { createManagerFromConfig, loadConfig, openStore, resolveMasterKey, type ServiceConfig } from '../config/index.js';
import { failure } from './errors.js';
import { escapeText } from './output.js';
import { redactStoreUrl } from './redact.js';

/**
 * The configuration from flags, `SESSIONKIT_*` variables and the JSON file; throws the
 * configuration's `ConfigError` (exit 2) naming the first bad option.
 *
 * @example const config = readConfig(['--store', 'memory:'], process.env)
 */
export function readConfig(configArgv: string[], env: NodeJS.ProcessEnv): ServiceConfig {
  return loadConfig({ argv: configArgv, env });
}

/**
 * Opens the configured store and checks that it answers; an unreachable store is a run-time
 * failure (exit 1) that names the store without its password.
 *
 * @example const store = await connectStore(config)
 */
export async function connectStore(config: ServiceConfig): Promise<SessionStore> {
  let store: SessionStore;
  try {
    store = await openStore(config);
  } catch (err) {
    if (err instanceof Error && err.name === 'ConfigError') throw err;
    throw failure(`cannot open the store ${redactStoreUrl(config.store)}: ${escapeText(err instanceof Error ? err.message : String(err))}`);
  }
  try {
    await store.ping();
  } catch (err) {
    await store.close().catch(() => {});
    throw failure(`the store ${redactStoreUrl(config.store)} is not answering: ${escapeText(err instanceof Error ? err.message : String(err))}`);
  }
  return store;
}

/**
 * Runs `fn` with the configured store open, and closes the store afterwards whatever happens.
 *
 * @example const keys = await withStore(args.configArgv, env, (store) => listApiKeys(store))
 */
export async function withStore<T>(configArgv: string[], env: NodeJS.ProcessEnv,
  fn: (store: SessionStore, config: ServiceConfig) => Promise<T>): Promise<T> {
  const config = readConfig(configArgv, env);
  const store = await connectStore(config);
  try {
    return await fn(store, config);
  } finally {
    await store.close().catch(() => {});
  }
}

/**
 * Runs `fn` with a session manager configured like the service's (timeouts, limits, token
 * prefix, JWT settings), over the configured store, and closes it afterwards. With
 * `signingKeys`, the master key is resolved as `serve` resolves it.
 *
 * @example const sessions = await withManager(args.configArgv, env, (m) => m.listForUser('u1'))
 */
export async function withManager<T>(configArgv: string[], env: NodeJS.ProcessEnv,
  fn: (manager: SessionManager, store: SessionStore, config: ServiceConfig) => Promise<T>,
  options: { signingKeys?: boolean } = {}): Promise<T> {
  // Signing keys are encrypted under the master key: resolve it exactly as the service does
  // (for sqlite:, the master.key beside the database), or the service could not decrypt them.
  const loaded = readConfig(configArgv, env);
  const config = options.signingKeys ? resolveMasterKey(loaded) : loaded;
  const store = await connectStore(config);
  let manager: SessionManager;
  try {
    manager = createManagerFromConfig(config, store);
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  try {
    return await fn(manager, store, config);
  } finally {
    // The manager's close also stops its timers (key ring reloads) and closes the store.
    await manager.close().catch(() => {});
  }
}
