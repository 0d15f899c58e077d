import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import {
  checkOrigin, clearSessionCookies, clientIp, csrfCookie, errorResponse, extractToken, isUnsafeMethod, sessionCookie,
  sessionCookieName, warnIfInsecure,
} from '../../src/http/core.js';

const TOKEN = `sk_${'a'.repeat(43)}.${'b'.repeat(43)}`;

describe('http core', () => {
  it('logs the insecure-cookies warning once per process, and never for secure cookies', () => {
    const warnings: string[] = [];
    warnIfInsecure({}, (m) => warnings.push(m));
    expect(warnings).toHaveLength(0);
    warnIfInsecure({ insecureCookies: true }, (m) => warnings.push(m));
    warnIfInsecure({ insecureCookies: true }, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/insecureCookies/);
  });

  it('names the cookie __Host-sessionkit, or sessionkit with insecureCookies', () => {
    expect(sessionCookieName({})).toBe('__Host-sessionkit');
    expect(sessionCookieName({ insecureCookies: true })).toBe('sessionkit');
    expect(() => sessionCookieName({ insecureCookies: true, cookieName: '__Host-x' })).toThrow(SessionError);
  });

  it('extracts the token from the cookie or the Bearer header, never both, and ignores other schemes', () => {
    expect(extractToken({ cookie: `a=1; __Host-sessionkit=${TOKEN}` }, {})).toEqual({ token: TOKEN, source: 'cookie' });
    expect(extractToken({ authorization: `Bearer ${TOKEN}` }, {})).toEqual({ token: TOKEN, source: 'bearer' });
    expect(extractToken({ authorization: `bearer   ${TOKEN}` }, {})).toEqual({ token: TOKEN, source: 'bearer' });
    expect(extractToken({ authorization: 'Basic dTpw' }, {})).toEqual({ token: null, source: null });
    expect(extractToken({ cookie: 'sessionkit=x' }, {})).toEqual({ token: null, source: null });
    expect(extractToken({ cookie: '__Host-sessionkit=' }, {})).toEqual({ token: null, source: null });
    expect(() => extractToken({ cookie: `__Host-sessionkit=${TOKEN}`, authorization: `Bearer ${TOKEN}` }, {}))
      .toThrow(expect.objectContaining({ code: 'invalid_request' }));
    // An empty Bearer presents no token (issue 18): missing, not malformed; a cookie beside it is used.
    expect(() => extractToken({ authorization: 'Bearer ' }, {})).toThrow(expect.objectContaining({ code: 'token_missing' }));
    expect(() => extractToken({ authorization: 'Bearer' }, {})).toThrow(expect.objectContaining({ code: 'token_missing' }));
    expect(extractToken({ cookie: `__Host-sessionkit=${TOKEN}`, authorization: 'Bearer  ' }, {})).toEqual({ token: TOKEN, source: 'cookie' });
  });

  it('caps the cookie Max-Age at the absolute lifetime and expires both cookies on clear', () => {
    expect(sessionCookie(TOKEN, 10 * 3600_000, { absoluteTimeout: 3600_000 })).toContain('Max-Age=3600');
    expect(sessionCookie(TOKEN, -5, {})).toContain('Max-Age=0');
    expect(csrfCookie('c', 60_000, { insecureCookies: true })).toBe('sessionkit-csrf=c; Max-Age=60; Path=/; SameSite=Lax');
    const cleared = clearSessionCookies({});
    expect(cleared).toHaveLength(2);
    for (const c of cleared) expect(c).toMatch(/Max-Age=0.*Expires=Thu, 01 Jan 1970/);
  });

  it('treats every method but GET, HEAD, OPTIONS and TRACE as unsafe', () => {
    expect(['GET', 'head', 'OPTIONS', 'TRACE'].map(isUnsafeMethod)).toEqual([false, false, false, false]);
    expect(['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND'].map(isUnsafeMethod)).toEqual([true, true, true, true, true]);
  });

  it('checks Origin exactly and falls back to Sec-Fetch-Site: same-origin', () => {
    const allowed = ['https://app.example.org'];
    expect(checkOrigin({ origin: 'https://app.example.org' }, allowed)).toBe(true);
    expect(checkOrigin({ origin: 'https://app.example.org.evil.com' }, allowed)).toBe(false);
    expect(checkOrigin({ origin: 'https://evil.app.example.org' }, allowed)).toBe(false);
    expect(checkOrigin({ origin: 'null' }, allowed)).toBe(false);
    expect(checkOrigin({ origin: 'https://app.example.org', 'sec-fetch-site': 'cross-site' }, allowed)).toBe(true);
    expect(checkOrigin({ origin: 'https://evil.com', 'sec-fetch-site': 'same-origin' }, allowed)).toBe(false);
    expect(checkOrigin({ 'sec-fetch-site': 'same-origin' }, allowed)).toBe(true);
    expect(checkOrigin({ 'sec-fetch-site': 'same-site' }, allowed)).toBe(false);
    expect(checkOrigin({ 'sec-fetch-site': 'cross-site' }, allowed)).toBe(false);
    expect(checkOrigin({}, allowed)).toBe(false);
    expect(checkOrigin({ origin: ['https://app.example.org', 'https://app.example.org'] }, allowed)).toBe(false);
  });

  it('takes the client IP from the socket, or from X-Forwarded-For counted from the right when a proxy is trusted', () => {
    const headers = { 'x-forwarded-for': '10.9.9.9, 198.51.100.1, 203.0.113.9' };
    expect(clientIp('::ffff:127.0.0.1', headers, false)).toBe('127.0.0.1');
    expect(clientIp('127.0.0.1', headers, true)).toBe('203.0.113.9');
    expect(clientIp('127.0.0.1', headers, 2)).toBe('198.51.100.1');
    expect(clientIp('127.0.0.1', { 'x-forwarded-for': 'not-an-ip' }, true)).toBe('127.0.0.1');
    expect(clientIp('::1', { 'x-forwarded-for': '[2001:db8::1]:443' }, true)).toBe('2001:db8::1');
    expect(clientIp(undefined, {}, false)).toBeNull();
  });

  it('maps errors to responses: 401 with WWW-Authenticate, 503 without details, anything else 500 without leaking', () => {
    const r401 = errorResponse(new SessionError('session_expired', 'expired'));
    expect(r401.status).toBe(401);
    expect(r401.headers['WWW-Authenticate']).toBe('Bearer error="invalid_token"');
    expect(r401.body).toEqual({ error: 'session_expired', message: 'expired' });
    expect(errorResponse(new SessionError('csrf_failed', 'no')).status).toBe(403);
    const r503 = errorResponse(new SessionError('store_unavailable', 'connect ECONNREFUSED 10.0.0.5:6379'));
    expect(r503.status).toBe(503);
    expect(r503.body.message).not.toContain('10.0.0.5');
    const r500 = errorResponse(new Error(`db password hunter2 and ${TOKEN}`));
    expect(r500).toMatchObject({ status: 500, body: { error: 'internal_error', message: 'internal error' } });
    expect(r500.headers['Cache-Control']).toBe('no-store');
  });
});

describe('readCookie', () => {
  it('finds one cookie by exact name at a cookie boundary, first one winning, decoding % escapes', async () => {
    const { readCookie } = await import('../../src/http/core.js');
    expect(readCookie({ cookie: 'x-sessionkit-csrf=no; sessionkit-csrf=yes' }, 'sessionkit-csrf')).toBe('yes');
    expect(readCookie({ cookie: 'sessionkit-csrf=first;sessionkit-csrf=second' }, 'sessionkit-csrf')).toBe('first');
    expect(readCookie({ cookie: 'a=1;  b="quoted" ; c=%41%42' }, 'b')).toBe('quoted');
    expect(readCookie({ cookie: 'a=1; c=%41%42' }, 'c')).toBe('AB');
    expect(readCookie({ cookie: 'a=1; c=%E0%A4%A' }, 'c')).toBe('%E0%A4%A');
    expect(readCookie({ cookie: 'a=1' }, 'b')).toBeUndefined();
    expect(readCookie({}, 'b')).toBeUndefined();
  });
});
