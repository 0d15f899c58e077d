import type { FastifyInstance, FastifySchema } from 'fastify';
import { serialize as serializeCookie } from 'cookie';
import { SessionError, TOKEN_ERROR_CODES } from '../../core/errors.js';
import type { IssuedJwtSession } from '../../core/jwt/sessions.js';
import { checkOrigin, clearSessionCookies, CSRF_HEADER, csrfCookie, headerValue, NO_STORE_HEADERS, readCookie, sessionCookie, type HttpOptions } from '../../http/core.js';
import { refreshTokenParser } from '../../tokens/refresh.js';
import { tokenFingerprint } from '../../tokens/opaque.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorResponses, sessionJson, sessionSchema, userView, type SessionJson } from '../schemas.js';
import type { RouteDeps } from './sessions.js';

const time = { type: 'string', format: 'date-time' } as const;

export const refreshedSchema = {
  type: 'object',
  required: ['session', 'accessToken', 'refreshToken', 'accessTokenExpiresAt', 'expiresAt', 'csrfToken'],
  properties: {
    session: sessionSchema,
    accessToken: { type: 'string', description: 'A short-lived JWT access token (typ at+jwt).' },
    refreshToken: { type: 'string', description: 'Single use: rotated on every refresh; a reused one revokes the session.' },
    accessTokenExpiresAt: time,
    expiresAt: { ...time, description: 'When the refresh token stops working unless used (the idle expiry).' },
    csrfToken: { type: 'string' },
  },
  additionalProperties: false,
} as const;

/**
 * A refresh answered to a cookie caller: the access and refresh tokens travel only in their
 * HttpOnly cookies, never in a body that page scripts can read (issue 18, Low 5).
 */
export const cookieRefreshedSchema = {
  type: 'object',
  required: ['session', 'accessTokenExpiresAt', 'expiresAt', 'csrfToken'],
  properties: {
    session: sessionSchema,
    accessTokenExpiresAt: time,
    expiresAt: { ...time, description: 'When the refresh token in the cookie stops working unless used (the idle expiry).' },
    csrfToken: { type: 'string' },
  },
  additionalProperties: false,
} as const;

/** The refresh-token cookie: `__Host-sessionkit-refresh` (`sessionkit-refresh` with insecureCookies). */
export function refreshCookieName(http: HttpOptions): string {
  return http.insecureCookies ? 'sessionkit-refresh' : '__Host-sessionkit-refresh';
}

/** Sets the access-token, refresh-token and CSRF cookies of a JWT session. */
export function setJwtCookies(reply: FastifyReply, deps: RouteDeps, issued: IssuedJwtSession, csrf: string): void {
  const ttl = issued.session.absoluteExpiresAt.getTime() - deps.sessions.now();
  reply.header('set-cookie', [
    sessionCookie(issued.accessToken, ttl, deps.http),
    // Strict: a refresh is never the result of following a link from another site.
    serializeCookie(refreshCookieName(deps.http), issued.refreshToken, {
      httpOnly: true, secure: !deps.http.insecureCookies, sameSite: 'strict', path: '/', maxAge: Math.max(0, Math.floor(ttl / 1000)),
    }),
    csrfCookie(csrf, ttl, deps.http),
  ]);
}

/** The JSON of a JWT session's issue or refresh. */
export async function jwtJson(deps: RouteDeps, issued: IssuedJwtSession): Promise<Record<string, unknown>> {
  return {
    session: sessionJson(issued.session), accessToken: issued.accessToken, refreshToken: issued.refreshToken,
    accessTokenExpiresAt: issued.accessTokenExpiresAt.toISOString(), expiresAt: issued.expiresAt.toISOString(),
    csrfToken: await deps.csrfToken(issued.session.id),
  };
}

/**
 * The JWT routes: refresh (rotating refresh tokens, reuse detection), the JWKS and key rotation.
 *
 * @example jwtRoutes(app, deps, { allowedOrigins })
 */
export function jwtRoutes(app: FastifyInstance, deps: RouteDeps, options: { allowedOrigins: string[]; tokenPrefix: string; ownOrigin(request: FastifyRequest): string }): void {
  const { sessions, auth } = deps;
  const parseRefresh = refreshTokenParser(options.tokenPrefix);

  app.post('/v1/sessions/refresh', {
    schema: {
      operationId: 'refreshSession', tags: ['sessions'], security: [[], ['refreshCookie']],
      summary: 'Rotate a refresh token (body or cookie): a new access token and refresh token; a reused refresh token revokes the session',
      body: { type: 'object', properties: { refreshToken: { type: 'string' } }, additionalProperties: false },
      response: { 200: { anyOf: [refreshedSchema, cookieRefreshedSchema], description: 'The new tokens in the body (body caller) or in the cookies alone (cookie caller)' }, ...errorResponses },
    },
    // The body is optional (the cookie may carry the token): an absent one is an empty object.
    preValidation: async (request) => {
      if (request.body === undefined || request.body === null) request.body = {};
    },
  }, async (request, reply) => {
    const fromBody = (request.body as { refreshToken?: string }).refreshToken;
    const fromCookie = fromBody === undefined ? readCookie(request.headers, refreshCookieName(deps.http)) : undefined;
    const token = fromBody ?? fromCookie;
    if (!token) throw new SessionError('token_missing', 'no refresh token: send { refreshToken } or the refresh cookie');
    await auth.checkLimit(request, token);
    const ctx = auth.context(request);
    if (fromCookie !== undefined) {
      // Cookie-authenticated write: same-origin proof and the session's CSRF token, as for the other routes.
      const parsed = parseRefresh(token);
      const allowed = options.allowedOrigins.length > 0 ? options.allowedOrigins : [options.ownOrigin(request)];
      const ok = checkOrigin(request.headers, allowed) && parsed !== null && await sessions.verifyCsrfToken(parsed.id, headerValue(request.headers, CSRF_HEADER));
      if (!ok) {
        await sessions.audit([{
          type: 'session.rejected', at: sessions.now(), sessionId: parsed?.id ?? null, userId: null, ip: ctx.ip ?? null,
          userAgent: ctx.userAgent ?? null, reason: 'csrf', detail: 'refresh', actor: null, requestId: request.id, tokenFingerprint: tokenFingerprint(token),
        }]).catch(() => {});
        throw new SessionError('csrf_failed', 'cookie refresh needs a same-origin request with the X-CSRF-Token header');
      }
    }
    let issued: IssuedJwtSession;
    try {
      issued = await sessions.refresh(token, ctx);
    } catch (err) {
      if (err instanceof SessionError && TOKEN_ERROR_CODES.has(err.code)) {
        await auth.noteFailure(request);
        if (fromCookie !== undefined) reply.header('set-cookie', [...clearSessionCookies(deps.http), serializeCookie(refreshCookieName(deps.http), '', { httpOnly: true, secure: !deps.http.insecureCookies, sameSite: 'strict', path: '/', maxAge: 0 })]);
      }
      throw err;
    }
    const body = await jwtJson(deps, issued);
    // The caller is the session's own user (its refresh token), not a backend.
    body.session = userView(body.session as SessionJson, deps.userVisibleData);
    reply.headers(NO_STORE_HEADERS);
    if (fromCookie === undefined) return body;
    // A cookie caller is a page: the tokens stay in the HttpOnly cookies, out of reach of its scripts.
    setJwtCookies(reply, deps, issued, body.csrfToken as string);
    const { accessToken: _accessToken, refreshToken: _refreshToken, ...withoutTokens } = body;
    return withoutTokens;
  });

  app.get('/.well-known/jwks.json', {
    schema: {
      operationId: 'jwks', tags: ['keys'], summary: 'The public keys that verify access tokens (JWKS)',
      response: {
        200: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } }, additionalProperties: false },
        ...errorResponses,
      },
    } as FastifySchema,
  }, async (_request, reply) => {
    const jwks = await sessions.keys.jwks();
    // Short: a new key is listed keyPropagation (default 2 min) before it signs, longer than this
    // max-age, so caches that honour it hold the key before its first token; old keys stay listed
    // until their tokens have expired.
    reply.header('cache-control', 'public, max-age=60');
    return jwks;
  });

  app.post('/v1/keys/rotate', {
    schema: {
      operationId: 'rotateKeys', tags: ['keys'], security: [['apiKey']],
      summary: 'Add a signing key: published in the JWKS at once, signing from activatesAt (after keyPropagation); older keys verify until their tokens expire (API key admin)',
      response: {
        200: {
          type: 'object', required: ['kid', 'activatesAt'], additionalProperties: false,
          properties: { kid: { type: 'string' }, activatesAt: { ...time, description: 'When the new key starts signing; the previous key signs until then.' } },
        },
        ...errorResponses,
      },
    },
  }, async (request) => {
    await auth.apiKey(request, 'admin');
    const { kid, activatesAt } = await sessions.keys.rotate();
    return { kid, activatesAt: activatesAt.toISOString() };
  });
}
