import type { Request, Response } from 'express';
import type { ServerResponse } from 'node:http';
import { SessionError } from '../../core/errors.js';
import type { LoginInput, RequestState, ResponseChanges, SessionLayer } from '../layer.js';

/** How the express-session-shaped `req.session` maps onto sessionkit sessions. */
export interface CompatOptions {
  /**
   * The user a session bag belongs to. Default: `data.userId`, else `data.user` when it is a
   * string, else `data.user.id`. A bag without a user is not persisted (sessionkit sessions are
   * login sessions), and saving a bag whose user was removed logs out.
   */
  userIdOf?: (data: Record<string, unknown>) => string | undefined;
  /** The roles of a session bag. Default: `data.roles` when it is an array of strings. */
  rolesOf?: (data: Record<string, unknown>) => string[] | undefined;
}

type Callback = (err?: unknown) => void;

/** The methods express-session puts on `req.session`, with its meanings. */
export interface CompatSessionMethods {
  /** Ends the current session and gives the request a fresh, empty one. */
  regenerate(cb?: Callback): this;
  /** Ends the session and clears the cookie; `req.session` is gone afterwards. */
  destroy(cb?: Callback): this;
  /** Persists the bag now: a bag with a user becomes (or updates) a session and sets the cookie. */
  save(cb?: Callback): this;
  /** Reloads the bag from the store. */
  reload(cb?: Callback): this;
  /** Sliding expiry already happens on every validated request; kept for compatibility. */
  touch(): this;
  readonly id: string;
}

/** `req.session` in compat mode: the data as properties, plus the express-session methods. */
export type CompatSession = CompatSessionMethods & Record<string, unknown>;

const METHOD_NAMES = new Set(['regenerate', 'destroy', 'save', 'reload', 'touch', 'id', 'cookie', 'resetMaxAge']);

function defaultUserId(data: Record<string, unknown>): string | undefined {
  if (typeof data.userId === 'string' && data.userId) return data.userId;
  if (typeof data.user === 'string' && data.user) return data.user;
  const user = data.user as { id?: unknown } | null | undefined;
  if (user && typeof user === 'object' && (typeof user.id === 'string' || typeof user.id === 'number')) return String(user.id);
  return undefined;
}

function defaultRoles(data: Record<string, unknown>): string[] | undefined {
  return Array.isArray(data.roles) && data.roles.every((r) => typeof r === 'string') ? data.roles as string[] : undefined;
}

/**
 * Builds the express-session compatibility shim used by `sessionkit({ expressSessionCompat })`:
 * `req.session` becomes a bag whose methods keep express-session's meanings, and a modified bag
 * is saved automatically before the response ends (as express-session does with `resave: false`).
 *
 * @example app.use(sessionkit({ sessions, expressSessionCompat: true }))
 */
export function compatSession(layer: SessionLayer, options: CompatOptions) {
  const userIdOf = options.userIdOf ?? defaultUserId;
  const rolesOf = options.rolesOf ?? defaultRoles;

  function attach(req: Request, res: Response, state: RequestState): void {
    let pending: ResponseChanges | null = null;
    let bag = makeBag(state.session?.data ?? {});
    let snapshot = JSON.stringify(dataOf(bag));
    let destroyed = false;

    function setBag(next: CompatSession): void {
      bag = next;
      (req as unknown as { session: unknown }).session = next;
      (req as unknown as { sessionID: string }).sessionID = next.id;
    }

    function dataOf(b: CompatSession): Record<string, unknown> {
      const data: Record<string, unknown> = {};
      for (const key of Object.keys(b)) {
        if (METHOD_NAMES.has(key)) continue;
        // Stored data may hold an own `__proto__` key: assigning it would set the prototype, and
        // `data.userId` would then read a user id out of it.
        if (key === '__proto__') Object.defineProperty(data, key, { value: b[key], enumerable: true, writable: true, configurable: true });
        else data[key] = b[key];
      }
      return data;
    }

    async function save(): Promise<void> {
      if (destroyed) return;
      const data = dataOf(bag);
      const userId = userIdOf(data);
      const roles = rolesOf(data);
      if (userId === undefined) {
        // No user: nothing to persist; a session that lost its user is a logout.
        if (state.session) pending = (await layer.logout(state)).changes;
      } else if (state.session && state.session.userId === userId) {
        state.session = await layer.sessions.update(state.session.id, { data, ...(roles ? { roles } : {}) }, state.ctx);
      } else {
        const input: LoginInput = { userId, data, ...(roles ? { roles } : {}) };
        pending = (await layer.login(state, input)).changes;
      }
      snapshot = JSON.stringify(data);
    }

    function makeBag(data: Record<string, unknown>): CompatSession {
      const b = { ...data } as CompatSession;
      const run = (work: () => Promise<void>, cb?: Callback) => {
        work().then(() => cb?.(), (err: unknown) => (cb ? cb(err) : undefined));
        return b;
      };
      Object.defineProperties(b, {
        id: { get: () => state.session?.id ?? '', enumerable: false },
        regenerate: {
          enumerable: false,
          value: (cb?: Callback) => run(async () => {
            if (state.session) pending = (await layer.logout(state, { reason: 'replaced', clearSiteData: false })).changes;
            snapshot = '{}';
            setBag(makeBag({}));
          }, cb),
        },
        destroy: {
          enumerable: false,
          value: (cb?: Callback) => run(async () => {
            pending = (await layer.logout(state)).changes;
            destroyed = true;
            // Not `delete`: `req.session` is an accessor (express.ts); express-session leaves it undefined.
            (req as unknown as { session?: unknown }).session = undefined;
          }, cb),
        },
        save: { enumerable: false, value: (cb?: Callback) => run(save, cb) },
        reload: {
          enumerable: false,
          value: (cb?: Callback) => run(async () => {
            if (!state.session) throw new SessionError('session_not_found', 'no session to reload');
            const fresh = await layer.sessions.get(state.session.id);
            if (!fresh) throw new SessionError('session_not_found', 'the session no longer exists');
            snapshot = JSON.stringify(fresh.data);
            setBag(makeBag(fresh.data));
          }, cb),
        },
        touch: { enumerable: false, value: () => b },
      });
      return b;
    }

    setBag(bag);
    // Cookies decided by save/regenerate/destroy are written just before the headers go out.
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
    const end = res.end;
    res.end = function compatEnd(this: Response, ...args: unknown[]) {
      const modified = !destroyed && JSON.stringify(dataOf(bag)) !== snapshot;
      if (!modified) return (end as (...a: unknown[]) => Response).apply(this, args);
      save().then(
        () => (end as (...a: unknown[]) => Response).apply(this, args),
        () => (end as (...a: unknown[]) => Response).apply(this, args),
      );
      return this;
    } as typeof res.end;
  }

  return { attach };
}
