import { isIP } from 'node:net';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import { SessionError, TOKEN_ERROR_CODES } from '../core/errors.js';

/**
 * The framework-free HTTP layer: where a token comes from, what the cookies look like, which
 * requests need a CSRF check and how an error becomes a response. The adapters (Express, Fastify,
 * Hono) and the session service are thin shells around these functions, so they cannot disagree.
 */
export interface HttpOptions {
  /** Session cookie name. Default `__Host-sessionkit` (`sessionkit` with `insecureCookies`). */
  cookieName?: string;
  /**
   * Plain-HTTP development only: drops the `__Host-` prefix and the `Secure` flag (a browser
   * refuses both over `http://`). Logged as a warning once.
   */
  insecureCookies?: boolean;
  /**
   * Take the client IP from `X-Forwarded-For`. `true` trusts one proxy (the address it appended,
   * the rightmost); a number trusts that many proxies. Never the leftmost: the client writes it.
   */
  trustProxy?: boolean | number;
  /** Origins whose cookie-authenticated writes pass the CSRF origin check, e.g. `https://app.example.org`. */
  allowedOrigins?: string[];
  /** Absolute session lifetime in ms: no cookie outlives it. */
  absoluteTimeout?: number;
  /**
   * Send `Clear-Site-Data: "cookies"` with logout. Off by default: browsers then delete every
   * cookie of the response's registrable domain (`example.org` and all its subdomains, http and
   * https), and HTTP authentication credentials, so other applications and an identity provider on
   * the same site lose theirs too. Turn it on only when this application owns the whole site.
   */
  clearSiteData?: boolean;
}

/** Request headers as Node, Fastify and Express give them: names in lowercase. */
export type HeaderBag = Record<string, string | string[] | undefined>;

/** Name of the readable cookie that carries the CSRF token (shared/API.md). */
export const CSRF_COOKIE_NAME = 'sessionkit-csrf';
/** Request header that must echo the CSRF token on cookie-authenticated unsafe methods. */
export const CSRF_HEADER = 'x-csrf-token';
/** Form field that carries the CSRF token in urlencoded and multipart bodies (plain HTML forms). */
export const CSRF_FIELD = '_csrf';

const SECURE_COOKIE_NAME = '__Host-sessionkit';
const INSECURE_COOKIE_NAME = 'sessionkit';
const MAX_HEADER_TOKEN = 4096;
const COOKIE_NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/;
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * The session cookie's name: the configured one, else `__Host-sessionkit` (`sessionkit` when
 * `insecureCookies` is on, because browsers reject `__Host-` cookies without `Secure`).
 *
 * @example sessionCookieName({}) // '__Host-sessionkit'
 */
export function sessionCookieName(opts: HttpOptions): string {
  if (opts.cookieName !== undefined) {
    if (typeof opts.cookieName !== 'string' || !COOKIE_NAME_PATTERN.test(opts.cookieName)) {
      throw new SessionError('invalid_request', 'option cookieName: expected a cookie name token');
    }
    if (opts.insecureCookies && /^__(Host|Secure)-/i.test(opts.cookieName)) {
      throw new SessionError('invalid_request', 'option cookieName: __Host- and __Secure- cookies need Secure; drop the prefix with insecureCookies');
    }
    return opts.cookieName;
  }
  return opts.insecureCookies ? INSECURE_COOKIE_NAME : SECURE_COOKIE_NAME;
}

/** Every request header the HTTP layer reads (the Hono adapter copies only these from the request). */
export const READ_HEADERS: readonly string[] = ['cookie', 'authorization', 'origin', 'sec-fetch-site', 'x-forwarded-for', 'user-agent', 'host', 'x-request-id', CSRF_HEADER];

/** One header's value as a single string (repeated headers joined as HTTP allows for lists). */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
}

/**
 * The value of one cookie in the request, or undefined; the first one wins when a name repeats
 * (as in the `cookie` package). It scans for the one name instead of parsing every cookie, since
 * it runs on every request; values with `%` escapes are decoded by the `cookie` package.
 *
 * @example readCookie({ cookie: 'a=1; sessionkit-csrf=xyz' }, 'sessionkit-csrf') // 'xyz'
 */
export function readCookie(headers: HeaderBag, name: string): string | undefined {
  const header = headerValue(headers, 'cookie');
  if (!header) return undefined;
  const needle = `${name}=`;
  for (let at = header.indexOf(needle); at !== -1; at = header.indexOf(needle, at + 1)) {
    let before = at - 1;
    while (before >= 0 && (header[before] === ' ' || header[before] === '\t')) before -= 1;
    if (before >= 0 && header[before] !== ';') continue;
    const end = header.indexOf(';', at);
    let value = header.slice(at + needle.length, end === -1 ? undefined : end).trim();
    if (value.length > 1 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!value.includes('%')) return value;
    try {
      return parseCookies(`${name}=${value}`)[name];
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Finds the session token in the session cookie or in `Authorization: Bearer`. A token in the URL
 * is never read (it leaks through logs, history and `Referer`). Both at once is ambiguous and
 * answered with `invalid_request` rather than guessing which one the caller meant.
 *
 * @example
 * const { token, source } = extractToken(req.headers, { insecureCookies: true });
 * if (!token) throw new SessionError('token_missing', 'no session token');
 */
export function extractToken(headers: HeaderBag, opts: HttpOptions): { token: string | null; source: 'cookie' | 'bearer' | null } {
  const cookieToken = readCookie(headers, sessionCookieName(opts)) || null;
  let bearer = bearerToken(headers);
  // `Bearer` with nothing after it presents no token: missing (401 token_missing), not malformed.
  if (bearer === '') {
    if (cookieToken === null) throw new SessionError('token_missing', 'Authorization: Bearer carries no token');
    bearer = null;
  }
  if (cookieToken !== null && bearer !== null) {
    throw new SessionError('invalid_request', 'send the session token in the cookie or in Authorization: Bearer, not both');
  }
  if (bearer !== null) return { token: bearer, source: 'bearer' };
  if (cookieToken !== null) return { token: cookieToken, source: 'cookie' };
  return { token: null, source: null };
}

/** The Bearer credential of `Authorization`: null when there is none (other schemes are not ours), '' when it is empty. */
function bearerToken(headers: HeaderBag): string | null {
  const auth = headerValue(headers, 'authorization');
  if (auth === undefined) return null;
  const match = /^\s*bearer(?:\s+(.*))?$/is.exec(auth);
  if (!match) return null;
  const token = (match[1] ?? '').trim();
  if (token.length > MAX_HEADER_TOKEN) throw new SessionError('token_malformed', 'the session token is too long');
  return token;
}

function maxAgeSeconds(maxAgeMs: number, opts: HttpOptions): number {
  const cap = typeof opts.absoluteTimeout === 'number' && opts.absoluteTimeout > 0 ? opts.absoluteTimeout : Number.POSITIVE_INFINITY;
  const ms = Number.isFinite(maxAgeMs) ? Math.min(maxAgeMs, cap) : cap;
  if (!Number.isFinite(ms) || ms <= 0) return 0;
  return Math.floor(ms / 1000);
}

/**
 * The `Set-Cookie` value that stores a session token: `HttpOnly` (scripts never see it),
 * `Secure`, `SameSite=Lax`, `Path=/`, no `Domain` (host-only) and a `Max-Age` capped by the
 * absolute lifetime.
 *
 * @example res.setHeader('Set-Cookie', sessionCookie(token, session.absoluteExpiresAt.getTime() - Date.now(), opts))
 */
export function sessionCookie(token: string, maxAgeMs: number, opts: HttpOptions): string {
  return serializeCookie(sessionCookieName(opts), token, {
    httpOnly: true, secure: !opts.insecureCookies, sameSite: 'lax', path: '/', maxAge: maxAgeSeconds(maxAgeMs, opts),
  });
}

/**
 * The `Set-Cookie` value of the readable `sessionkit-csrf` cookie: the page's scripts copy it into
 * `X-CSRF-Token`, which a cross-site attacker cannot read and so cannot send.
 *
 * @example res.append('Set-Cookie', csrfCookie(await sessions.csrfToken(session.id), ttl, opts))
 */
export function csrfCookie(csrfToken: string, maxAgeMs: number, opts: HttpOptions): string {
  return serializeCookie(CSRF_COOKIE_NAME, csrfToken, {
    httpOnly: false, secure: !opts.insecureCookies, sameSite: 'lax', path: '/', maxAge: maxAgeSeconds(maxAgeMs, opts),
  });
}

/**
 * Expired session and CSRF cookies, for logout and for answering a dead session. With the
 * `clearSiteData` option, logout adds `Clear-Site-Data: "cookies"` (see `logoutHeaders`).
 *
 * @example res.setHeader('Set-Cookie', clearSessionCookies(opts))
 */
export function clearSessionCookies(opts: HttpOptions): string[] {
  const expired = { secure: !opts.insecureCookies, sameSite: 'lax' as const, path: '/', maxAge: 0, expires: new Date(0) };
  return [
    serializeCookie(sessionCookieName(opts), '', { ...expired, httpOnly: true }),
    serializeCookie(CSRF_COOKIE_NAME, '', { ...expired, httpOnly: false }),
  ];
}

/**
 * The headers of a logout response besides its expired cookies: `no-store`, and
 * `Clear-Site-Data: "cookies"` only when the `clearSiteData` option is on (it clears every cookie
 * of the whole registrable domain, not only sessionkit's).
 *
 * @example reply.headers(logoutHeaders(opts)).header('set-cookie', clearSessionCookies(opts))
 */
export function logoutHeaders(opts: HttpOptions): Record<string, string> {
  return opts.clearSiteData === true ? { 'Cache-Control': 'no-store', 'Clear-Site-Data': '"cookies"' } : { 'Cache-Control': 'no-store' };
}

/**
 * Whether a method changes state and so needs CSRF protection when authenticated by cookie.
 * Anything not known to be safe counts as unsafe.
 *
 * @example isUnsafeMethod('DELETE') // true
 */
export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(String(method).toUpperCase());
}

/** An origin in its serialised form (`https://host[:port]`), or null when it is not one. */
export function normalizeOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    return url.origin;
  } catch {
    return null;
  }
}

/**
 * The browser-side half of CSRF protection. With an `Origin` header, the origin must equal one
 * of `allowedOrigins` exactly (so `https://app.example.org.evil.com` and `Origin: null` fail).
 * Without one, `Sec-Fetch-Site` must be `same-origin`. `Sec-Fetch-Site: cross-site` fails unless
 * the `Origin` is explicitly allowed (a partner site on another domain). Neither header: refused,
 * since every browser that could be tricked into the request sends at least one of them.
 *
 * @example checkOrigin({ origin: 'https://app.example.org' }, ['https://app.example.org']) // true
 */
export function checkOrigin(headers: HeaderBag, allowedOrigins: string[]): boolean {
  const originHeader = headers.origin;
  const fetchSite = headerValue(headers, 'sec-fetch-site')?.trim().toLowerCase();
  if (originHeader !== undefined) {
    if (Array.isArray(originHeader)) return false;
    const origin = originHeader.trim();
    if (origin === '' || origin === 'null') return false;
    const normalized = normalizeOrigin(origin);
    if (normalized === null || normalized !== origin.toLowerCase().replace(/\/$/, '')) return false;
    return allowedOrigins.some((allowed) => normalizeOrigin(allowed) === normalized);
  }
  return fetchSite === 'same-origin';
}

/**
 * The client's IP: the socket's peer, or, with `trustProxy`, the address the trusted proxy put in
 * `X-Forwarded-For` (counted from the right, because the client controls the left end).
 * IPv4-mapped IPv6 addresses are shown as IPv4.
 *
 * @example clientIp(req.socket.remoteAddress, req.headers, false) // '203.0.113.7'
 */
export function clientIp(remoteAddress: string | undefined, headers: HeaderBag, trustProxy: boolean | number): string | null {
  const hops = trustProxy === true ? 1 : typeof trustProxy === 'number' && trustProxy > 0 ? Math.floor(trustProxy) : 0;
  if (hops > 0) {
    const forwarded = headerValue(headers, 'x-forwarded-for');
    if (forwarded) {
      const chain = forwarded.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
      const candidate = chain[Math.max(0, chain.length - hops)];
      const ip = candidate === undefined ? null : cleanIp(candidate);
      if (ip) return ip;
    }
  }
  return remoteAddress ? cleanIp(remoteAddress) : null;
}

function cleanIp(raw: string): string | null {
  let ip = raw.trim();
  if (ip.startsWith('[')) ip = ip.slice(1, ip.indexOf(']') > 0 ? ip.indexOf(']') : undefined);
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(ip)) ip = ip.slice(0, ip.lastIndexOf(':'));
  if (ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  return isIP(ip) ? ip : null;
}

/** Headers every response that carries or reveals a session needs. */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'Cache-Control': 'no-store' });

/**
 * An error's JSON body. `maxAge` (seconds) and `methods` come only with
 * `reauthentication_required`: what the last authentication must meet.
 */
// A type alias, not an interface, so it stays assignable to Record<string, unknown>.
export type ErrorBody = {
  error: string;
  message: string;
  maxAge?: number;
  methods?: string[];
};

const GENERIC_MESSAGES: Partial<Record<string, string>> = {
  store_unavailable: 'the session store is unavailable; try again shortly',
};

/**
 * Turns any error into the response to send: a `SessionError` keeps its code and status (401
 * adds `WWW-Authenticate: Bearer error="invalid_token"`, 429 a `Retry-After` when known);
 * anything else is a 500 `internal_error` that reveals nothing about the cause.
 *
 * @example
 * const { status, headers, body } = errorResponse(err);
 * res.status(status).set(headers).json(body);
 */
export function errorResponse(err: unknown): { status: number; headers: Record<string, string>; body: ErrorBody } {
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };
  if (!(err instanceof SessionError)) {
    return { status: 500, headers, body: { error: 'internal_error', message: 'internal error' } };
  }
  if (err.status === 401 || TOKEN_ERROR_CODES.has(err.code)) headers['WWW-Authenticate'] = 'Bearer error="invalid_token"';
  if (err.status === 429) {
    const retryAfter = Number(err.details.retryAfter);
    if (Number.isFinite(retryAfter) && retryAfter > 0) headers['Retry-After'] = String(Math.ceil(retryAfter));
  }
  const body: ErrorBody = { error: err.code, message: GENERIC_MESSAGES[err.code] ?? err.message };
  // What a stale session needs, so the client can send the user to the right prompt and back.
  if (err.code === 'reauthentication_required') {
    if (typeof err.details.maxAge === 'number') body.maxAge = err.details.maxAge;
    if (Array.isArray(err.details.methods)) body.methods = err.details.methods as string[];
  }
  return { status: err.status, headers, body };
}

let insecureWarned = false;

/**
 * Logs, once per process, that cookies are not `Secure`: fine on `http://localhost`, a hole in
 * production. Called by every adapter when it is built.
 *
 * @example warnIfInsecure({ insecureCookies: true }) // prints one warning
 */
export function warnIfInsecure(opts: HttpOptions, warn: (message: string) => void = (m) => console.warn(m)): void {
  if (!opts.insecureCookies || insecureWarned) return;
  insecureWarned = true;
  warn('sessionkit: insecureCookies is on: session cookies are sent without Secure and without the __Host- prefix. Use this only for plain-HTTP development on localhost.');
}
