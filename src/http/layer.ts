import { SessionError, TOKEN_ERROR_CODES } from '../core/errors.js';
import { parseRecentAuth, requirementFor, type RecentAuthInput, type RoleFreshnessRule } from '../core/freshness.js';
import type { CreateSessionInput, IssuedSession, ReauthenticatedSession, ReauthenticateInput, SessionManager } from '../core/manager.js';
import type { RequestContext, Session } from '../core/types.js';
import {
  clearSessionCookies, clientIp, csrfCookie, extractToken, headerValue, isUnsafeMethod, logoutHeaders, normalizeOrigin, sessionCookie,
  sessionCookieName, warnIfInsecure, CSRF_COOKIE_NAME, type HeaderBag, type HttpOptions,
} from './core.js';
import { enforceCsrf, enforceLoginOrigin } from './csrf.js';
import { enforceRecentAuth } from './freshness.js';

/** Options shared by the Express, Fastify and Hono adapters. */
export interface SessionLayerOptions extends HttpOptions {
  /** The session manager (`createSessionManager({ store })`). */
  sessions: SessionManager;
  /**
   * CSRF protection of cookie-authenticated unsafe requests. `true` (default): allowed `Origin` /
   * `Sec-Fetch-Site` and the `X-CSRF-Token` header. `'origin-only'`: the origin check alone (for
   * apps whose forms cannot send the header yet, such as apps migrating from express-session).
   * `false`: none; only behind another CSRF defence.
   */
  csrf?: boolean | 'origin-only';
  /** Where the insecure-cookies warning goes. Default `console.warn`. */
  warn?: (message: string) => void;
}

/** The framework-neutral facts about a request that the layer needs. */
export interface RequestInfo {
  method: string;
  headers: HeaderBag;
  remoteAddress: string | undefined;
  /** `host[:port]` the request was sent to, for the default allowed origin. */
  host: string | undefined;
  requestId?: string | null;
  /**
   * The `_csrf` field of the request's form body, for a CSRF check without `X-CSRF-Token` (called
   * only then; adapters read what the framework parsed, or a bounded prefix they give back).
   */
  formToken?: () => Promise<string | undefined>;
}

/** What the layer found out about a request: the session, or why there is none. */
export interface RequestState {
  session: Session | null;
  token: string | null;
  source: 'cookie' | 'bearer' | null;
  /** Why a presented token gave no session (401 codes, or 503); answered by `requireSession`. */
  error: SessionError | null;
  ctx: RequestContext;
  info: RequestInfo;
  /**
   * What the response needs because of this request (null: nothing): `no-store` whenever a session
   * was presented, expired cookies when the cookie's session is dead (so the browser stops sending
   * it), and the CSRF cookie again when a cookie session lost it.
   */
  changes: ResponseChanges | null;
}

/**
 * Who asked, for audit and device records. The IP is computed on first use: most requests are
 * valid and never read it. A class (getters on the prototype) because an object literal with
 * getters per request measurably slowed every request down.
 */
class LazyContext implements RequestContext {
  #ip: string | null | undefined;
  readonly requestId: string | null;

  constructor(private readonly info: RequestInfo, private readonly trustProxy: boolean | number) {
    this.requestId = info.requestId ?? null;
  }

  get ip(): string | null {
    if (this.#ip === undefined) this.#ip = clientIp(this.info.remoteAddress, this.info.headers, this.trustProxy);
    return this.#ip;
  }

  get userAgent(): string | null {
    return headerValue(this.info.headers, 'user-agent') ?? null;
  }
}

/** A plain copy of a context (spreading a `LazyContext` would drop its getters). */
function plain(ctx: RequestContext): RequestContext {
  return { ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null, requestId: ctx.requestId ?? null, actor: ctx.actor ?? null };
}

/** Fields a login accepts: everything `sessions.create` takes except what the request supplies. */
export type LoginInput = Omit<CreateSessionInput, 'replaces' | 'device'> & { device?: { label?: string | null } };

/**
 * What the adapters' `renew()` gives the app: `token` only for a Bearer request. A cookie
 * session's new token lives in the HttpOnly cookie alone, so an app that answers with the result
 * (`res.json(await renew(res))`) cannot hand it to the page's scripts.
 */
export type RenewedSession = Omit<IssuedSession, 'token'> & { token: string | null };

/** Headers and cookies an adapter writes to the response. */
export interface ResponseChanges {
  headers: Record<string, string>;
  cookies: string[];
}

export type SessionLayer = ReturnType<typeof createSessionLayer>;

const NO_STORE = 'no-store';
const CSRF_COOKIE_PREFIX = `${CSRF_COOKIE_NAME}=`;

/**
 * The part of every adapter that is not framework glue: finds and validates the session of a
 * request, enforces CSRF, and computes the cookies and headers of login, logout and renewal.
 * Options are checked once here, never per request.
 *
 * @example
 * const layer = createSessionLayer({ sessions, insecureCookies: true });
 * const state = await layer.resolve({ method, headers, remoteAddress, host });
 */
export function createSessionLayer(options: SessionLayerOptions) {
  if (typeof options !== 'object' || options === null || !options.sessions || typeof options.sessions.validate !== 'function') {
    throw new SessionError('invalid_request', 'sessionkit middleware: option sessions is required (createSessionManager({ store }))');
  }
  const { sessions } = options;
  const http: HttpOptions = {
    ...(options.cookieName !== undefined ? { cookieName: options.cookieName } : {}),
    insecureCookies: options.insecureCookies === true,
    trustProxy: options.trustProxy ?? false,
    absoluteTimeout: options.absoluteTimeout ?? sessions.options.absoluteTimeout,
    clearSiteData: options.clearSiteData === true,
  };
  const cookieName = sessionCookieName(http);
  let configuredOrigins: string[] | null = null;
  if (options.allowedOrigins !== undefined) {
    if (!Array.isArray(options.allowedOrigins)) throw new SessionError('invalid_request', 'option allowedOrigins: expected an array of origins');
    configuredOrigins = options.allowedOrigins.map((o) => {
      const normalized = typeof o === 'string' ? normalizeOrigin(o) : null;
      if (normalized === null) throw new SessionError('invalid_request', `option allowedOrigins: ${JSON.stringify(o)} is not an http(s) origin`);
      return normalized;
    });
  }
  const csrf = options.csrf ?? true;
  if (csrf !== true && csrf !== false && csrf !== 'origin-only') throw new SessionError('invalid_request', "option csrf: expected true, false or 'origin-only'");
  const trustProxy = http.trustProxy ?? false;
  warnIfInsecure(http, options.warn);

  /** The request's own origin when none are configured: with Secure cookies only https can carry them. */
  function allowedOrigins(info: RequestInfo): string[] {
    if (configuredOrigins) return configuredOrigins;
    if (!info.host) return [];
    return http.insecureCookies ? [`http://${info.host}`, `https://${info.host}`] : [`https://${info.host}`];
  }

  function context(info: RequestInfo): RequestContext {
    return new LazyContext(info, trustProxy);
  }

  /**
   * Finds and validates the request's session. Never throws for a bad or dead token (the request
   * simply has no session, and `error` says why); throws `invalid_request` when both a cookie and a
   * Bearer token are sent, and `csrf_failed` when a cookie session's unsafe request fails CSRF.
   */
  async function resolve(info: RequestInfo): Promise<RequestState> {
    const ctx = context(info);
    const state: RequestState = { session: null, token: null, source: null, error: null, ctx, info, changes: null };
    let extracted;
    try {
      extracted = extractToken(info.headers, http);
    } catch (err) {
      if (err instanceof SessionError && err.code !== 'invalid_request') {
        state.error = err;
        state.changes = { headers: { 'Cache-Control': NO_STORE }, cookies: [] };
        return state;
      }
      throw err;
    }
    if (extracted.token === null) return state;
    state.token = extracted.token;
    state.source = extracted.source;
    const changes: ResponseChanges = { headers: { 'Cache-Control': NO_STORE }, cookies: [] };
    state.changes = changes;
    let session: Session;
    try {
      session = await sessions.validate(extracted.token, ctx);
    } catch (err) {
      if (!(err instanceof SessionError)) throw err;
      state.error = err;
      if (state.source === 'cookie' && TOKEN_ERROR_CODES.has(err.code)) changes.cookies.push(...clearSessionCookies(http));
      return state;
    }
    state.session = session;
    if (state.source !== 'cookie') return state;
    if (csrf && isUnsafeMethod(info.method)) {
      await enforceCsrf(sessions, session, {
        method: info.method, headers: info.headers, source: state.source, token: state.token,
        allowedOrigins: allowedOrigins(info), ctx, requireToken: csrf === true,
        ...(info.formToken ? { formToken: info.formToken } : {}),
      });
    }
    // A substring test, not a second cookie parse: a false "present" only skips re-sending the cookie.
    if (!headerValue(info.headers, 'cookie')?.includes(CSRF_COOKIE_PREFIX)) {
      changes.cookies.push(csrfCookie(await sessions.csrfToken(session.id), remaining(session), http));
    }
    return state;
  }

  function remaining(session: Session): number {
    return session.absoluteExpiresAt.getTime() - sessions.now();
  }

  /** Cookies that hand an issued session to a browser: the session cookie and the readable CSRF cookie. */
  async function issueCookies(issued: IssuedSession): Promise<{ cookies: string[]; csrfToken: string }> {
    const csrfToken = await sessions.csrfToken(issued.session.id);
    const ttl = remaining(issued.session);
    return { cookies: [sessionCookie(issued.token, ttl, http), csrfCookie(csrfToken, ttl, http)], csrfToken };
  }

  /**
   * Logs a user in: creates a new session and revokes the one the request carried (if the
   * request really holds it), so a session id planted before login is never adopted. An unsafe
   * request that carries no live session must come from an allowed origin (login CSRF).
   */
  async function login(state: RequestState, input: LoginInput): Promise<{ issued: IssuedSession; csrfToken: string; changes: ResponseChanges }> {
    if (typeof input !== 'object' || input === null) throw new SessionError('invalid_request', 'login: expected { userId, roles }');
    // A live cookie session already passed the full check in resolve(); Bearer callers are not browsers.
    const checked = state.source === 'bearer' || (state.source === 'cookie' && state.session !== null);
    if (csrf && !checked) {
      await enforceLoginOrigin(sessions, {
        method: state.info.method, headers: state.info.headers, allowedOrigins: allowedOrigins(state.info), ctx: state.ctx,
        userId: typeof input.userId === 'string' ? input.userId : null,
      });
    }
    const issued = await sessions.create({
      ...input,
      device: { userAgent: state.ctx.userAgent ?? null, ip: state.ctx.ip ?? null, label: input.device?.label ?? null },
      replaces: state.token,
    }, state.ctx);
    const { cookies, csrfToken } = await issueCookies(issued);
    state.session = issued.session;
    state.token = issued.token;
    state.source = 'cookie';
    state.error = null;
    return { issued, csrfToken, changes: { headers: { 'Cache-Control': NO_STORE }, cookies } };
  }

  /**
   * Ends the request's session and tells the browser to forget it: expired cookies, and
   * `Clear-Site-Data: "cookies"` only with the `clearSiteData` option (it wipes every cookie of the
   * registrable domain). `clearSiteData: false` here leaves it out even then, for a logout that a
   * new session follows in the same response (the header would wipe the new cookie too).
   */
  async function logout(state: RequestState, opts: { reason?: string; clearSiteData?: boolean } = {}): Promise<{ revoked: boolean; changes: ResponseChanges }> {
    const revoked = state.session ? await sessions.revoke(state.session.id, { ...plain(state.ctx), reason: opts.reason ?? 'logout' }) : false;
    state.session = null;
    state.token = null;
    const headers = opts.clearSiteData === false ? { 'Cache-Control': NO_STORE } : logoutHeaders(http);
    return { revoked, changes: { headers, cookies: clearSessionCookies(http) } };
  }

  /** Revokes every other session of the request's user; the current one stays. */
  async function logoutOtherDevices(state: RequestState): Promise<number> {
    const session = requireState(state);
    return sessions.revokeAllForUser(session.userId, { ...plain(state.ctx), except: session.id, reason: 'logout_all' });
  }

  /**
   * Rotates the request's token (same session). A cookie session gets the new cookie and no
   * token in the result (`RenewedSession`); a Bearer caller gets the token to send back.
   */
  async function renew(state: RequestState): Promise<{ issued: RenewedSession; changes: ResponseChanges }> {
    requireState(state);
    const issued = await sessions.renew(state.token, state.ctx);
    const changes: ResponseChanges = { headers: { 'Cache-Control': NO_STORE }, cookies: [] };
    const byCookie = state.source === 'cookie';
    if (byCookie) changes.cookies = (await issueCookies(issued)).cookies;
    state.session = issued.session;
    state.token = issued.token;
    return { issued: { ...issued, token: byCookie ? null : issued.token }, changes };
  }

  /**
   * Records a fresh authentication of the request's session (the app just re-checked the user's
   * password or second factor) and rotates its token; a cookie session gets the new cookie.
   */
  async function reauthenticate(state: RequestState, input: ReauthenticateInput): Promise<{ issued: ReauthenticatedSession; changes: ResponseChanges }> {
    const session = requireState(state);
    const issued = await sessions.reauthenticate(session.id, input, state.ctx);
    const token = 'token' in issued ? issued.token : issued.accessToken;
    const changes: ResponseChanges = { headers: { 'Cache-Control': NO_STORE }, cookies: [] };
    if (state.source === 'cookie') changes.cookies = (await issueCookies({ session: issued.session, token, expiresAt: issued.expiresAt })).cookies;
    state.session = issued.session;
    state.token = token;
    return { issued, changes };
  }

  /**
   * Lets a request through only when its session's last authentication meets `rule` and the role
   * rules of `reauth`: the session error without a session, 403 `reauthentication_required`
   * (audited, with `maxAge` and `methods`) when stale. `rule` comes from `recentAuthRule`.
   */
  async function requireRecentAuth(state: RequestState, rule: RoleFreshnessRule): Promise<Session> {
    const session = requireState(state);
    await enforceRecentAuth(sessions, session, requirementFor(sessions.options.reauth, rule), { token: state.token, ctx: state.ctx });
    return session;
  }

  /** The session, or the error that explains its absence (`token_missing` when nothing was sent). */
  function requireState(state: RequestState): Session {
    if (state.session) return state.session;
    throw state.error ?? new SessionError('token_missing', 'this route needs a session: log in first');
  }

  return {
    sessions, http, cookieName, resolve, login, logout, logoutOtherDevices, renew, requireState, reauthenticate, requireRecentAuth,
    csrfToken: (state: RequestState) => (state.session ? sessions.csrfToken(state.session.id) : Promise.resolve(null)),
  };
}

/**
 * Checks the options of a `requireRecentAuth` middleware once, when it is built: `maxAge` (a
 * duration; default the manager's `reauth.maxAge`) and `methods` (all required).
 *
 * @example const rule = recentAuthRule({ maxAge: '10m', methods: ['totp'] });
 */
export function recentAuthRule(options: RecentAuthInput = {}): RoleFreshnessRule {
  return parseRecentAuth(options, 'requireRecentAuth');
}

/** The 403 for a session that lacks a role (not a session error: the session itself is fine). */
export function forbiddenResponse(role: string): { status: number; headers: Record<string, string>; body: { error: string; message: string } } {
  return {
    status: 403,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': NO_STORE },
    body: { error: 'forbidden', message: `this route needs the role ${JSON.stringify(role)}` },
  };
}
