import type { Context, MiddlewareHandler } from 'hono';
import { SessionError } from '../../core/errors.js';
import type { RecentAuthInput } from '../../core/freshness.js';
import type { IssuedSession, ReauthenticatedSession, ReauthenticateInput } from '../../core/manager.js';
import type { Session } from '../../core/types.js';
import { errorResponse, READ_HEADERS, type HeaderBag } from '../core.js';
import { webFormToken } from '../form-body.js';
import { createSessionLayer, forbiddenResponse, recentAuthRule, type LoginInput, type RenewedSession, type RequestState, type ResponseChanges, type SessionLayer, type SessionLayerOptions } from '../layer.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request's validated session, or null (set by `sessionkit()`). */
    session: Session | null;
    /** The presented session token, or null. Never log it. */
    sessionToken: string | null;
    /** @internal sessionkit's per-request state and layer. */
    sessionkit: { layer: SessionLayer; state: RequestState };
  }
}

export interface HonoSessionkitOptions extends SessionLayerOptions {
  /**
   * The socket's peer address. Default: `c.env.incoming.socket.remoteAddress` (@hono/node-server);
   * on other runtimes pass your platform's way (or rely on `trustProxy`).
   */
  remoteAddress?: (c: Context) => string | undefined;
}

function nodeRemoteAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/**
 * The error response DESIGN.md specifies (JSON body, 401 with `WWW-Authenticate`, no-store), for
 * `app.onError` or routes that catch a `SessionError` themselves.
 *
 * @example app.onError((err, c) => sendError(c, err));
 */
export function sendError(c: Context, err: unknown): Response {
  return errorJson(c, err);
}

function errorJson(c: Context, err: unknown): Response {
  const { status, headers, body } = errorResponse(err);
  return c.json(body, status as 400, headers);
}

function apply(c: Context, changes: ResponseChanges): void {
  for (const [name, value] of Object.entries(changes.headers)) c.header(name, value);
  for (const cookie of changes.cookies) c.header('Set-Cookie', cookie, { append: true });
}

/**
 * Hono middleware: validates the cookie or Bearer token and sets `c.get('session')`; refuses
 * CSRF failures (403) and a cookie plus a Bearer token (400).
 *
 * @example
 * app.use(sessionkit({ sessions }));
 * app.get('/me', requireSession(), (c) => c.json({ userId: c.get('session')!.userId }));
 */
export function sessionkit(options: HonoSessionkitOptions): MiddlewareHandler {
  const layer = createSessionLayer(options);
  const remoteAddress = options.remoteAddress ?? nodeRemoteAddress;
  return async function sessionkitMiddleware(c, next) {
    const headers: HeaderBag = {};
    for (const name of READ_HEADERS) {
      const value = c.req.raw.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    let state: RequestState;
    try {
      state = await layer.resolve({
        method: c.req.method, headers, remoteAddress: remoteAddress(c),
        host: headers.host as string | undefined ?? new URL(c.req.url).host, requestId: (headers['x-request-id'] as string | undefined) ?? null,
        // Read from a clone: c.req.parseBody() and friends still get the whole body.
        formToken: () => webFormToken(c.req.raw),
      });
    } catch (err) {
      return errorJson(c, err);
    }
    c.set('sessionkit', { layer, state });
    c.set('session', state.session);
    c.set('sessionToken', state.token);
    if (state.changes) apply(c, state.changes);
    await next();
  };
}

function stateOf(c: Context): { layer: SessionLayer; state: RequestState } {
  const carried = c.get('sessionkit');
  if (!carried) throw new SessionError('invalid_request', 'sessionkit: app.use(sessionkit({ sessions })) must run before this route');
  return carried;
}

/**
 * Answers 401 (or 503 when the store is down) unless the request has a live session.
 *
 * @example app.get('/me', requireSession(), handler)
 */
export function requireSession(): MiddlewareHandler {
  return async function requireSessionMiddleware(c, next) {
    try {
      const { layer, state } = stateOf(c);
      layer.requireState(state);
    } catch (err) {
      return errorJson(c, err);
    }
    await next();
  };
}

/**
 * Answers 401 without a session and 403 `forbidden` without `role`.
 *
 * @example app.delete('/users/:id', requireRole('admin'), handler)
 */
export function requireRole(role: string): MiddlewareHandler {
  return async function requireRoleMiddleware(c, next) {
    try {
      const { layer, state } = stateOf(c);
      layer.requireState(state);
    } catch (err) {
      return errorJson(c, err);
    }
    if (!c.get('session')?.roles.includes(role)) {
      const { status, headers, body } = forbiddenResponse(role);
      return c.json(body, status as 403, headers);
    }
    await next();
  };
}

/**
 * Answers 401 without a session and 403 `reauthentication_required` (with `maxAge` in seconds and
 * `methods` in the JSON body) unless the session's last authentication meets `{ maxAge, methods }`
 * and the manager's `reauth.roles` rules. Options are checked when the middleware is built.
 *
 * @example app.post('/account/email', requireRecentAuth({ maxAge: '10m' }), handler)
 */
export function requireRecentAuth(options: RecentAuthInput = {}): MiddlewareHandler {
  const rule = recentAuthRule(options);
  return async function requireRecentAuthMiddleware(c, next) {
    try {
      const { layer, state } = stateOf(c);
      await layer.requireRecentAuth(state, rule);
    } catch (err) {
      return errorJson(c, err);
    }
    await next();
  };
}

/**
 * Records that the user just proved who they are again (the app re-checked the password or a
 * second factor) and rotates the session token; a cookie session gets the new cookie.
 *
 * @example if (passwordOk) await reauthenticate(c, { methods: ['pwd'] });
 */
export async function reauthenticate(c: Context, input: ReauthenticateInput): Promise<ReauthenticatedSession> {
  const { layer, state } = stateOf(c);
  const { issued, changes } = await layer.reauthenticate(state, input);
  apply(c, changes);
  c.set('session', issued.session);
  c.set('sessionToken', state.token);
  return issued;
}

/**
 * Logs the user in: a new session (the request's old one is revoked, never adopted) and the
 * session and CSRF cookies on the response.
 *
 * @example const { csrfToken } = await login(c, { userId: 'u1', roles: ['user'] });
 */
export async function login(c: Context, input: LoginInput): Promise<IssuedSession & { csrfToken: string }> {
  const { layer, state } = stateOf(c);
  const { issued, csrfToken, changes } = await layer.login(state, input);
  apply(c, changes);
  c.set('session', issued.session);
  c.set('sessionToken', issued.token);
  return { ...issued, csrfToken };
}

/**
 * Logs out: revokes the session and expires both cookies (plus `Clear-Site-Data: "cookies"` with
 * the `clearSiteData` option).
 *
 * @example app.post('/logout', async (c) => { await logout(c); return c.body(null, 204); });
 */
export async function logout(c: Context): Promise<boolean> {
  const { layer, state } = stateOf(c);
  const { revoked, changes } = await layer.logout(state);
  apply(c, changes);
  c.set('session', null);
  c.set('sessionToken', null);
  return revoked;
}

/**
 * Revokes every other session of the current user; returns how many ended.
 *
 * @example const revoked = await logoutOtherDevices(c);
 */
export async function logoutOtherDevices(c: Context): Promise<number> {
  const { layer, state } = stateOf(c);
  return layer.logoutOtherDevices(state);
}

/**
 * Rotates the session token (same session). A cookie session gets the new cookie and `token:
 * null` (the new token never reaches a body the page could read); a Bearer caller gets `token`.
 *
 * @example const { token } = await renew(c);
 */
export async function renew(c: Context): Promise<RenewedSession> {
  const { layer, state } = stateOf(c);
  const { issued, changes } = await layer.renew(state);
  apply(c, changes);
  c.set('session', issued.session);
  c.set('sessionToken', state.token);
  return issued;
}

/**
 * The CSRF token of the request's session (null without one), for pages that embed it.
 *
 * @example const token = await csrfToken(c);
 */
export async function csrfToken(c: Context): Promise<string | null> {
  const { layer, state } = stateOf(c);
  return layer.csrfToken(state);
}
