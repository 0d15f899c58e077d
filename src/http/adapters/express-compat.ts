import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import { SessionError } from '../../core/errors.js';
import type { Session } from '../../core/types.js';
import { errorResponse } from '../core.js';
import type { RequestState, ResponseChanges, SessionLayer } from '../layer.js';
import { CompatBag, CompatCookieView, dataOf, type CompatControl, type CompatCookie } from './compat-bag.js';
import { anonymousUserId, checkedUserId, defaultRoles, defaultUserId, isAnonymousUserId } from './compat-user.js';

export { ANONYMOUS_USER_PREFIX, isAnonymousUserId } from './compat-user.js';
export type { CompatCookie } from './compat-bag.js';

/** How the express-session-shaped `req.session` maps onto sessionkit sessions. */
export interface CompatOptions {
  /**
   * The user a session bag belongs to. Default: `data.userId`, else `data.user` (a string, or an
   * object with `id`), else passport's `data.passport.user` (a string or number id, or an object
   * with `id`; anything else is a 400 `invalid_request` that names this option). A bag with data
   * and no user is an anonymous session (README, "Migrating from express-session").
   */
  userIdOf?: (data: Record<string, unknown>) => string | undefined;
  /** The roles of a session bag. Default: `data.roles` when it is an array of strings. */
  rolesOf?: (data: Record<string, unknown>) => string[] | undefined;
}

type Callback = (err?: unknown) => void;

/** The methods express-session puts on `req.session`, with its meanings. */
export interface CompatSessionMethods {
  /** Ends the current session (its token is revoked) and gives the request a fresh, empty one. */
  regenerate(cb?: Callback): this;
  /** Ends the session and expires the cookie; `req.session` is undefined afterwards. */
  destroy(cb?: Callback): this;
  /** Persists the bag now; a bag that gains a user becomes a new session of that user (a login). */
  save(cb?: Callback): this;
  /** Reloads the bag from the store. */
  reload(cb?: Callback): this;
  /** Sliding expiry already happens on every validated request; kept for compatibility. */
  touch(): this;
  /** As `touch()`: the cookie's lifetime is the session's. */
  resetMaxAge(): this;
  /** The session's public id (`req.sessionID`); a provisional random id until it is first stored. */
  readonly id: string;
  /** The session cookie's lifetime (read-only here: it follows the session's absolute lifetime). */
  readonly cookie: CompatCookie;
}

/** `req.session` in compat mode: the data as properties, plus the express-session methods. */
export type CompatSession = CompatSessionMethods & Record<string, unknown>;

/**
 * Builds the express-session compatibility shim used by `sessionkit({ expressSessionCompat })`:
 * `req.session` becomes a bag whose methods keep express-session's meanings, and a modified bag
 * is saved before the response ends (as express-session does with `resave: false`,
 * `saveUninitialized: false`). A bag with data but no user is kept as an anonymous session.
 *
 * @example app.use(sessionkit({ sessions, expressSessionCompat: true }))
 */
export function compatSession(layer: SessionLayer, options: CompatOptions) {
  const userIdOf = options.userIdOf ?? defaultUserId;
  const rolesOf = options.rolesOf ?? defaultRoles;
  if (typeof userIdOf !== 'function' || typeof rolesOf !== 'function') {
    throw new SessionError('invalid_request', 'option expressSessionCompat: userIdOf and rolesOf must be functions');
  }
  const { sessions } = layer;
  const cookieCap = layer.http.absoluteTimeout ?? sessions.options.absoluteTimeout;

  const userOf = (data: Record<string, unknown>) => checkedUserId(userIdOf(data));
  /** The user a bag named when it was loaded; a bag that cannot say counts as naming none. */
  function loadedUserOf(data: Record<string, unknown>): string | undefined {
    try {
      return userOf(data);
    } catch {
      return undefined;
    }
  }

  function attach(req: Request, res: Response, state: RequestState): void {
    // An anonymous session is data without a user: to requireSession() and the rest of sessionkit
    // the request has no session. The token stays in `state`, so a login in this request revokes it.
    let anonymous: Session | null = null;
    if (state.session && isAnonymousUserId(state.session.userId)) {
      anonymous = state.session;
      state.session = null;
    }
    const initial = state.session?.data ?? anonymous?.data ?? {};
    let loadedUser = loadedUserOf(initial);
    let pending: ResponseChanges | null = null;
    let destroyed = false;
    /** The bag lost its user (a logout): what remains becomes an anonymous session at the end. */
    let convertLater = false;
    let provisionalId: string | null = null;
    let queue: Promise<unknown> = Promise.resolve();
    let inFlight = 0;
    const control: CompatControl = { run, id, cookie };
    let bag = new CompatBag(control, initial);
    /** The bag's data as last loaded or stored: a bag that differs at the end is saved. */
    let snapshot = '';

    function setBag(next: CompatBag): void {
      bag = next;
      snapshot = JSON.stringify(dataOf(next));
      (req as unknown as { session: unknown }).session = next;
    }

    function id(): string {
      const current = state.session ?? anonymous;
      if (current) return current.id;
      provisionalId ??= randomBytes(24).toString('base64url');
      return provisionalId;
    }

    function cookie(): CompatCookie {
      const current = state.session ?? anonymous;
      const now = sessions.now();
      const original = Math.min(current ? current.absoluteTimeout : cookieCap, cookieCap);
      const left = current ? Math.max(0, Math.min(current.absoluteExpiresAt.getTime() - now, cookieCap)) : original;
      return new CompatCookieView(left, original, now, !layer.http.insecureCookies);
    }

    /** Operations run one at a time, in call order, and the response waits for them. */
    function enqueue(work: () => Promise<void>): Promise<void> {
      inFlight += 1;
      const done = queue.then(work).finally(() => {
        inFlight -= 1;
      });
      queue = done.catch(() => {});
      return done;
    }

    function run(kind: 'save' | 'regenerate' | 'destroy' | 'reload', cb?: Callback): void {
      const work = kind === 'save' ? save : kind === 'regenerate' ? regenerate : kind === 'destroy' ? destroy : reload;
      enqueue(work).then(() => cb?.(), (err: unknown) => cb?.(err));
    }

    async function createAnonymous(data: Record<string, unknown>): Promise<void> {
      convertLater = false;
      if (Object.keys(data).length === 0) return;
      if (res.headersSent) {
        throw new SessionError('invalid_request', 'expressSessionCompat: a new session needs its cookie, and the response headers were already sent; call req.session.save() before writing the body');
      }
      pending = (await layer.login(state, { userId: anonymousUserId(), data })).changes;
      anonymous = state.session;
      state.session = null;
    }

    async function save(): Promise<void> {
      if (destroyed) return;
      const data = dataOf(bag);
      const userId = userOf(data);
      const roles = rolesOf(data);
      const session = state.session;
      if (userId !== undefined) {
        if (session && session.userId === userId) {
          state.session = await sessions.update(session.id, { data, ...(roles ? { roles } : {}) }, state.ctx);
        } else {
          // A user appears in the bag: a login. A new session and token; the session the request
          // carried (anonymous, or another user's) is revoked, so a planted cookie is never adopted.
          pending = (await layer.login(state, { userId, data, ...(roles ? { roles } : {}) })).changes;
          anonymous = null;
        }
        convertLater = false;
        loadedUser = userId;
      } else if (session && loadedUser !== undefined) {
        // The user left the bag (passport's logout): the session ends now. The rest of the bag
        // becomes an anonymous session when the response ends, unless regenerate() or destroy()
        // drops it first (passport regenerates right after), so a logout creates nothing.
        pending = (await layer.logout(state)).changes;
        loadedUser = undefined;
        convertLater = true;
      } else if (session) {
        // A session made by login(), whose bag never named a user, keeps its user.
        state.session = await sessions.update(session.id, { data }, state.ctx);
      } else if (anonymous) {
        anonymous = await sessions.update(anonymous.id, { data }, state.ctx);
      } else {
        await createAnonymous(data);
      }
      snapshot = JSON.stringify(data);
    }

    /** What a logout-by-save left for the end of the response, if nothing dropped it. */
    async function flush(): Promise<void> {
      if (!convertLater || destroyed) return;
      if (res.headersSent) {
        // As with express-session: a session first stored after the headers left cannot be kept.
        convertLater = false;
        return;
      }
      await createAnonymous(dataOf(bag));
    }

    /** Ends whatever session the request holds (user or anonymous) and queues the expired cookies. */
    async function end(reason?: string): Promise<void> {
      if (!state.session && !anonymous && state.token === null) return;
      if (anonymous) {
        state.session = anonymous;
        anonymous = null;
      }
      pending = (await layer.logout(state, reason ? { reason } : {})).changes;
    }

    async function regenerate(): Promise<void> {
      await end('replaced');
      convertLater = false;
      loadedUser = undefined;
      provisionalId = null;
      setBag(new CompatBag(control, {}));
    }

    async function destroy(): Promise<void> {
      await end();
      destroyed = true;
      convertLater = false;
      // Not `delete`: `req.session` is an accessor (express.ts); express-session leaves it undefined.
      (req as unknown as { session?: unknown }).session = undefined;
    }

    async function reload(): Promise<void> {
      await flush();
      if ((!state.session && !anonymous) || state.token === null) throw new SessionError('session_not_found', 'reload: this session was never stored');
      const fresh = await sessions.validate(state.token, state.ctx);
      if (isAnonymousUserId(fresh.userId)) anonymous = fresh;
      else state.session = fresh;
      loadedUser = loadedUserOf(fresh.data);
      setBag(new CompatBag(control, fresh.data));
    }

    setBag(bag);
    Object.defineProperty(req, 'sessionID', { get: id, configurable: true, enumerable: true });

    // Cookies decided by save/regenerate/destroy go out with the headers: the last decision wins.
    const writeHead = res.writeHead;
    res.writeHead = function compatWriteHead(this: ServerResponse, ...args: unknown[]) {
      if (pending && !res.headersSent) {
        for (const [name, value] of Object.entries(pending.headers)) res.setHeader(name, value);
        if (pending.cookies.length > 0) res.append('Set-Cookie', pending.cookies);
        pending = null;
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as typeof res.writeHead;

    // Like express-session: a bag modified during the request is saved before the response ends.
    const originalEnd = res.end as (...a: unknown[]) => Response;
    res.end = function compatEnd(this: Response, ...args: unknown[]) {
      if (inFlight === 0 && !convertLater && (destroyed || JSON.stringify(dataOf(bag)) === snapshot)) return originalEnd.apply(this, args);
      enqueue(async () => {
        if (!destroyed && JSON.stringify(dataOf(bag)) !== snapshot) await save();
        await flush();
      }).then(() => originalEnd.apply(this, args), (err: unknown) => failInstead(err, args));
      return this;
    } as typeof res.end;

    /** A bag that could not be stored is answered with its error, never dropped without a word. */
    function failInstead(err: unknown, args: unknown[]): void {
      if (res.headersSent) {
        originalEnd.apply(res, args);
        return;
      }
      const { status, headers, body } = errorResponse(err);
      for (const name of res.getHeaderNames()) if (name !== 'set-cookie') res.removeHeader(name);
      res.statusCode = status;
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      originalEnd.call(res, JSON.stringify(body));
    }
  }

  return { attach };
}
