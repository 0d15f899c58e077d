import type { AuditSink } from '../audit/sink.js';
import { createSessionManager, type SessionManager } from '../core/manager.js';
import type { SessionStore } from '../stores/types.js';
import { OPTION_SPECS, type ServiceConfig } from './schema.js';

export { loadConfig, ConfigError } from './load.js';
export type { LoadConfigInput } from './load.js';
export { openStore, parseStoreUrl } from './store.js';
export { resolveMasterKey, MASTER_KEY_FILE } from './master-key.js';
export type { StoreTarget } from './store.js';
export { OPTION_SPECS, configSchema } from './schema.js';
export type { ServiceConfig, OptionSpec } from './schema.js';

/**
 * The flags of every configuration option, in the shape `node:util` `parseArgs` takes, so a
 * command can accept them and hand them on to `loadConfig({ argv })`.
 *
 * @example parseCommandLine(argv, ownOptions, configFlags())
 */
export function configFlags(): Record<string, { type: 'string' | 'boolean' }> {
  return Object.fromEntries(OPTION_SPECS.map((o) => [o.flag, { type: o.type }]));
}

/**
 * Builds the session manager the configuration describes, over an opened store. `audit` adds
 * sinks (the service adds its log and metrics).
 *
 * @example
 * const config = loadConfig({ env: process.env });
 * const sessions = createManagerFromConfig(config, await openStore(config));
 */
export function createManagerFromConfig(config: ServiceConfig, store: SessionStore, extra: { audit?: AuditSink[]; now?: () => number } = {}): SessionManager {
  const policies = Object.entries(config.rolePolicies ?? {});
  const roles = Object.fromEntries(policies
    .filter(([, p]) => p.idleTimeout !== undefined || p.absoluteTimeout !== undefined)
    .map(([role, p]) => [role, { ...(p.idleTimeout !== undefined ? { idleTimeout: p.idleTimeout } : {}), ...(p.absoluteTimeout !== undefined ? { absoluteTimeout: p.absoluteTimeout } : {}) }]));
  const reauthRoles = Object.fromEntries(policies
    .filter(([, p]) => p.reauthMaxAge !== undefined || p.reauthMethods !== undefined)
    .map(([role, p]) => [role, { ...(p.reauthMaxAge !== undefined ? { maxAge: p.reauthMaxAge } : {}), ...(p.reauthMethods !== undefined ? { methods: p.reauthMethods } : {}) }]));
  return createSessionManager({
    ...(Object.keys(roles).length > 0 ? { roles } : {}),
    store,
    idleTimeout: config.idleTimeout,
    absoluteTimeout: config.absoluteTimeout,
    touchInterval: config.touchInterval,
    renewGrace: config.renewGrace,
    tokenPrefix: config.tokenPrefix,
    ...(config.maxSessionsPerUser !== null ? { maxSessionsPerUser: { max: config.maxSessionsPerUser, policy: config.sessionLimitPolicy } } : {}),
    ...(config.secret !== null ? { secret: config.secret } : {}),
    ...(config.masterKey !== null ? { masterKey: config.masterKey } : {}),
    jwt: {
      issuer: config.jwtIssuer, audience: config.jwtAudience, algorithm: config.jwtAlgorithm,
      accessTokenTtl: config.accessTokenTtl, rotateEvery: config.keyRotationInterval ?? false, keyPropagation: config.keyPropagation,
    },
    checkRevocation: config.checkRevocation,
    revocationStaleness: config.revocationStaleness,
    refreshGrace: config.refreshGrace,
    reauth: { maxAge: config.reauthMaxAge, ...(Object.keys(reauthRoles).length > 0 ? { roles: reauthRoles } : {}) },
    ...(extra.audit ? { audit: extra.audit } : {}),
    ...(extra.now ? { now: extra.now } : {}),
  });
}
