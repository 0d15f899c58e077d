import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { pino, type Logger } from 'pino';
import { pinoAudit } from '../audit/sink.js';
import { createManagerFromConfig } from '../config/index.js';
import { resolveMasterKey } from '../config/master-key.js';
import { auditKey } from '../audit/checkpoint.js';
import { startAuditSealer } from '../audit/sealer.js';
import { parseMasterKey } from '../tokens/key-encryption.js';
import { openStore } from '../config/store.js';
import type { ServiceConfig } from '../config/schema.js';
import { boundedMap } from '../core/bounded-map.js';
import { SessionError } from '../core/errors.js';
import { storableText } from '../core/text.js';
import type { SessionManager } from '../core/manager.js';
import { errorResponse, warnIfInsecure, type HttpOptions } from '../http/core.js';
import type { SessionStore } from '../stores/types.js';
import { createAuth } from './auth.js';
import { failureFields } from './failure-log.js';
import { createLimiter } from './limiter-setup.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';
import { trackMethods } from './method-not-allowed.js';
import { collectOpenApi } from './openapi.js';
import type { AttemptLimiter } from './rate-limit.js';
import { monitoringRoutes } from './dashboard/index.js';
import { jwtRoutes } from './routes/jwt.js';
import { opsRoutes } from './routes/ops.js';
import { reauthenticateRoutes } from './routes/reauthenticate.js';
import { sessionRoutes } from './routes/sessions.js';
import { userRoutes } from './routes/users.js';
import { backchannelRoutes } from './routes/backchannel.js';
import { oidcFromConfig, oidcRoutes } from './routes/oidc.js';

/** Everything `buildServer` may be given instead of building it from the configuration. */
export interface ServerDeps {
  /** An opened store; without it the configured one is opened (and closed with the server). */
  store?: SessionStore;
  logger?: Logger;
  limiter?: AttemptLimiter;
  /** Injectable clock for the session manager (tests). */
  now?: () => number;
}

/** What the service keeps besides the Fastify app, for tests and `startServer`. */
export interface ServiceInternals {
  sessions: SessionManager;
  store: SessionStore;
  metrics: ServiceMetrics;
  logger: Logger;
  openapi: () => Record<string, unknown>;
}

export type ServiceApp = FastifyInstance & { sessionService: ServiceInternals };

/** Largest request body (shared/API.md "Limits"). */
export const BODY_LIMIT = 64 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const VERSION = readVersion();

/**
 * Builds the session service (shared/API.md) on Fastify 5 without listening: every route with
 * its JSON schema, API keys, CSRF, rate limiting of failed credentials, metrics, request ids and
 * JSON errors. Tests call it with `app.inject`; `startServer` listens on it.
 *
 * @example
 * const app = await buildServer(loadConfig({ env: { SESSIONKIT_STORE: 'memory:' } }));
 * const res = await app.inject({ method: 'GET', url: '/healthz' });
 */
export async function buildServer(given: ServiceConfig, deps: ServerDeps = {}): Promise<ServiceApp> {
  // A store this function opens needs the master key settled first (generated beside a SQLite file).
  const config = deps.store === undefined ? resolveMasterKey(given) : given;
  const logger = deps.logger ?? pino({ level: config.logLevel, base: { service: 'sessionkit' } });
  const ownsStore = deps.store === undefined;
  const rawStore = deps.store ?? await openStore(config);
  const metrics = createMetrics();
  const store = metrics.timedStore(rawStore);
  const sessions = createManagerFromConfig(config, store, { audit: [pinoAudit(logger), metrics.auditSink], ...(deps.now ? { now: deps.now } : {}) });
  const limiter = deps.limiter ?? await createLimiter(config, rawStore);
  const http: HttpOptions & { trustProxy: boolean | number } = {
    insecureCookies: config.insecureCookies, trustProxy: config.trustProxy, absoluteTimeout: config.absoluteTimeout,
    clearSiteData: config.clearSiteData,
  };
  warnIfInsecure(http, (m) => logger.warn(m));
  for (const warning of config.warnings) logger.warn(warning);

  const app = Fastify({
    loggerInstance: logger,
    // One line per request, written by our onResponse hook (with the route and status), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // Path parameters are checked by the route schemas (user ids up to 256 characters, which the
    // router's default of 100 would cut off with its own 414), not by the router.
    routerOptions: { maxParamLength: 2048 },
    // The router's own refusals (a bad %-escape, an oversized parameter) in the service's error shape.
    frameworkErrors: (err, request, reply) => {
      (reply as unknown as FastifyReply).code(400).header('x-request-id', request.id).header('cache-control', 'no-store')
        .send({ error: 'invalid_request', message: err.code === 'FST_ERR_BAD_URL' ? 'the URL holds an invalid %-escape' : 'a path parameter is too long' });
    },
  }) as unknown as ServiceApp;

  // A client that asks first (`Expect: 100-continue`) about a body over the limit gets the 413
  // JSON instead of `100 Continue` (RFC 9110, 10.1.1): told to send, it would be cut off mid-body.
  app.server.on('checkContinue', (req, res) => {
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length > BODY_LIMIT) {
      res.writeHead(413, {
        'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', connection: 'close',
        'x-request-id': randomUUID(), 'x-content-type-options': 'nosniff',
      }).end(JSON.stringify({ error: 'invalid_request', message: `request body larger than ${BODY_LIMIT} bytes` }));
      return;
    }
    res.writeContinue();
    app.server.emit('request', req, res);
  });

  // A POST without a body but with a JSON content type (common in HTTP clients) is no error.
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return defaultJson(request, body as string, done);
  });

  const methods = trackMethods(app);
  const openapi = collectOpenApi(app, {
    title: 'sessionkit session service', version: VERSION,
    description: 'HTTP API v1 of the sessionkit session service (docs/API.md).',
  });
  const auth = createAuth({
    sessions, store, limiter, metrics, http, adminKey: config.adminKey,
    allowedOrigins: config.allowedOrigins.length > 0 ? config.allowedOrigins : config.publicUrl ? [config.publicUrl] : [],
    rateLimitWindowMs: config.rateLimit.windowMs, log: logger,
  });
  const internals: ServiceInternals = { sessions, store, metrics, logger, openapi: openapi.document };
  app.decorate('sessionService', { getter: () => internals });

  // Callback-style hooks: no promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff');
    done();
  });
  // Path and query text reaches the store (ids, user ids, audit filters): NUL and lone surrogates
  // are refused here as the library refuses them in bodies, the same 400 on every store.
  app.addHook('preValidation', (request, reply, done) => {
    const unstorable = firstUnstorable(request.params) ?? firstUnstorable(request.query);
    if (unstorable === undefined) return done();
    done(new SessionError('invalid_request', `${unstorable}: must not contain a NUL character or an unpaired UTF-16 surrogate`));
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (logger.isLevelEnabled('info')) {
      request.log.info({ method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
    }
    done();
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    reply.header('x-request-id', request.id);
    if (err instanceof SessionError) {
      const { status, headers, body } = errorResponse(err);
      // The client gets a generic 503; the operator gets the cause (issue 18).
      if (status >= 500) request.log.error(failureFields(err, status), 'request failed');
      return reply.code(status).headers(headers).send(body);
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      request.log.error({ ...failureFields(err, 500), err }, 'request failed');
      const { headers, body } = errorResponse(err);
      return reply.code(500).headers(headers).send(body);
    }
    // Fastify's own refusals: bad JSON, schema violations, a body over the limit, an unknown media type.
    const message = err.validation ? `invalid request: ${err.message}` : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body larger than ${BODY_LIMIT} bytes` : err.message;
    return reply.code(status).header('cache-control', 'no-store').send({ error: 'invalid_request', message });
  });
  app.setNotFoundHandler((request, reply) => {
    // A known path asked with a method it does not serve: 405 with Allow, not 404.
    if (methods.refuse(request, reply)) return;
    const path = request.url.split('?')[0]?.slice(0, 200) ?? '';
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${path}` });
  });

  // A session's CSRF token is an HMAC of its id: remember recent ones instead of two HMACs per request.
  const csrfTokens = boundedMap<string, string>(10_000);
  const csrfToken = async (sessionId: string): Promise<string> => {
    let token = csrfTokens.get(sessionId);
    if (token === undefined) {
      token = await sessions.csrfToken(sessionId);
      csrfTokens.set(sessionId, token);
    }
    return token;
  };
  const routeDeps = { sessions, auth, http, metrics, csrfToken, userVisibleData: config.userVisibleData };
  sessionRoutes(app, routeDeps);
  reauthenticateRoutes(app, routeDeps);
  userRoutes(app, routeDeps, store);
  jwtRoutes(app, routeDeps, {
    allowedOrigins: config.allowedOrigins.length > 0 ? config.allowedOrigins : config.publicUrl ? [config.publicUrl] : [],
    tokenPrefix: config.tokenPrefix, ownOrigin: auth.ownOrigin,
  });
  opsRoutes(app, { store, auth, metrics, openapi: openapi.document });
  // Single sign-on: its routes exist only when an OpenID provider is configured.
  const oidc = oidcFromConfig(config, sessions);
  if (oidc) {
    oidcRoutes(app, routeDeps, oidc);
    backchannelRoutes(app, oidc, auth);
    oidc.discover().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'OpenID provider discovery failed; retried on the next login'));
  }
  monitoringRoutes(app, {
    sessions, store, auth, logger, insecureCookies: config.insecureCookies, adminKeyConfigured: config.adminKey !== null,
    allowedOrigins: config.allowedOrigins.length > 0 ? config.allowedOrigins : config.publicUrl ? [config.publicUrl] : [],
    lifetime: config.absoluteTimeout,
    eventStreams: { maxLifetime: config.eventStreamMaxLifetime, recheckInterval: config.eventStreamRecheck },
  });

  let sweeper: NodeJS.Timeout | null = null;
  if (config.sweepInterval > 0) {
    sweeper = setInterval(() => {
      sessions.sweepExpired({ maxBatches: 20 }).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'sweeping expired sessions failed'));
    }, config.sweepInterval);
    sweeper.unref();
  }
  // The keyed checkpoints of the audit chain (src/audit/checkpoint.ts): only with a master key,
  // which is where the audit key comes from and which the store never holds.
  const sealer = config.masterKey !== null && store.capabilities.persistentAudit
    ? startAuditSealer({ store, key: auditKey(parseMasterKey(config.masterKey)), now: sessions.now, log: logger })
    : null;
  // Sealed at once too, so a trail written before checkpoints existed is covered from the start.
  void sealer?.seal();
  app.addHook('onClose', async () => {
    if (sweeper) clearInterval(sweeper);
    await sealer?.stop();
    await limiter.close();
    // The manager's close stops its key-ring timer and store watch, then closes the store.
    if (ownsStore) await sessions.close();
  });
  await app.ready();
  return app;
}

/** The name of the first string value of a params or query object that no store can keep. */
function firstUnstorable(values: unknown): string | undefined {
  if (typeof values !== 'object' || values === null) return undefined;
  for (const [name, value] of Object.entries(values)) {
    const texts = Array.isArray(value) ? value : [value];
    if (texts.some((t) => typeof t === 'string' && !storableText(t))) return name;
  }
  return undefined;
}

function readVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
