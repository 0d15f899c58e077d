import type { FastifyReply, FastifyRequest } from 'fastify';
import { SessionError, TOKEN_ERROR_CODES } from '../core/errors.js';
import type { SessionManager } from '../core/manager.js';
import type { AuditEvent, RequestContext, Session } from '../core/types.js';
import { clearSessionCookies, clientIp, extractToken, headerValue, isUnsafeMethod, type HttpOptions } from '../http/core.js';
import { enforceCsrf } from '../http/csrf.js';
import type { SessionStore } from '../stores/types.js';
import { tokenFingerprint } from '../tokens/opaque.js';
import { authenticateApiKey, hasScope, type ApiKeyPrincipal, type ApiKeyScope } from './api-keys.js';
import type { ServiceMetrics } from './metrics.js';
import type { AttemptLimiter } from './rate-limit.js';

/** A request authenticated by its session token. */
export interface SessionCaller {
  session: Session;
  token: string;
  source: 'cookie' | 'bearer';
}

export interface AuthOptions {
  sessions: SessionManager;
  store: SessionStore;
  limiter: AttemptLimiter;
  metrics: ServiceMetrics;
  http: HttpOptions & { trustProxy: boolean | number };
  adminKey: string | null;
  /** Origins whose cookie-authenticated writes pass; empty: the request's own origin. */
  allowedOrigins: string[];
  rateLimitWindowMs: number;
  log: { warn(obj: object, msg?: string): void };
}

export type ServiceAuth = ReturnType<typeof createAuth>;

/**
 * The service's credential checks: API keys (with scopes) and session tokens (with CSRF for
 * cookie-authenticated writes), both behind the per-IP limit of failed attempts. Every refusal is
 * audited with a fingerprint of what was presented, never the credential itself.
 *
 * @example
 * const principal = await auth.apiKey(request, 'sessions');
 * const { session } = await auth.session(request, reply);
 */
export function createAuth(options: AuthOptions) {
  const { sessions, store, limiter, metrics } = options;
  /** When each blocked IP's refusal was last audited: once per window, so a flood cannot flood the trail. */
  const limitAudited = new Map<string, number>();

  const ips = new WeakMap<FastifyRequest, string | null>();
  function ipOf(request: FastifyRequest): string | null {
    let ip = ips.get(request);
    if (ip === undefined) {
      ip = clientIp(request.raw.socket.remoteAddress, request.headers, options.http.trustProxy);
      ips.set(request, ip);
    }
    return ip;
  }

  function context(request: FastifyRequest, actor: string | null = null): RequestContext {
    return { ip: ipOf(request), userAgent: headerValue(request.headers, 'user-agent')?.slice(0, 512) ?? null, requestId: request.id, actor };
  }

  /** The origin the request was addressed to (behind a trusted proxy, with its X-Forwarded-Proto). */
  function ownOrigin(request: FastifyRequest): string {
    const forwardedProto = options.http.trustProxy ? headerValue(request.headers, 'x-forwarded-proto')?.split(',')[0]?.trim() : undefined;
    return `${forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : request.protocol}://${request.host}`;
  }

  async function audit(events: AuditEvent[]): Promise<void> {
    try {
      await sessions.audit(events);
    } catch (err) {
      options.log.warn({ err: (err as Error).message }, 'audit event could not be written');
    }
  }

  /** Refuses a credential from an IP over its limit of failed attempts (429 + Retry-After). */
  async function checkLimit(request: FastifyRequest, presented: unknown): Promise<void> {
    const ip = ipOf(request);
    if (ip === null) return;
    let ms = 0;
    try {
      const blocked = limiter.blockedFor(ip);
      ms = typeof blocked === 'number' ? blocked : await blocked;
    } catch (err) {
      // The limiter is a brake, not a gate: a limiter outage must not take valid traffic down.
      options.log.warn({ err: (err as Error).message }, 'rate limiter unavailable');
    }
    if (ms <= 0) return;
    metrics.rejected.inc({ kind: 'ip', reason: 'rate_limited' });
    const now = sessions.now();
    const last = limitAudited.get(ip);
    if (last === undefined || now - last >= options.rateLimitWindowMs) {
      if (limitAudited.size > 10_000) limitAudited.clear();
      limitAudited.set(ip, now);
      const ctx = context(request);
      await audit([{
        type: 'session.rejected', at: now, sessionId: null, userId: null, ip, userAgent: ctx.userAgent ?? null,
        reason: 'rate_limited', actor: null, requestId: request.id, tokenFingerprint: tokenFingerprint(presented),
      }]);
    }
    throw new SessionError('rate_limited', 'too many failed attempts from this address; try again later', { retryAfter: Math.ceil(ms / 1000) });
  }

  async function noteFailure(request: FastifyRequest): Promise<void> {
    const ip = ipOf(request);
    if (ip === null) return;
    try {
      await limiter.fail(ip);
    } catch (err) {
      options.log.warn({ err: (err as Error).message }, 'rate limiter unavailable');
    }
  }

  /**
   * Authenticates the `X-API-Key` header and checks its scope: 401 (`token_missing` /
   * `token_invalid`, audited as `apikey.rejected`) or 403 `insufficient_scope`.
   */
  async function apiKey(request: FastifyRequest, scope: ApiKeyScope): Promise<ApiKeyPrincipal> {
    const presented = headerValue(request.headers, 'x-api-key');
    await checkLimit(request, presented);
    const principal = presented === undefined || presented === '' ? null : await authenticateApiKey(store, presented, { adminKey: options.adminKey, now: sessions.now });
    if (!principal) {
      await noteFailure(request);
      const ctx = context(request);
      await audit([{
        type: 'apikey.rejected', at: sessions.now(), sessionId: null, userId: null, ip: ctx.ip ?? null,
        userAgent: ctx.userAgent ?? null, reason: presented ? 'invalid' : 'missing', actor: null,
        requestId: request.id, tokenFingerprint: tokenFingerprint(presented),
      }]);
      throw presented
        ? new SessionError('token_invalid', 'the API key is not valid')
        : new SessionError('token_missing', 'an API key is required in the X-API-Key header');
    }
    if (!hasScope(principal, scope)) {
      throw new SessionError('insufficient_scope', `this API key lacks the ${scope} scope`);
    }
    return principal;
  }

  /**
   * Authenticates the caller's session token (cookie or Bearer), sliding its idle expiry, and
   * enforces CSRF on cookie-authenticated writes. A dead session presented by cookie also gets
   * its cookies cleared.
   */
  async function session(request: FastifyRequest, reply: FastifyReply): Promise<SessionCaller> {
    let extracted: ReturnType<typeof extractToken>;
    try {
      extracted = extractToken(request.headers, options.http);
    } catch (err) {
      if (err instanceof SessionError && err.code === 'token_malformed') {
        await checkLimit(request, null);
        metrics.countValidation(err.code);
        await noteFailure(request);
      }
      throw err;
    }
    const { token, source } = extracted;
    if (token === null || source === null) throw new SessionError('token_missing', 'no session token: send the session cookie or Authorization: Bearer');
    await checkLimit(request, token);
    const ctx = context(request);
    let current: Session;
    try {
      current = await sessions.validate(token, ctx);
    } catch (err) {
      if (err instanceof SessionError && TOKEN_ERROR_CODES.has(err.code)) {
        metrics.countValidation(err.code);
        await noteFailure(request);
        if (source === 'cookie') reply.header('set-cookie', clearSessionCookies(options.http));
      }
      throw err;
    }
    metrics.countValidation('ok');
    if (source === 'bearer' || !isUnsafeMethod(request.method)) return { session: current, token, source };
    await enforceCsrf(sessions, current, {
      method: request.method, headers: request.headers, source, token,
      allowedOrigins: options.allowedOrigins.length > 0 ? options.allowedOrigins : [ownOrigin(request)], ctx,
    });
    return { session: current, token, source };
  }

  return { apiKey, session, context, ipOf, checkLimit, noteFailure, ownOrigin };
}
