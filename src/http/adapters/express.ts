import { IncomingMessage } from 'node:http';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { SessionError } from '../../core/errors.js';
import type { RecentAuthInput } from '../../core/freshness.js';
import type { IssuedSession, ReauthenticatedSession, ReauthenticateInput } from '../../core/manager.js';
import type { Session } from '../../core/types.js';
import { errorResponse, type HeaderBag } from '../core.js';
import { nodeFormToken } from '../form-body.js';
import { createSessionLayer, forbiddenResponse, recentAuthRule, type LoginInput, type RenewedSession, type RequestState, type ResponseChanges, type SessionLayer, type SessionLayerOptions } from '../layer.js';
import { compatSession, type CompatOptions } from './express-compat.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request's validated session, or null (set by `sessionkit()`). */
      session: Session | null;
      /** The presented session token, or null. Never log it. */
      sessionToken: string | null;
    }
  }
}

export interface ExpressSessionkitOptions extends SessionLayerOptions {
  /**
   * Give `req.session` the express-session shape (`regenerate`, `destroy`, `save`, `reload`,
   * `touch`, `cookie`, data as properties, and `req.sessionID`), for apps migrating from
   * express-session, passport and connect-flash included. A bag with data and no user is an
   * anonymous session (`ANONYMOUS_USER_PREFIX`); a user appearing in a bag is a login without
   * fixation. See README, "Migrating from express-session". Unless `csrf` is set, compat mode
   * checks CSRF by origin only (`'origin-only'`).
   */
  expressSessionCompat?: boolean | CompatOptions;
}

export interface RequireSessionOptions {
  /** Send browsers (GET/HEAD) here with a 303 instead of a 401 JSON body, e.g. `'/login'`. */
  redirectTo?: string;
}

const SLOT = Symbol.for('sessionkit.express.slot');

/**
 * Everything sessionkit keeps on a request, in one property. Each own property added to Express's
 * request objects costs every later property access on them (V8 gives up on their fast shape
 * after a few additions); measured in bench/http.bench.mjs, two more properties cost ~12 µs per
 * request, more than the whole validation. So `req.session` and `req.sessionToken` are accessors
 * on the app's request prototype, installed once, that read and write this slot.
 */
interface Slot {
  layer: SessionLayer;
  state: RequestState;
  /** `undefined` after an express-session-style `destroy()` in compat mode. */
  session: Session | null | undefined;
  token: string | null;
}

interface Carrier {
  [SLOT]?: Slot;
}

const FIELDS = [['session', 'session'], ['sessionToken', 'token']] as const;
const homes = new WeakMap<object, object | null>();

/**
 * Where the accessors go: the last prototype above `req` before `http.IncomingMessage.prototype`,
 * which is Express's own request object, shared by every app and sub-app of that Express (each
 * app's `app.request` inherits from it, and a mounted sub-app swaps `req`'s prototype to its own).
 * Null when `req` is not an Express request; the middleware then sets own properties instead.
 */
function accessorHome(req: Request): object | null {
  const first = Object.getPrototypeOf(req) as object | null;
  if (first === null) return null;
  let home = homes.get(first);
  if (home !== undefined) return home;
  let previous: object | null = null;
  let proto: object | null = first;
  while (proto !== null && proto !== IncomingMessage.prototype) {
    previous = proto;
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  home = proto === null ? null : previous;
  if (home !== null) installAccessors(home);
  homes.set(first, home);
  return home;
}

/** Defines `session` and `sessionToken` as accessors of the slot on `home` (once per object). */
function installAccessors(home: object): void {
  for (const [name, field] of FIELDS) {
    if (Object.prototype.hasOwnProperty.call(home, name)) continue;
    Object.defineProperty(home, name, {
      configurable: true,
      enumerable: false,
      get(this: Carrier) {
        const slot = this[SLOT];
        return slot === undefined ? null : slot[field];
      },
      set(this: Carrier, value: unknown) {
        const slot = this[SLOT];
        if (slot !== undefined) (slot as unknown as Record<string, unknown>)[field] = value;
        else Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
      },
    });
  }
}

/**
 * Express middleware: validates the session cookie or Bearer token, sets `req.session` and
 * `req.sessionToken`, refuses cookie-authenticated unsafe requests that fail CSRF (403) and a
 * request with both a cookie and a Bearer token (400). A missing or dead session is not an error
 * here: put `requireSession()` on the routes that need one.
 *
 * @example
 * app.use(sessionkit({ sessions }));
 * app.get('/me', requireSession(), (req, res) => res.json({ userId: req.session!.userId }));
 */
export function sessionkit(options: ExpressSessionkitOptions): RequestHandler {
  // express-session apps send no X-CSRF-Token: compat mode checks the origin only unless told otherwise.
  const layer = createSessionLayer(options.expressSessionCompat && options.csrf === undefined ? { ...options, csrf: 'origin-only' } : options);
  const compat = options.expressSessionCompat ? compatSession(layer, options.expressSessionCompat === true ? {} : options.expressSessionCompat) : null;
  return function sessionkitMiddleware(req: Request, res: Response, next: NextFunction): void {
    const viaAccessors = accessorHome(req) !== null;
    // A value set before this middleware (another session library) would shadow the accessors.
    if (viaAccessors && Object.prototype.hasOwnProperty.call(req, 'session')) delete (req as { session?: unknown }).session;
    layer.resolve(requestInfo(req)).then((state) => {
      (req as unknown as Carrier)[SLOT] = { layer, state, session: state.session, token: state.token };
      if (!viaAccessors) {
        req.session = state.session;
        req.sessionToken = state.token;
      }
      if (state.changes) apply(res, state.changes);
      if (compat) compat.attach(req, res, state);
      next();
    }, (err: unknown) => sendError(res, err));
  };
}

function requestInfo(req: Request) {
  return {
    method: req.method,
    headers: req.headers as HeaderBag,
    remoteAddress: req.socket.remoteAddress,
    host: req.headers.host,
    requestId: typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : null,
    // `_csrf` of a form: from req.body when the app's parser ran first, else peeked and given back.
    formToken: () => nodeFormToken(req, req.body as unknown),
  };
}

/** Writes an error as the JSON body DESIGN.md specifies (401 with `WWW-Authenticate`, ...). */
export function sendError(res: Response, err: unknown): void {
  const { status, headers, body } = errorResponse(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(status).set(headers).json(body);
}

/**
 * Express error middleware that answers a `SessionError` thrown by a route (a failed `login`, a
 * `renew` of a dead session, a store outage) with its status and JSON body; other errors go on
 * to the next error handler untouched.
 *
 * @example app.use(sessionErrors());
 */
export function sessionErrors(): ErrorRequestHandler {
  return function sessionErrorsHandler(err, _req, res, next) {
    if (!(err instanceof SessionError)) {
      next(err);
      return;
    }
    sendError(res, err);
  };
}

function apply(res: Response, changes: ResponseChanges): void {
  for (const [name, value] of Object.entries(changes.headers)) res.setHeader(name, value);
  if (changes.cookies.length > 0) res.append('Set-Cookie', changes.cookies);
}

function stateOf(req: Request): { layer: SessionLayer; state: RequestState } {
  const slot = (req as unknown as Carrier)[SLOT];
  if (!slot) throw new SessionError('invalid_request', 'sessionkit: app.use(sessionkit({ sessions })) must run before this route');
  return slot;
}

/**
 * Lets the request through only with a live session; otherwise 401 (or 503 when the store is
 * down), or a 303 to `redirectTo` for browser page loads.
 *
 * @example app.get('/devices', requireSession({ redirectTo: '/login' }), showDevices)
 */
export function requireSession(options: RequireSessionOptions = {}): RequestHandler {
  const { redirectTo } = options;
  return function requireSessionMiddleware(req, res, next) {
    try {
      const { layer, state } = stateOf(req);
      layer.requireState(state);
      next();
    } catch (err) {
      const unavailable = err instanceof SessionError && err.code === 'store_unavailable';
      if (redirectTo && !unavailable && (req.method === 'GET' || req.method === 'HEAD')) {
        res.setHeader('Cache-Control', 'no-store');
        res.redirect(303, redirectTo);
        return;
      }
      sendError(res, err);
    }
  };
}

/**
 * Lets the request through only when its session has `role`: 401 without a session, 403
 * `forbidden` without the role.
 *
 * @example app.delete('/users/:id', requireRole('admin'), deleteUser)
 */
export function requireRole(role: string, options: RequireSessionOptions = {}): RequestHandler {
  const needSession = requireSession(options);
  return function requireRoleMiddleware(req, res, next) {
    needSession(req, res, () => {
      // The validated session, not req.session: in compat mode that is the express-session bag.
      if (stateOf(req).state.session?.roles.includes(role)) {
        next();
        return;
      }
      const { status, headers, body } = forbiddenResponse(role);
      res.status(status).set(headers).json(body);
    });
  };
}

/**
 * Lets the request through only when its session's last authentication is recent enough (and used
 * the required methods, with the manager's `reauth.roles` rules): 401 without a session, 403
 * `reauthentication_required` with `maxAge` (seconds) and `methods` in the JSON body when stale.
 * Options are checked when the middleware is built. Default `maxAge`: the manager's `reauth.maxAge`.
 *
 * @example app.post('/account/email', requireRecentAuth({ maxAge: '10m' }), changeEmail)
 */
export function requireRecentAuth(options: RecentAuthInput = {}): RequestHandler {
  const rule = recentAuthRule(options);
  return function requireRecentAuthMiddleware(req, res, next) {
    let carried: { layer: SessionLayer; state: RequestState };
    try {
      carried = stateOf(req);
    } catch (err) {
      sendError(res, err);
      return;
    }
    carried.layer.requireRecentAuth(carried.state, rule).then(() => next(), (err: unknown) => sendError(res, err));
  };
}

/**
 * Records that the user just proved who they are again (the app re-checked the password or a
 * second factor) and rotates the session token; a cookie session gets the new cookie.
 *
 * @example
 * if (await users.checkPassword(req.session!.userId, req.body.password)) await reauthenticate(res, { methods: ['pwd'] });
 */
export async function reauthenticate(res: Response, input: ReauthenticateInput): Promise<ReauthenticatedSession> {
  const { layer, state } = stateOf(res.req);
  const { issued, changes } = await layer.reauthenticate(state, input);
  apply(res, changes);
  res.req.session = issued.session;
  res.req.sessionToken = state.token;
  return issued;
}

/**
 * Logs the user in: a new session (the one the request carried is revoked, never adopted), the
 * session and CSRF cookies on `res`, and `req.session` updated.
 *
 * @example const { csrfToken } = await login(res, { userId: user.id, roles: user.roles });
 */
export async function login(res: Response, input: LoginInput): Promise<IssuedSession & { csrfToken: string }> {
  const { layer, state } = stateOf(res.req);
  const { issued, csrfToken, changes } = await layer.login(state, input);
  apply(res, changes);
  res.req.session = issued.session;
  res.req.sessionToken = issued.token;
  return { ...issued, csrfToken };
}

/**
 * Logs out: revokes the session and expires both cookies (plus `Clear-Site-Data: "cookies"` with
 * the `clearSiteData` option).
 *
 * @example app.post('/logout', async (req, res) => { await logout(res); res.redirect(303, '/login'); });
 */
export async function logout(res: Response): Promise<boolean> {
  const { layer, state } = stateOf(res.req);
  const { revoked, changes } = await layer.logout(state);
  apply(res, changes);
  res.req.session = null;
  res.req.sessionToken = null;
  return revoked;
}

/**
 * Revokes every other session of the current user and returns how many ended.
 *
 * @example const n = await logoutOtherDevices(res);
 */
export async function logoutOtherDevices(res: Response): Promise<number> {
  const { layer, state } = stateOf(res.req);
  return layer.logoutOtherDevices(state);
}

/**
 * Rotates the session token (same session). A cookie session gets the new cookie and `token:
 * null` (the new token never reaches a body the page could read); a Bearer caller gets `token`.
 *
 * @example const { token } = await renew(res);
 */
export async function renew(res: Response): Promise<RenewedSession> {
  const { layer, state } = stateOf(res.req);
  const { issued, changes } = await layer.renew(state);
  apply(res, changes);
  res.req.session = issued.session;
  res.req.sessionToken = state.token;
  return issued;
}

/**
 * The CSRF token of the request's session, for pages that embed it (a `<meta>` tag) so their
 * scripts can send `X-CSRF-Token`. Null without a session.
 *
 * @example res.render('page', { csrfToken: await csrfToken(req) })
 */
export async function csrfToken(req: Request): Promise<string | null> {
  const { layer, state } = stateOf(req);
  return layer.csrfToken(state);
}

/**
 * The sessionkit state of a request, for code that needs the layer directly (the compat shim).
 * @internal
 */
export function requestState(req: Request): { layer: SessionLayer; state: RequestState } {
  return stateOf(req);
}
export type { CompatCookie, CompatOptions, CompatSession, CompatSessionMethods } from './express-compat.js';
export { ANONYMOUS_USER_PREFIX, isAnonymousUserId } from './express-compat.js';
