import { hostname } from 'node:os';
import type { ServiceConfig } from '../config/schema.js';
import { resolveMasterKey } from '../config/master-key.js';
import { ConfigError } from '../config/load.js';
import { openStore } from '../config/store.js';
import { isSessionError } from '../core/errors.js';
import { SERVICE_RECORD, type ServiceAnnouncement } from './announcement.js';
import { bootstrapAdminKey } from './bootstrap.js';
import { buildServer } from './build.js';

export { buildServer, BODY_LIMIT } from './build.js';
export { SERVICE_RECORD, type ServiceAnnouncement } from './announcement.js';
export type { ServerDeps, ServiceApp, ServiceInternals } from './build.js';
export { createApiKey, listApiKeys, revokeApiKey, authenticateApiKey, hasScope } from './api-keys.js';
export type { ApiKeyInfo, ApiKeyPrincipal, ApiKeyScope } from './api-keys.js';

/** A running service. */
export interface RunningServer {
  /** `http://host:port`, with the port actually bound (useful with port 0). */
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to `shutdownTimeout`), closes the store. */
  close(): Promise<void>;
  /** The admin API key generated on this first start of the store, to print once; else absent. */
  adminKey?: string;
}

/**
 * Opens the configured store, creates the admin key on a fresh store (unless `adminKey` is
 * configured), builds the service and listens. Prints nothing itself: it logs through pino, and
 * the caller (`sessionkit serve`) prints the URL and the key.
 *
 * @example
 * const server = await startServer(loadConfig({ env: process.env }));
 * console.log(`listening on ${server.url}`);
 * process.once('SIGTERM', () => server.close());
 */
export async function startServer(given: ServiceConfig): Promise<RunningServer> {
  const config = resolveMasterKey(given);
  const store = await openStore(config);
  let app;
  let adminKey: string | null = null;
  try {
    await store.ping();
    if (!config.adminKey) adminKey = await bootstrapAdminKey(store);
    app = await buildServer(config, { store });
    await checkSigningKeys(app.sessionService.sessions);
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app?.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  app.log.info({ url, store: redactStoreUrl(config.store) }, 'sessionkit service listening');
  // Where this instance really listens (port 0 picks one), for `sessionkit doctor` on the same store.
  const announcement: ServiceAnnouncement = { url, pid: process.pid, hostname: hostname(), startedAt: Date.now() };
  await store.putRecord(SERVICE_RECORD.kind, SERVICE_RECORD.id, announcement)
    .catch((err: unknown) => app.log.warn({ err: (err as Error).message }, 'could not record the listening address for sessionkit doctor'));
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), config.shutdownTimeout); });
      const result = await Promise.race([app.close().then(() => 'closed' as const), timedOut]);
      clearTimeout(timer);
      if (result === 'timeout') {
        app.log.warn('in-flight requests did not finish in time; closing their connections');
        app.server.closeAllConnections();
      }
      const recorded = await store.getRecord<ServiceAnnouncement>(SERVICE_RECORD.kind, SERVICE_RECORD.id).catch(() => null);
      if (recorded?.pid === announcement.pid && recorded.hostname === announcement.hostname && recorded.startedAt === announcement.startedAt) {
        await store.deleteRecord(SERVICE_RECORD.kind, SERVICE_RECORD.id).catch(() => false);
      }
      await store.close().catch((err: unknown) => app.log.warn({ err: (err as Error).message }, 'closing the store failed'));
    })();
    return closing;
  };
  return adminKey ? { url, close, adminKey } : { url, close };
}

/**
 * Refuses to start when the configured master key cannot decrypt the store's signing keys (a
 * restart with another `SESSIONKIT_MASTER_KEY`, or instances configured differently): a
 * configuration error (exit 2, one line naming the key), not a 503 at the first JWT login.
 */
async function checkSigningKeys(sessions: { keys: { check(): Promise<void>; ensure(): Promise<void> } }): Promise<void> {
  try {
    await sessions.keys.check();
    // The first key is created and published now, before a client can ask for a token: the JWKS
    // is never empty once the service is up.
    await sessions.keys.ensure();
  } catch (err) {
    if (isSessionError(err, 'invalid_request')) throw new ConfigError(`invalid ${err.message}`, 'masterKey');
    throw err;
  }
}

/** A store URL fit for a log line: any password replaced. */
export function redactStoreUrl(url: string): string {
  return url.replace(/\/\/([^/@:]*):[^/@]*@/g, '//$1:***@');
}
