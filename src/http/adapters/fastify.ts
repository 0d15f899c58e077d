import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { SessionError } from '../../core/errors.js';
import type { RecentAuthInput } from '../../core/freshness.js';
import type { IssuedSession, ReauthenticatedSession, ReauthenticateInput } from '../../core/manager.js';
import type { Session } from '../../core/types.js';
import { errorResponse, type HeaderBag } from '../core.js';
import { nodeFormToken } from '../form-body.js';
import { createSessionLayer, forbiddenResponse, recentAuthRule, type LoginInput, type RenewedSession, type RequestState, type ResponseChanges, type SessionLayer, type SessionLayerOptions } from '../layer.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's validated session, or null (set by the sessionkit plugin). */
    session: Session | null;
    /** The presented session token, or null. Never log it. */
    sessionToken: string | null;
    /** @internal sessionkit's per-request state. */
    sessionkitState: RequestState | null;
  }
  interface FastifyInstance {
    /** A preHandler that answers 401 (or 503) unless the request has a live session. */
    requireSession: preHandlerHookHandler;
    /** A preHandler that answers 401 without a session and 403 `forbidden` without `role`. */
    requireRole(role: string): preHandlerHookHandler;
    /**
     * A preHandler that answers 401 without a session and 403 `reauthentication_required` (with
     * `maxAge` and `methods`) unless the last authentication meets `{ maxAge, methods }`.
     */
    requireRecentAuth(options?: RecentAuthInput): preHandlerHookHandler;
    /** @internal the sessionkit layer of this instance. */
    sessionkit: SessionLayer;
  }
}

export type FastifySessionkitOptions = SessionLayerOptions;

/**
 * Answers with an error as DESIGN.md specifies (JSON body, 401 with `WWW-Authenticate`, no-store),
 * for routes that catch a `SessionError` themselves.
 *
 * @example try { await renew(reply) } catch (err) { return sendError(reply, err) }
 */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  return send(reply, err);
}

function send(reply: FastifyReply, err: unknown): FastifyReply {
  const { status, headers, body } = errorResponse(err);
  return reply.code(status).headers(headers).send(body);
}

function apply(reply: FastifyReply, changes: ResponseChanges): void {
  for (const name in changes.headers) reply.header(name, changes.headers[name]);
  for (const cookie of changes.cookies) reply.header('set-cookie', cookie);
}

async function sessionkitPlugin(fastify: FastifyInstance, options: FastifySessionkitOptions): Promise<void> {
  const layer = createSessionLayer(options);
  fastify.decorate('sessionkit', layer);
  fastify.decorateRequest('session', null);
  fastify.decorateRequest('sessionToken', null);
  fastify.decorateRequest('sessionkitState', null);

  // Callback-style hooks: one promise per request (the validation) instead of one per hook.
  fastify.addHook('preHandler', function sessionkitPreHandler(request, reply, done) {
    layer.resolve({
      method: request.method, headers: request.headers as HeaderBag, remoteAddress: request.socket.remoteAddress,
      host: request.headers.host, requestId: request.id,
      // Parsed by a content-type parser (@fastify/formbody, @fastify/multipart) or peeked and given back.
      formToken: () => nodeFormToken(request.raw, request.body),
    }).then((state) => {
      request.sessionkitState = state;
      request.session = state.session;
      request.sessionToken = state.token;
      if (state.changes) apply(reply, state.changes);
      done();
    }, (err: unknown) => {
      send(reply, err);
    });
  });

  const requireSession: preHandlerHookHandler = function requireSession(request, reply, done) {
    try {
      layer.requireState(stateOf(request).state);
    } catch (err) {
      send(reply, err);
      return;
    }
    done();
  };
  fastify.decorate('requireSession', requireSession);
  fastify.decorate('requireRole', (role: string): preHandlerHookHandler => function requireRole(request, reply, done) {
    try {
      layer.requireState(stateOf(request).state);
    } catch (err) {
      send(reply, err);
      return;
    }
    if (!request.session?.roles.includes(role)) {
      const { status, headers, body } = forbiddenResponse(role);
      reply.code(status).headers(headers).send(body);
      return;
    }
    done();
  });
  fastify.decorate('requireRecentAuth', (options: RecentAuthInput = {}): preHandlerHookHandler => {
    const rule = recentAuthRule(options);
    return function requireRecentAuth(request, reply, done) {
      let state: RequestState;
      try {
        state = stateOf(request).state;
      } catch (err) {
        send(reply, err);
        return;
      }
      layer.requireRecentAuth(state, rule).then(() => done(), (err: unknown) => {
        send(reply, err);
      });
    };
  });
}

/**
 * The Fastify plugin (made with fastify-plugin, so its decorators reach the whole app): a
 * `preHandler` hook validates the cookie or Bearer token and sets `request.session`; CSRF and
 * "cookie and Bearer at once" are refused there. Routes add `fastify.requireSession` or
 * `fastify.requireRole('admin')` as their own preHandler.
 *
 * @example
 * await app.register(sessionkitFastify, { sessions });
 * app.get('/me', { preHandler: app.requireSession }, (req) => ({ userId: req.session!.userId }));
 */
export const sessionkitFastify = fp(sessionkitPlugin, { fastify: '5.x', name: 'sessionkit' });
export default sessionkitFastify;

function stateOf(request: FastifyRequest): { layer: SessionLayer; state: RequestState } {
  const state = request.sessionkitState;
  if (!state) throw new SessionError('invalid_request', 'sessionkit: register the sessionkit plugin before this route');
  return { layer: request.server.sessionkit, state };
}

/**
 * Records that the user just proved who they are again (the app re-checked the password or a
 * second factor) and rotates the session token; a cookie session gets the new cookie.
 *
 * @example if (passwordOk) await reauthenticate(reply, { methods: ['pwd'] });
 */
export async function reauthenticate(reply: FastifyReply, input: ReauthenticateInput): Promise<ReauthenticatedSession> {
  const { layer, state } = stateOf(reply.request);
  const { issued, changes } = await layer.reauthenticate(state, input);
  apply(reply, changes);
  reply.request.session = issued.session;
  reply.request.sessionToken = state.token;
  return issued;
}

/**
 * Logs the user in: a new session (the one the request carried is revoked, never adopted) and
 * the session and CSRF cookies on the reply.
 *
 * @example const { csrfToken } = await login(reply, { userId: user.id, roles: ['user'] });
 */
export async function login(reply: FastifyReply, input: LoginInput): Promise<IssuedSession & { csrfToken: string }> {
  const { layer, state } = stateOf(reply.request);
  const { issued, csrfToken, changes } = await layer.login(state, input);
  apply(reply, changes);
  reply.request.session = issued.session;
  reply.request.sessionToken = issued.token;
  return { ...issued, csrfToken };
}

/**
 * Logs out: revokes the session and expires both cookies (plus `Clear-Site-Data: "cookies"` with
 * the `clearSiteData` option).
 *
 * @example app.post('/logout', async (req, reply) => { await logout(reply); return reply.code(204).send(); });
 */
export async function logout(reply: FastifyReply): Promise<boolean> {
  const { layer, state } = stateOf(reply.request);
  const { revoked, changes } = await layer.logout(state);
  apply(reply, changes);
  reply.request.session = null;
  reply.request.sessionToken = null;
  return revoked;
}

/**
 * Revokes every other session of the current user; returns how many ended.
 *
 * @example const revoked = await logoutOtherDevices(reply);
 */
export async function logoutOtherDevices(reply: FastifyReply): Promise<number> {
  const { layer, state } = stateOf(reply.request);
  return layer.logoutOtherDevices(state);
}

/**
 * Rotates the session token (same session). A cookie session gets the new cookie and `token:
 * null` (the new token never reaches a body the page could read); a Bearer caller gets `token`.
 *
 * @example const { token } = await renew(reply);
 */
export async function renew(reply: FastifyReply): Promise<RenewedSession> {
  const { layer, state } = stateOf(reply.request);
  const { issued, changes } = await layer.renew(state);
  apply(reply, changes);
  reply.request.session = issued.session;
  reply.request.sessionToken = state.token;
  return issued;
}

/**
 * The CSRF token of the request's session (null without one), for pages that embed it.
 *
 * @example const token = await csrfToken(request);
 */
export async function csrfToken(request: FastifyRequest): Promise<string | null> {
  const { layer, state } = stateOf(request);
  return layer.csrfToken(state);
}
