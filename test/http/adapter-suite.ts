// One behavioural suite for every framework adapter: each test file builds the same small app
// with its framework (routes listed below) and hands this suite a client that calls it in process.
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionManager, type SessionManager } from '../../src/core/manager.js';
import { memoryAudit } from '../../src/audit/sink.js';
import { memoryStore } from '../../src/stores/memory.js';
import { fakeClock } from '../../src/testing/index.js';
import type { HttpOptions } from '../../src/http/core.js';

export interface Reply {
  status: number;
  header(name: string): string | undefined;
  /** Every Set-Cookie value of the response. */
  cookies: string[];
  body: Record<string, unknown>;
}

export interface Client {
  /** `body` is sent as JSON; `raw` as it is, with its own content type (forms). */
  call(method: string, path: string, init?: { headers?: Record<string, string>; body?: unknown; raw?: { type: string; data: string } }): Promise<Reply>;
}

/**
 * Builds the adapter's test app with these routes:
 * GET /public (no session needed) -> { userId | null }; GET /me (requireSession) -> { userId, roles, ip };
 * GET /admin (requireRole admin) -> { ok }; POST /login { userId, roles } -> { sessionId, csrfToken };
 * POST /logout -> { revoked }; POST /logout-others (requireSession) -> { revoked };
 * POST /renew (requireSession) -> { sessionId, token } (what renew() returned); POST /write (requireSession) -> { ok };
 * GET /limited -> sendError(rate_limited with retryAfter 30); POST /form-echo (requireSession, a
 * urlencoded or multipart body) -> { received: the whole body as the app's own parser read it }.
 */
export type SuiteOptions = HttpOptions & { warn?: (m: string) => void; csrf?: boolean | 'origin-only' };
export type MakeApp = (sessions: SessionManager, http: SuiteOptions) => Promise<{ client: Client; close: () => Promise<void> }>;

const HOST = 'app.example.org';
const ORIGIN = `https://${HOST}`;

export function cookieValue(setCookies: string[], name: string): string | undefined {
  for (const c of setCookies) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    if (pair!.slice(0, eq) === name) return decodeURIComponent(pair!.slice(eq + 1));
  }
  return undefined;
}

function attributes(setCookie: string): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const part of setCookie.split(';').slice(1)) {
    const [k, ...v] = part.trim().split('=');
    out[k!.toLowerCase()] = v.length ? v.join('=') : true;
  }
  return out;
}

export function adapterSuite(label: string, makeApp: MakeApp): void {
  describe(`${label} adapter`, () => {
    let close: (() => Promise<void>) | null = null;
    afterEach(async () => {
      await close?.();
      close = null;
    });

    async function setup(http: SuiteOptions = {}) {
      const clock = fakeClock(Date.UTC(2026, 0, 1));
      const audit = memoryAudit();
      const store = memoryStore();
      const sessions = createSessionManager({ store, now: clock.now, audit, secret: 'x'.repeat(32) });
      const app = await makeApp(sessions, http);
      close = app.close;
      const client = app.client;
      const name = http.insecureCookies ? 'sessionkit' : '__Host-sessionkit';
      async function login(userId = 'alice', roles: string[] = ['user'], headers: Record<string, string> = {}) {
        const res = await client.call('POST', '/login', { headers: { origin: ORIGIN, host: HOST, ...headers }, body: { userId, roles } });
        expect(res.status).toBe(200);
        const token = cookieValue(res.cookies, name)!;
        const csrf = cookieValue(res.cookies, 'sessionkit-csrf')!;
        return { res, token, csrf, cookie: `${name}=${token}; sessionkit-csrf=${csrf}` };
      }
      return { clock, audit, store, sessions, client, login, name };
    }

    it('answers a protected route without a token with 401 token_missing, WWW-Authenticate and a JSON body', async () => {
      const { client } = await setup();
      const res = await client.call('GET', '/me', { headers: { host: HOST } });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'token_missing', message: expect.any(String) });
      expect(res.header('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(res.header('cache-control')).toBe('no-store');
      expect(res.header('content-type')).toMatch(/application\/json/);
    });

    it('logs in with a __Host- cookie: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, Max-Age capped at the absolute lifetime', async () => {
      const { login, sessions } = await setup();
      const { res, csrf } = await login();
      expect(res.header('cache-control')).toBe('no-store');
      const sessionCookie = res.cookies.find((c) => c.startsWith('__Host-sessionkit='))!;
      const attrs = attributes(sessionCookie);
      expect(attrs).toMatchObject({ secure: true, httponly: true, samesite: 'Lax', path: '/' });
      expect(attrs.domain).toBeUndefined();
      expect(Number(attrs['max-age'])).toBe(sessions.options.absoluteTimeout / 1000);
      const csrfCookie = res.cookies.find((c) => c.startsWith('sessionkit-csrf='))!;
      expect(attributes(csrfCookie)).toMatchObject({ secure: true, samesite: 'Lax', path: '/' });
      expect(attributes(csrfCookie).httponly).toBeUndefined();
      expect(res.body.csrfToken).toBe(csrf);
    });

    it('accepts the session from the cookie or from Authorization: Bearer, and marks the response no-store', async () => {
      const { client, login } = await setup();
      const { token, cookie } = await login();
      const viaCookie = await client.call('GET', '/me', { headers: { cookie, host: HOST } });
      expect(viaCookie.status).toBe(200);
      expect(viaCookie.body.userId).toBe('alice');
      expect(viaCookie.header('cache-control')).toBe('no-store');
      const viaBearer = await client.call('GET', '/me', { headers: { authorization: `Bearer ${token}`, host: HOST } });
      expect(viaBearer.status).toBe(200);
      const pub = await client.call('GET', '/public', { headers: { cookie, host: HOST } });
      expect(pub.body.userId).toBe('alice');
    });

    it('refuses a cookie and a Bearer token together with 400 invalid_request', async () => {
      const { client, login } = await setup();
      const { token, cookie } = await login();
      const res = await client.call('GET', '/public', { headers: { cookie, authorization: `Bearer ${token}`, host: HOST } });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });

    it('never reads a token from the URL query', async () => {
      const { client, login } = await setup();
      const { token } = await login();
      const res = await client.call('GET', `/me?token=${encodeURIComponent(token)}&access_token=${encodeURIComponent(token)}`, { headers: { host: HOST } });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('token_missing');
    });

    it('answers a malformed, a revoked and an expired session with 401 and the matching code, and expires the dead cookie', async () => {
      const { client, login, sessions, clock } = await setup();
      const garbage = await client.call('GET', '/me', { headers: { cookie: '__Host-sessionkit=not-a-token', host: HOST } });
      expect(garbage.status).toBe(401);
      expect(garbage.body.error).toBe('token_malformed');
      expect(garbage.cookies.some((c) => c.startsWith('__Host-sessionkit=;') && /Max-Age=0/.test(c))).toBe(true);

      const first = await login();
      await sessions.revoke((first.res.body.sessionId as string), { reason: 'admin' });
      const revoked = await client.call('GET', '/me', { headers: { cookie: first.cookie, host: HOST } });
      expect(revoked.status).toBe(401);
      expect(revoked.body.error).toBe('session_revoked');
      expect(revoked.header('www-authenticate')).toBe('Bearer error="invalid_token"');

      const second = await login('bob');
      clock.advance(sessions.options.idleTimeout + 1);
      const expired = await client.call('GET', '/me', { headers: { cookie: second.cookie, host: HOST } });
      expect(expired.status).toBe(401);
      expect(expired.body.error).toBe('session_expired');
    });

    it('answers 503 store_unavailable (fail closed) without revealing the cause when the store is down', async () => {
      const { client, login, store } = await setup();
      const { cookie } = await login();
      await store.close();
      const res = await client.call('GET', '/me', { headers: { cookie, host: HOST } });
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('store_unavailable');
      expect(String(res.body.message)).not.toMatch(/closed/);
      const pub = await client.call('GET', '/public', { headers: { cookie, host: HOST } });
      expect(pub.body.userId).toBeNull();
    });

    it('answers a rate limit with 429 and Retry-After', async () => {
      const { client } = await setup();
      const res = await client.call('GET', '/limited', { headers: { host: HOST } });
      expect(res.status).toBe(429);
      expect(res.body.error).toBe('rate_limited');
      expect(res.header('retry-after')).toBe('30');
    });

    it('answers a session without the required role with 403 forbidden', async () => {
      const { client, login } = await setup();
      const user = await login('alice', ['user']);
      expect((await client.call('GET', '/admin', { headers: { cookie: user.cookie, host: HOST } })).status).toBe(403);
      const admin = await login('root', ['admin']);
      expect((await client.call('GET', '/admin', { headers: { cookie: admin.cookie, host: HOST } })).status).toBe(200);
      expect((await client.call('GET', '/admin', { headers: { host: HOST } })).status).toBe(401);
    });

    it('lets a cookie-authenticated write through with an allowed Origin and the X-CSRF-Token', async () => {
      const { client, login } = await setup();
      const { cookie, csrf } = await login();
      const ok = await client.call('POST', '/write', { headers: { cookie, host: HOST, origin: ORIGIN, 'x-csrf-token': csrf } });
      expect(ok.status).toBe(200);
      const fetchMeta = await client.call('POST', '/write', { headers: { cookie, host: HOST, 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrf } });
      expect(fetchMeta.status).toBe(200);
    });

    it('refuses cookie-authenticated writes that fail CSRF with 403 csrf_failed and audits them', async () => {
      const { client, login, audit } = await setup();
      const { cookie, csrf } = await login();
      const refused: Array<[string, Record<string, string>]> = [
        ['neither Origin nor Sec-Fetch-Site', { 'x-csrf-token': csrf }],
        ['Origin: null', { origin: 'null', 'x-csrf-token': csrf }],
        ['a look-alike origin', { origin: 'https://app.example.org.evil.com', 'x-csrf-token': csrf }],
        ['http instead of https', { origin: 'http://app.example.org', 'x-csrf-token': csrf }],
        ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site', 'x-csrf-token': csrf }],
        ['no X-CSRF-Token', { origin: ORIGIN }],
        ['a wrong X-CSRF-Token', { origin: ORIGIN, 'x-csrf-token': 'A'.repeat(43) }],
      ];
      for (const [what, headers] of refused) {
        const res = await client.call('POST', '/write', { headers: { cookie, host: HOST, ...headers } });
        expect(res.status, what).toBe(403);
        expect(res.body.error, what).toBe('csrf_failed');
      }
      const rejections = audit.events.filter((e) => e.type === 'session.rejected' && e.reason === 'csrf');
      expect(rejections).toHaveLength(refused.length);
      expect(rejections[0]!.userId).toBe('alice');
      expect(JSON.stringify(rejections)).not.toContain(csrf);
    });

    it('accepts the CSRF token from the _csrf field of a urlencoded form, and the app still reads the whole body', async () => {
      const { client, login } = await setup();
      const { cookie, csrf } = await login();
      for (const data of [`note=hello+world&_csrf=${encodeURIComponent(csrf)}&more=1`, `${'pad='.padEnd(20_000, 'x')}&_csrf=${csrf}`]) {
        const res = await client.call('POST', '/form-echo', { headers: { cookie, host: HOST, origin: ORIGIN }, raw: { type: 'application/x-www-form-urlencoded', data } });
        expect(res.status).toBe(200);
        expect(res.body.received).toBe(data);
      }
    });

    it('accepts the _csrf field of a multipart form, and the app still reads the whole body', async () => {
      const { client, login } = await setup();
      const { cookie, csrf } = await login();
      const boundary = '----sessionkitSuiteBoundary7MA4YWxk';
      const data = [
        `--${boundary}`, 'Content-Disposition: form-data; name="note"', '', 'hello',
        `--${boundary}`, 'Content-Disposition: form-data; name="_csrf"', '', csrf,
        `--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="a.txt"', 'Content-Type: text/plain', '', 'x'.repeat(5000),
        `--${boundary}--`, '',
      ].join('\r\n');
      const res = await client.call('POST', '/form-echo', { headers: { cookie, host: HOST, origin: ORIGIN }, raw: { type: `multipart/form-data; boundary=${boundary}`, data } });
      expect(res.status).toBe(200);
      expect(res.body.received).toBe(data);
    });

    it('refuses a form without _csrf, with a wrong one, or with it past the first 64 KiB, naming the header and the field', async () => {
      const { client, login } = await setup();
      const { cookie, csrf } = await login();
      const forms: Array<[string, string]> = [
        ['no _csrf', 'note=hello'],
        ['a wrong _csrf', `note=hello&_csrf=${'A'.repeat(43)}`],
        ['an empty _csrf', 'note=hello&_csrf='],
      ];
      const boundary = 'suiteBoundary';
      const late = [
        `--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="big.bin"', '', 'x'.repeat(70_000),
        `--${boundary}`, 'Content-Disposition: form-data; name="_csrf"', '', csrf, `--${boundary}--`, '',
      ].join('\r\n');
      const requests = [
        ...forms.map(([what, data]) => [what, { type: 'application/x-www-form-urlencoded', data }] as const),
        // Multipart bodies are read from the stream by every adapter here: only the first 64 KiB are searched.
        ['_csrf past the first 64 KiB of a multipart body', { type: `multipart/form-data; boundary=${boundary}`, data: late }] as const,
      ];
      for (const [what, raw] of requests) {
        const res = await client.call('POST', '/form-echo', { headers: { cookie, host: HOST, origin: ORIGIN }, raw });
        expect(res.status, what).toBe(403);
        expect(res.body.error, what).toBe('csrf_failed');
        expect(String(res.body.message), what).toMatch(/X-CSRF-Token.*_csrf/);
      }
      // A JSON body's "_csrf" is not a form field: JSON clients send the header.
      const json = await client.call('POST', '/write', { headers: { cookie, host: HOST, origin: ORIGIN }, body: { _csrf: csrf } });
      expect(json.status).toBe(403);
    });

    it('exempts Bearer-authenticated writes from CSRF', async () => {
      const { client, login } = await setup();
      const { token } = await login();
      const res = await client.call('POST', '/write', { headers: { authorization: `Bearer ${token}`, host: HOST } });
      expect(res.status).toBe(200);
    });

    it('never adopts a session cookie an attacker planted before login (no fixation)', async () => {
      const { client, login, sessions } = await setup();
      // A made-up token, and the attacker's own live session, planted in the victim's browser.
      const madeUp = `sk_${'a'.repeat(43)}.${'b'.repeat(43)}`;
      const attacker = await login('mallory');
      // With a live planted session the login POST is cookie-authenticated, so the page sends the
      // CSRF cookie's value as it does for every write (the attacker planted that cookie too).
      const plants: Array<[string, Record<string, string>]> = [
        [madeUp, { cookie: `__Host-sessionkit=${madeUp}` }],
        [attacker.token, { cookie: attacker.cookie, 'x-csrf-token': attacker.csrf }],
      ];
      for (const [planted, headers] of plants) {
        const victim = await login('victim', ['user'], headers);
        expect(victim.token).not.toBe(planted);
        expect(victim.res.body.sessionId).not.toBe(planted.slice(3, 46));
        const me = await client.call('GET', '/me', { headers: { cookie: `__Host-sessionkit=${planted}`, host: HOST } });
        expect(me.status).toBe(401);
      }
      expect((await sessions.listForUser('mallory'))).toHaveLength(0);
      expect((await sessions.listForUser('victim'))).toHaveLength(2);
    });

    it('refuses a login from another site with 403 csrf_failed naming the expected origin, sets no cookie and creates no session (login CSRF)', async () => {
      const { client, sessions, audit } = await setup();
      const crossSite: Array<[string, Record<string, string>]> = [
        ['another origin', { origin: 'https://evil.example' }],
        ['Origin: null', { origin: 'null' }],
        ['a look-alike origin', { origin: 'https://app.example.org.evil.com' }],
        ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
        ['neither Origin nor Sec-Fetch-Site', {}],
        // A dead session cookie gives no session, so the request is checked as a first login.
        ['a dead cookie and another origin', { origin: 'https://evil.example', cookie: `__Host-sessionkit=sk_${'a'.repeat(43)}.${'b'.repeat(43)}` }],
      ];
      for (const [what, headers] of crossSite) {
        const res = await client.call('POST', '/login', { headers: { host: HOST, ...headers }, body: { userId: 'mallory', roles: ['user'] } });
        expect(res.status, what).toBe(403);
        expect(res.body.error, what).toBe('csrf_failed');
        expect(String(res.body.message), what).toContain(`expected Origin ${ORIGIN}`);
        expect(res.cookies.filter((c) => !/Max-Age=0/.test(c)), what).toEqual([]);
      }
      expect(await sessions.listForUser('mallory')).toHaveLength(0);
      const refusals = audit.events.filter((e) => e.type === 'session.rejected' && e.reason === 'csrf' && e.detail === 'login');
      expect(refusals).toHaveLength(crossSite.length);
      expect(refusals[0]).toMatchObject({ userId: 'mallory', sessionId: null });
    });

    it('lets a login through from its own origin (Origin or Sec-Fetch-Site), with a Bearer token, or with csrf: false', async () => {
      const { client, sessions } = await setup();
      const bySite = await client.call('POST', '/login', { headers: { host: HOST, 'sec-fetch-site': 'same-origin' }, body: { userId: 'alice', roles: ['user'] } });
      expect(bySite.status).toBe(200);
      const { token } = await sessions.create({ userId: 'alice' });
      const byBearer = await client.call('POST', '/login', { headers: { host: HOST, authorization: `Bearer ${token}` }, body: { userId: 'alice', roles: ['user'] } });
      expect(byBearer.status).toBe(200);
      await close?.();
      const open = await setup({ csrf: false });
      expect((await open.client.call('POST', '/login', { headers: { host: HOST }, body: { userId: 'alice', roles: ['user'] } })).status).toBe(200);
    });

    it('logs out: revokes the session and expires both cookies, without Clear-Site-Data by default', async () => {
      const { client, login, audit } = await setup();
      const { cookie, csrf } = await login();
      const res = await client.call('POST', '/logout', { headers: { cookie, host: HOST, origin: ORIGIN, 'x-csrf-token': csrf, 'user-agent': 'suite-agent/1.0' } });
      expect(res.status).toBe(200);
      expect(res.body.revoked).toBe(true);
      const revokedEvent = audit.events.find((e) => e.type === 'session.revoked' && e.reason === 'logout');
      expect(revokedEvent).toMatchObject({ userId: 'alice', userAgent: 'suite-agent/1.0' });
      // Clear-Site-Data would wipe every cookie of the registrable domain, other applications' too.
      expect(res.header('clear-site-data')).toBeUndefined();
      expect(res.header('cache-control')).toBe('no-store');
      for (const name of ['__Host-sessionkit', 'sessionkit-csrf']) {
        const c = res.cookies.find((v) => v.startsWith(`${name}=`))!;
        expect(attributes(c)['max-age']).toBe('0');
        expect(cookieValue([c], name)).toBe('');
      }
      expect((await client.call('GET', '/me', { headers: { cookie, host: HOST } })).body.error).toBe('session_revoked');
    });

    it('sends Clear-Site-Data: "cookies" on logout only when the clearSiteData option is on', async () => {
      const { client, login } = await setup({ clearSiteData: true });
      const { cookie, csrf } = await login();
      const res = await client.call('POST', '/logout', { headers: { cookie, host: HOST, origin: ORIGIN, 'x-csrf-token': csrf } });
      expect(res.status).toBe(200);
      expect(res.header('clear-site-data')).toBe('"cookies"');
      expect(res.cookies.some((c) => c.startsWith('__Host-sessionkit=;'))).toBe(true);
    });

    it('logs out other devices and keeps the current one', async () => {
      const { client, login } = await setup();
      const laptop = await login('alice');
      const phone = await login('alice');
      const res = await client.call('POST', '/logout-others', { headers: { cookie: laptop.cookie, host: HOST, origin: ORIGIN, 'x-csrf-token': laptop.csrf } });
      expect(res.body.revoked).toBe(1);
      expect((await client.call('GET', '/me', { headers: { cookie: phone.cookie, host: HOST } })).status).toBe(401);
      expect((await client.call('GET', '/me', { headers: { cookie: laptop.cookie, host: HOST } })).status).toBe(200);
    });

    it('renews: a new cookie for the same session', async () => {
      const { client, login } = await setup();
      const { cookie, csrf, token, res: loginRes } = await login();
      const res = await client.call('POST', '/renew', { headers: { cookie, host: HOST, origin: ORIGIN, 'x-csrf-token': csrf } });
      expect(res.status).toBe(200);
      expect(res.body.sessionId).toBe(loginRes.body.sessionId);
      const renewed = cookieValue(res.cookies, '__Host-sessionkit')!;
      expect(renewed).toBeTruthy();
      expect(renewed).not.toBe(token);
      expect((await client.call('GET', '/me', { headers: { cookie: `__Host-sessionkit=${renewed}`, host: HOST } })).status).toBe(200);
    });

    it('renews a cookie session without handing the new token to the app (cookie only), and a Bearer one with it', async () => {
      const { client, login } = await setup();
      const { cookie, csrf } = await login();
      const byCookie = await client.call('POST', '/renew', { headers: { cookie, host: HOST, origin: ORIGIN, 'x-csrf-token': csrf } });
      expect(byCookie.status).toBe(200);
      expect(byCookie.body.token).toBeNull();
      const renewed = cookieValue(byCookie.cookies, '__Host-sessionkit')!;
      const byBearer = await client.call('POST', '/renew', { headers: { authorization: `Bearer ${renewed}`, host: HOST } });
      expect(byBearer.status).toBe(200);
      expect(byBearer.cookies).toEqual([]);
      expect(byBearer.body.token).toMatch(/^sk_/);
      expect((await client.call('GET', '/me', { headers: { authorization: `Bearer ${byBearer.body.token as string}`, host: HOST } })).status).toBe(200);
    });

    it('with insecureCookies: the cookie is named sessionkit, has no Secure flag, and a warning is logged once', async () => {
      const warnings: string[] = [];
      const { login } = await setup({ insecureCookies: true, warn: (m) => warnings.push(m) });
      const { res } = await login();
      const c = res.cookies.find((v) => v.startsWith('sessionkit='))!;
      expect(attributes(c).secure).toBeUndefined();
      expect(attributes(c).httponly).toBe(true);
      expect(warnings.length).toBeLessThanOrEqual(1);
    });

    it('takes the client IP from X-Forwarded-For only with trustProxy', async () => {
      const plain = await setup();
      const a = await plain.login('alice', ['user'], { 'x-forwarded-for': '203.0.113.9' });
      const meA = await plain.client.call('GET', '/me', { headers: { cookie: a.cookie, host: HOST } });
      expect(meA.body.ip).not.toBe('203.0.113.9');
      await close?.();
      const proxied = await setup({ trustProxy: true });
      const b = await proxied.login('alice', ['user'], { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' });
      const meB = await proxied.client.call('GET', '/me', { headers: { cookie: b.cookie, host: HOST } });
      expect(meB.body.ip).toBe('203.0.113.9');
    });
  });
}
