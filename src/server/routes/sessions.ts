import type { FastifyInstance, FastifyReply } from 'fastify';
import { SessionError } from '../../core/errors.js';
import type { SessionManager } from '../../core/manager.js';
import type { Session } from '../../core/types.js';
import { clearSessionCookies, csrfCookie, logoutHeaders, NO_STORE_HEADERS, sessionCookie, type HttpOptions } from '../../http/core.js';
import type { ServiceAuth } from '../auth.js';
import type { ServiceMetrics } from '../metrics.js';
import { jwtJson, refreshedSchema, setJwtCookies } from './jwt.js';
import { freshSessionJson, recentAuthBodySchema, validateFreshness } from './reauthenticate.js';
import {
  cookieIssuedSessionSchema, errorResponses, issuedSessionSchema, revokedCountSchema, sessionJson, sessionListSchema, sessionResponseSchema, userView,
} from '../schemas.js';

export interface RouteDeps {
  sessions: SessionManager;
  auth: ServiceAuth;
  http: HttpOptions;
  metrics: ServiceMetrics;
  /** The CSRF token of a session (the manager's, remembered). */
  csrfToken(sessionId: string): Promise<string>;
  /** The keys of `data` a session's own user sees (`userVisibleData`); null or absent: all. */
  userVisibleData?: readonly string[] | null;
}

const nullableText = (max: number) => ({ type: ['string', 'null'], maxLength: max });

export const createBodySchema = {
  type: 'object',
  required: ['userId'],
  properties: {
    userId: { type: 'string', minLength: 1, maxLength: 256 },
    roles: { type: 'array', maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 64 } },
    device: {
      type: 'object',
      properties: {
        userAgent: nullableText(4096),
        // Checked by the library with node:net's isIP (400 invalid_request otherwise); JSON Schema's
        // ipv4/ipv6 formats differ from it at the edges (zone ids), so the document says it in words.
        ip: { ...nullableText(256), description: 'The client\'s IPv4 or IPv6 address (as node:net isIP accepts it; anything else is 400 invalid_request).' },
        label: nullableText(1000),
      },
      additionalProperties: false,
    },
    data: { type: 'object', additionalProperties: true, description: 'Small JSON object (at most 4 KiB).' },
    replaces: { type: 'string', description: 'The token of the session this login replaces: it is revoked (no session fixation).' },
    tokenType: { type: 'string', enum: ['opaque', 'jwt'], default: 'opaque', description: '`jwt`: a short-lived access token and a rotating refresh token instead of one session token.' },
    setCookie: { type: 'boolean', default: false, description: 'Also set the session and CSRF cookies on this response.' },
  },
  additionalProperties: false,
} as const;

const sessionAuth = [['sessionCookie'], ['bearer']];
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const noContent = { 204: { type: 'null', description: 'Done' }, ...errorResponses };

/** Sets the session and CSRF cookies of a session on the response. */
export async function setSessionCookies(reply: FastifyReply, deps: RouteDeps, token: string, session: Session, csrf: string): Promise<void> {
  const ttl = session.absoluteExpiresAt.getTime() - deps.sessions.now();
  reply.header('set-cookie', [sessionCookie(token, ttl, deps.http), csrfCookie(csrf, ttl, deps.http)]);
}

/**
 * The session routes of shared/API.md: create and validate (API key), the caller's own session
 * (session token: who am I, renew, logout, list, revoke one, log out other devices).
 *
 * @example app.register(async (scope) => sessionRoutes(scope, deps))
 */
export function sessionRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { sessions, auth } = deps;

  app.post('/v1/sessions', {
    schema: {
      operationId: 'createSession', tags: ['sessions'], security: [['apiKey']],
      summary: 'Create a session for an authenticated user',
      body: createBodySchema,
      response: { 201: { anyOf: [issuedSessionSchema, refreshedSchema], description: 'The new session: `token` (opaque) or `accessToken` + `refreshToken` (jwt)' }, ...errorResponses },
    },
  }, async (request, reply) => {
    const principal = await auth.apiKey(request, 'sessions');
    const body = request.body as { userId: string; roles?: string[]; device?: { userAgent?: string | null; ip?: string | null; label?: string | null }; data?: Record<string, unknown>; replaces?: string; setCookie?: boolean; tokenType?: 'opaque' | 'jwt' };
    const input = {
      userId: body.userId,
      ...(body.roles !== undefined ? { roles: body.roles } : {}),
      // The caller is a backend: without a device in the body, record none rather than the backend's.
      device: body.device ?? {},
      ...(body.data !== undefined ? { data: body.data } : {}),
      ...(body.replaces !== undefined ? { replaces: body.replaces } : {}),
    };
    const ctx = auth.context(request, `apikey:${principal.id}`);
    if (body.tokenType === 'jwt') {
      const issuedJwt = await sessions.create({ ...input, tokenType: 'jwt' }, ctx);
      const json = await jwtJson(deps, issuedJwt);
      if (body.setCookie) setJwtCookies(reply, deps, issuedJwt, json.csrfToken as string);
      reply.code(201).headers(NO_STORE_HEADERS);
      return json;
    }
    const issued = await sessions.create(input, ctx);
    const csrfToken = await deps.csrfToken(issued.session.id);
    if (body.setCookie) await setSessionCookies(reply, deps, issued.token, issued.session, csrfToken);
    reply.code(201).headers(NO_STORE_HEADERS);
    return { session: sessionJson(issued.session), token: issued.token, expiresAt: issued.expiresAt.toISOString(), csrfToken };
  });

  app.post('/v1/sessions/validate', {
    schema: {
      operationId: 'validateSession', tags: ['sessions'], security: [['apiKey']],
      summary: 'Validate a session token a backend received (slides the idle expiry)',
      body: { type: 'object', required: ['token'], properties: { token: { type: 'string' }, recentAuth: recentAuthBodySchema }, additionalProperties: false },
      response: { 200: sessionResponseSchema, ...errorResponses },
    },
  }, async (request, reply) => {
    const principal = await auth.apiKey(request, 'sessions');
    const { token, recentAuth } = request.body as { token: string; recentAuth?: { maxAge?: number; methods?: string[] } };
    let session: Session;
    try {
      session = await sessions.validate(token, auth.context(request, `apikey:${principal.id}`));
    } catch (err) {
      if (err instanceof SessionError) deps.metrics.countValidation(err.code);
      throw err;
    }
    deps.metrics.countValidation('ok');
    const fresh = await validateFreshness(sessions, session, recentAuth, { token, ctx: auth.context(request, `apikey:${principal.id}`) });
    reply.headers(NO_STORE_HEADERS);
    return { session: sessionJson(session, undefined, fresh), csrfToken: await deps.csrfToken(session.id) };
  });

  app.get('/v1/sessions/current', {
    schema: {
      operationId: 'getCurrentSession', tags: ['sessions'], security: sessionAuth,
      summary: "The caller's session (who am I); slides the idle expiry",
      response: { 200: sessionResponseSchema, ...errorResponses },
    },
  }, async (request, reply) => {
    const { session } = await auth.session(request, reply);
    reply.headers(NO_STORE_HEADERS);
    return { session: userView(freshSessionJson(sessions, session), deps.userVisibleData), csrfToken: await deps.csrfToken(session.id) };
  });

  app.post('/v1/sessions/current/renew', {
    schema: {
      operationId: 'renewCurrentSession', tags: ['sessions'], security: sessionAuth,
      summary: 'Rotate the session token (same session; the old token dies after a short grace window)',
      response: { 200: { anyOf: [issuedSessionSchema, cookieIssuedSessionSchema], description: 'The renewed session; `token` only for a Bearer caller (a cookie caller gets the new token in the cookie alone)' }, ...errorResponses },
    },
  }, async (request, reply) => {
    const caller = await auth.session(request, reply);
    if (caller.session.tokenType === 'jwt') {
      // A JWT session's token is a short-lived access token: it rotates with its refresh token.
      throw new SessionError('invalid_request', 'JWT sessions rotate through POST /v1/sessions/refresh, not renew');
    }
    const renewed = await sessions.renew(caller.token, auth.context(request));
    const csrfToken = await deps.csrfToken(renewed.session.id);
    reply.headers(NO_STORE_HEADERS);
    const answer = { session: userView(sessionJson(renewed.session), deps.userVisibleData), expiresAt: renewed.expiresAt.toISOString(), csrfToken };
    // A cookie caller is a page: its scripts must not read the token the HttpOnly cookie hides.
    if (caller.source === 'cookie') {
      await setSessionCookies(reply, deps, renewed.token, renewed.session, csrfToken);
      return answer;
    }
    return { ...answer, token: renewed.token };
  });

  app.delete('/v1/sessions/current', {
    schema: {
      operationId: 'logout', tags: ['sessions'], security: sessionAuth,
      summary: 'Log out: revoke the caller’s session and clear its cookies',
      response: noContent,
    },
  }, async (request, reply) => {
    const { session } = await auth.session(request, reply);
    await sessions.revoke(session.id, { ...auth.context(request), reason: 'logout' });
    reply.header('set-cookie', clearSessionCookies(deps.http)).headers(logoutHeaders(deps.http)).code(204);
  });

  app.get('/v1/sessions', {
    schema: {
      operationId: 'listMySessions', tags: ['sessions'], security: sessionAuth,
      summary: "The caller's sessions on all devices (`current` marks this one)",
      response: { 200: sessionListSchema, ...errorResponses },
    },
  }, async (request, reply) => {
    const { session } = await auth.session(request, reply);
    const list = await sessions.listForUser(session.userId);
    reply.headers(NO_STORE_HEADERS);
    return { sessions: list.map((s) => userView(sessionJson(s, s.id === session.id), deps.userVisibleData)) };
  });

  app.delete('/v1/sessions', {
    schema: {
      operationId: 'logoutOtherDevices', tags: ['sessions'], security: sessionAuth,
      summary: 'Log out of all other devices (`?others=true`)',
      querystring: {
        type: 'object', required: ['others'],
        properties: { others: { type: 'string', enum: ['true'], description: 'Must be `true`: revoke every session of the caller but this one.' } },
      },
      response: { 200: revokedCountSchema, ...errorResponses },
    },
  }, async (request, reply) => {
    const { session } = await auth.session(request, reply);
    const revoked = await sessions.revokeAllForUser(session.userId, { ...auth.context(request), except: session.id, reason: 'logout_others' });
    reply.headers(NO_STORE_HEADERS);
    return { revoked };
  });

  app.delete('/v1/sessions/:id', {
    schema: {
      operationId: 'revokeSession', tags: ['sessions'], security: [['apiKey'], ...sessionAuth],
      summary: 'Revoke one session: with an API key any session, with a session token one of the caller’s own',
      params: idParams,
      response: { 204: { type: 'null', description: 'Revoked' }, 404: { ...errorResponses['4xx'], description: 'No live session with this id (or not the caller’s)' }, ...errorResponses },
    },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const notFound = new SessionError('session_not_found', 'no live session with this id');
    if (request.headers['x-api-key'] !== undefined) {
      const principal = await auth.apiKey(request, 'sessions');
      const revoked = await sessions.revoke(id, { ...auth.context(request, `apikey:${principal.id}`), reason: 'admin' });
      if (!revoked) return reply.code(404).headers(NO_STORE_HEADERS).send({ error: notFound.code, message: notFound.message });
      return reply.code(204).send();
    }
    const caller = await auth.session(request, reply);
    const target = await sessions.get(id);
    if (!target || target.userId !== caller.session.userId || !(await sessions.revoke(id, { ...auth.context(request), reason: 'logout' }))) {
      return reply.code(404).headers(NO_STORE_HEADERS).send({ error: notFound.code, message: notFound.message });
    }
    if (id === caller.session.id) reply.header('set-cookie', clearSessionCookies(deps.http)).headers(logoutHeaders(deps.http));
    return reply.code(204).send();
  });
}
