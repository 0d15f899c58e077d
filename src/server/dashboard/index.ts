/**
 * The monitoring part of the service: the audit feed, the stats it keeps, the dashboard sign-in,
 * and their routes (`/v1/events`, `/v1/stats`, `/dashboard/...`).
 */
import type { FastifyInstance } from 'fastify';
import type { SessionManager } from '../../core/manager.js';
import type { SessionStore } from '../../stores/types.js';
import type { ServiceAuth } from '../auth.js';
import { dashboardRoutes } from '../routes/dashboard.js';
import { eventRoutes } from '../routes/events.js';
import { statsRoutes } from '../routes/stats.js';
import { dashboardAuth } from './auth.js';
import { auditFeed } from './feed.js';
import { dashboardStats } from './stats.js';

export interface MonitoringDeps {
  sessions: SessionManager;
  store: SessionStore;
  auth: ServiceAuth;
  logger: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
  insecureCookies: boolean;
  adminKeyConfigured: boolean;
  /** Origins allowed to write with the dashboard cookie; empty: the request's own origin. */
  allowedOrigins: string[];
  /** The longest a session can live (the absolute timeout): how far back the stats look. */
  lifetime: number;
  /** How often the store is polled for new events while someone watches. Default 300 ms. */
  pollInterval?: number;
  /** `/v1/events`: the longest a stream lives, and how often it re-checks its credential. */
  eventStreams: { maxLifetime: number; recheckInterval: number };
}

/**
 * Registers the live audit stream, the stats and the dashboard on the service, and stops them
 * when it closes (open event streams are ended first, or they would hold the server open).
 *
 * @example monitoringRoutes(app, { sessions, store, auth, logger, insecureCookies: false, adminKeyConfigured: false, allowedOrigins: [], lifetime: 8 * 3600_000 })
 */
export function monitoringRoutes(app: FastifyInstance, deps: MonitoringDeps): void {
  const feed = auditFeed(deps.store, {
    ...(deps.pollInterval !== undefined ? { pollInterval: deps.pollInterval } : {}),
    onError: (err) => deps.logger.warn({ err: (err as Error).message }, 'reading new audit events failed; retrying'),
    onRecover: () => deps.logger.info({}, 'reading new audit events works again'),
  });
  const stats = dashboardStats({ store: deps.store, feed, now: deps.sessions.now, lifetime: deps.lifetime });
  const dashAuth = dashboardAuth({
    store: deps.store, sessions: deps.sessions, auth: deps.auth, insecureCookies: deps.insecureCookies,
    adminKeyConfigured: deps.adminKeyConfigured, allowedOrigins: deps.allowedOrigins,
  });
  const streams = eventRoutes(app, { feed, dashAuth, logger: deps.logger, ...deps.eventStreams });
  statsRoutes(app, { stats, dashAuth, sessions: deps.sessions });
  dashboardRoutes(app, { sessions: deps.sessions, auth: deps.auth, dashAuth });
  app.addHook('preClose', (done) => {
    streams.closeAll();
    done();
  });
  app.addHook('onClose', async () => {
    stats.close();
    feed.close();
  });
}
