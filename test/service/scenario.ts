// One walk through every route of shared/API.md and its error cases. It runs in-process (inject)
// and against real service processes on each store, and checks every response against
// /openapi.json through the client.
import { expect } from 'vitest';
import { cookieValue, type serviceClient } from './client.js';
import { MONITORING_ROUTES, monitoringScenario } from '../audit/service-scenario.js';

export interface ScenarioOptions {
  adminKey: string;
  /** A key with only the `sessions` scope (absent when the store cannot be reached from the test, e.g. memory:). */
  sessionsKey?: string;
  /** The attempt limit the service runs with (`--rate-limit <n>/1m`). */
  rateLimit: number;
  /** The session cookie's name (`sessionkit` with insecureCookies). */
  cookieName: string;
  /** The service's own origin as its requests carry it (Host header). */
  origin: string;
  /** A unique user-id prefix, so runs on a shared store never meet. */
  user: string;
}

/** The routes the service has today: the rest of shared/API.md is absent until its capability lands. */
export const DOCUMENTED_ROUTES = [
  'POST /v1/sessions', 'POST /v1/sessions/validate', 'GET /v1/sessions/current', 'POST /v1/sessions/current/renew',
  'DELETE /v1/sessions/current', 'GET /v1/sessions', 'DELETE /v1/sessions', 'DELETE /v1/sessions/{id}',
  'GET /v1/users/{userId}/sessions', 'DELETE /v1/users/{userId}/sessions', 'GET /v1/audit',
  'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json',
  'POST /v1/sessions/refresh', 'GET /.well-known/jwks.json', 'POST /v1/keys/rotate',
  'POST /v1/sessions/current/reauthenticate',
  ...MONITORING_ROUTES,
];
export const ABSENT_ROUTES = [
  'POST /v1/backchannel-logout',
];

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';

type Client = Awaited<ReturnType<typeof serviceClient>>;

function expectError(res: { status: number; body: { error?: string }; header(n: string): string | undefined }, status: number, code: string): void {
  expect({ status: res.status, error: res.body?.error }).toEqual({ status, error: code });
  if (status === 401) expect(res.header('www-authenticate')).toBe('Bearer error="invalid_token"');
}

export async function runScenario(client: Client, o: ScenarioOptions): Promise<void> {
  const { call, doc, checker } = client;
  const admin = { 'x-api-key': o.adminKey };
  const u1 = `${o.user}-1`;
  const u2 = `${o.user}-2`;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  // The document describes exactly the routes that exist; absent capabilities are 404 and undocumented.
  expect(doc.openapi).toBe('3.1.0');
  expect((await call('GET', '/openapi.json')).body).toEqual(doc);
  expect(checker.routes().sort()).toEqual([...DOCUMENTED_ROUTES].sort());
  for (const route of ABSENT_ROUTES) {
    const [method, path] = route.split(' ') as [string, string];
    const res = await call(method, path, { headers: admin });
    expect({ route, status: res.status, error: res.body.error }).toEqual({ route, status: 404, error: 'not_found' });
  }
  expectError(await call('GET', '/v1/nothing-here'), 404, 'not_found');

  // Health, readiness and request ids.
  const health = await call('GET', '/healthz', { headers: { 'x-request-id': 'trace-abc.123' } });
  expect(health.body).toEqual({ status: 'ok' });
  expect(health.header('x-request-id')).toBe('trace-abc.123');
  expect((await call('GET', '/readyz')).body).toEqual({ status: 'ready' });
  expect((await call('GET', '/healthz')).header('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  expect((await call('GET', '/healthz', { headers: { 'x-request-id': 'x'.repeat(200) } })).header('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

  // API keys: missing, wrong, and without the scope.
  expectError(await call('POST', '/v1/sessions', { json: { userId: u1 } }), 401, 'token_missing');
  expectError(await call('POST', '/v1/sessions', { json: { userId: u1 }, headers: { 'x-api-key': `${o.adminKey}-wrong` } }), 401, 'token_invalid');
  expectError(await call('POST', '/v1/sessions', { json: { userId: u1 }, headers: { 'x-api-key': 'ska_AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }), 401, 'token_invalid');
  if (o.sessionsKey) {
    expectError(await call('GET', '/v1/audit', { headers: { 'x-api-key': o.sessionsKey } }), 403, 'insufficient_scope');
    expect((await call('GET', `/v1/users/${u1}/sessions`, { headers: { 'x-api-key': o.sessionsKey } })).status).toBe(200);
  }

  // Create: bad bodies and limits.
  expectError(await call('POST', '/v1/sessions', { headers: admin, json: {} }), 400, 'invalid_request');
  expectError(await call('POST', '/v1/sessions', { headers: admin, json: { userId: 7 } }), 400, 'invalid_request');
  expectError(await call('POST', '/v1/sessions', { headers: admin, json: { userId: u1, colour: 'red' } }), 400, 'invalid_request');
  expectError(await call('POST', '/v1/sessions', { headers: admin, json: { userId: u1, tokenType: 'paper' } }), 400, 'invalid_request');
  expectError(await call('POST', '/v1/sessions', { headers: admin, raw: '{"userId":' }), 400, 'invalid_request');
  expectError(await call('POST', '/v1/sessions', { headers: admin, json: { userId: u1, data: { blob: 'x'.repeat(4200) } } }), 400, 'invalid_request');
  expect((await call('POST', '/v1/sessions', { headers: admin, json: { userId: u1, data: { blob: 'x'.repeat(70_000) } } })).status).toBe(413);

  // Create and validate.
  const a = await call('POST', '/v1/sessions', { headers: admin, json: { userId: u1, roles: ['user'], device: { userAgent: FIREFOX, ip: '198.51.100.7', label: 'laptop' }, data: { theme: 'dark' } } });
  expect(a.status).toBe(201);
  expect(a.header('cache-control')).toBe('no-store');
  expect(a.setCookies).toEqual([]);
  expect(a.body.session).toMatchObject({ userId: u1, roles: ['user'], data: { theme: 'dark' }, device: { userAgent: FIREFOX, ip: '198.51.100.7', label: 'laptop', browser: 'Firefox', os: 'Linux', type: 'desktop' } });
  expect(a.body.session.current).toBeUndefined();
  expect(a.body.expiresAt).toBe(a.body.session.idleExpiresAt);
  let tokenA: string = a.body.token;
  const idA: string = a.body.session.id;

  const validated = await call('POST', '/v1/sessions/validate', { headers: admin, json: { token: tokenA } });
  expect(validated.status).toBe(200);
  expect(validated.body.session.id).toBe(idA);
  expect(validated.body.csrfToken).toBe(a.body.csrfToken);
  expectError(await call('POST', '/v1/sessions/validate', { headers: admin, json: { token: 'garbage' } }), 401, 'token_malformed');
  expectError(await call('POST', '/v1/sessions/validate', { headers: admin, json: { token: `${tokenA}${'x'.repeat(5000)}` } }), 401, 'token_malformed');
  expectError(await call('POST', '/v1/sessions/validate', { headers: admin, json: { token: `sk_${'A'.repeat(43)}.${'B'.repeat(43)}` } }), 401, 'session_not_found');
  expectError(await call('POST', '/v1/sessions/validate', { headers: admin, json: {} }), 400, 'invalid_request');
  expectError(await call('POST', '/v1/sessions/validate', { json: { token: tokenA } }), 401, 'token_missing');

  // Who am I (Bearer).
  const me = await call('GET', '/v1/sessions/current', { headers: bearer(tokenA) });
  expect(me.status).toBe(200);
  expect(me.body.session.id).toBe(idA);
  expectError(await call('GET', '/v1/sessions/current'), 401, 'token_missing');
  expectError(await call('GET', '/v1/sessions/current', { headers: bearer('nope') }), 401, 'token_malformed');
  expectError(await call('GET', '/v1/sessions/current', { headers: { authorization: `Bearer ${'y'.repeat(5000)}` } }), 401, 'token_malformed');
  expectError(await call('GET', '/v1/sessions/current', { headers: { ...bearer(tokenA), cookie: `${o.cookieName}=${tokenA}` } }), 400, 'invalid_request');

  // A browser session: cookies set by the service, CSRF on cookie-authenticated writes.
  const b = await call('POST', '/v1/sessions', { headers: admin, json: { userId: u1, setCookie: true, device: { userAgent: FIREFOX } } });
  expect(b.status).toBe(201);
  const sessionCookie = b.setCookies.find((c) => c.startsWith(`${o.cookieName}=`));
  expect(sessionCookie).toMatch(/; HttpOnly/i);
  expect(sessionCookie).toMatch(/; SameSite=Lax/i);
  expect(sessionCookie).toMatch(/; Path=\//i);
  const csrfSet = b.setCookies.find((c) => c.startsWith('sessionkit-csrf='));
  expect(csrfSet).not.toMatch(/HttpOnly/i);
  expect(cookieValue(b.setCookies, o.cookieName)).toBe(b.body.token);
  expect(cookieValue(b.setCookies, 'sessionkit-csrf')).toBe(b.body.csrfToken);
  let cookieB = `${o.cookieName}=${b.body.token}`;
  const idB: string = b.body.session.id;

  const mine = await call('GET', '/v1/sessions', { headers: { cookie: cookieB } });
  expect(mine.status).toBe(200);
  expect(mine.body.sessions.map((s: { id: string; current: boolean }) => [s.id, s.current]).sort()).toEqual([[idA, false], [idB, true]].sort());

  const same = { origin: o.origin };
  expectError(await call('POST', '/v1/sessions/current/renew', { headers: { cookie: cookieB } }), 403, 'csrf_failed');
  expectError(await call('POST', '/v1/sessions/current/renew', { headers: { cookie: cookieB, ...same } }), 403, 'csrf_failed');
  expectError(await call('POST', '/v1/sessions/current/renew', { headers: { cookie: cookieB, 'x-csrf-token': b.body.csrfToken, origin: 'https://evil.example' } }), 403, 'csrf_failed');
  expectError(await call('POST', '/v1/sessions/current/renew', { headers: { cookie: cookieB, 'x-csrf-token': 'A'.repeat(43), ...same } }), 403, 'csrf_failed');
  const renewedB = await call('POST', '/v1/sessions/current/renew', { headers: { cookie: cookieB, 'x-csrf-token': b.body.csrfToken, ...same } });
  expect(renewedB.status).toBe(200);
  expect(renewedB.body.session.id).toBe(idB);
  // A cookie caller gets the new token in the HttpOnly cookie only, never in the body.
  expect(renewedB.body.token).toBeUndefined();
  const renewedTokenB = cookieValue(renewedB.setCookies, o.cookieName);
  expect(renewedTokenB).toBeTruthy();
  expect(renewedTokenB).not.toBe(b.body.token);
  cookieB = `${o.cookieName}=${renewedTokenB}`;
  const viaFetchSite = await call('POST', '/v1/sessions/current/renew', { headers: { cookie: cookieB, 'x-csrf-token': b.body.csrfToken, 'sec-fetch-site': 'same-origin' } });
  expect(viaFetchSite.status).toBe(200);
  cookieB = `${o.cookieName}=${cookieValue(viaFetchSite.setCookies, o.cookieName)}`;

  // Renew by Bearer: no CSRF needed; the new token works.
  const renewedA = await call('POST', '/v1/sessions/current/renew', { headers: bearer(tokenA) });
  expect(renewedA.status).toBe(200);
  expect(renewedA.setCookies).toEqual([]);
  tokenA = renewedA.body.token;
  expect((await call('GET', '/v1/sessions/current', { headers: bearer(tokenA) })).status).toBe(200);

  // Re-authentication (sudo mode, issue 12): the app re-checked the user; the token rotates, the session is fresh.
  expect(me.body.session).toMatchObject({ authMethods: [], fresh: true });
  expectError(await call('POST', '/v1/sessions/current/reauthenticate', { json: { token: tokenA, methods: ['password'] } }), 401, 'token_missing');
  expectError(await call('POST', '/v1/sessions/current/reauthenticate', { headers: admin, json: { token: tokenA, methods: [] } }), 400, 'invalid_request');
  const reauthA = await call('POST', '/v1/sessions/current/reauthenticate', { headers: admin, json: { token: tokenA, methods: ['password', 'totp'] } });
  expect(reauthA.status).toBe(200);
  expect(reauthA.body.session).toMatchObject({ id: idA, authMethods: ['password', 'totp'] });
  expect(reauthA.body.token).not.toBe(tokenA);
  tokenA = reauthA.body.token;
  expect((await call('GET', '/v1/sessions/current', { headers: bearer(tokenA) })).body.session).toMatchObject({ authMethods: ['password', 'totp'], fresh: true });
  expectError(await call('POST', '/v1/sessions/validate', { headers: admin, json: { token: tokenA, recentAuth: { methods: ['webauthn'] } } }), 403, 'reauthentication_required');

  // Revoke one session: own only, 404 otherwise.
  const other = await call('POST', '/v1/sessions', { headers: admin, json: { userId: u2 } });
  expectError(await call('DELETE', `/v1/sessions/${other.body.session.id}`, { headers: bearer(tokenA) }), 404, 'session_not_found');
  expectError(await call('DELETE', '/v1/sessions/unknown-id', { headers: bearer(tokenA) }), 404, 'session_not_found');
  expectError(await call('DELETE', `/v1/sessions/${idB}`), 401, 'token_missing');
  expectError(await call('DELETE', `/v1/sessions/${idB}`, { headers: { cookie: cookieB, origin: o.origin } }), 403, 'csrf_failed');
  const revokeB = await call('DELETE', `/v1/sessions/${idB}`, { headers: bearer(tokenA) });
  expect(revokeB.status).toBe(204);
  expect(revokeB.text).toBe('');
  expectError(await call('GET', '/v1/sessions/current', { headers: { cookie: cookieB } }), 401, 'session_revoked');
  expectError(await call('DELETE', `/v1/sessions/${idB}`, { headers: bearer(tokenA) }), 404, 'session_not_found');
  expect((await call('GET', '/v1/sessions/current', { headers: bearer(other.body.token) })).status).toBe(200);

  // Log out of other devices.
  const c = await call('POST', '/v1/sessions', { headers: admin, json: { userId: u1 } });
  const d = await call('POST', '/v1/sessions', { headers: admin, json: { userId: u1 } });
  expectError(await call('DELETE', '/v1/sessions', { headers: bearer(tokenA) }), 400, 'invalid_request');
  expectError(await call('DELETE', '/v1/sessions?others=false', { headers: bearer(tokenA) }), 400, 'invalid_request');
  const others = await call('DELETE', '/v1/sessions?others=true', { headers: bearer(tokenA) });
  expect(others.body).toEqual({ revoked: 2 });
  expectError(await call('GET', '/v1/sessions/current', { headers: bearer(c.body.token) }), 401, 'session_revoked');
  expectError(await call('GET', '/v1/sessions/current', { headers: bearer(d.body.token) }), 401, 'session_revoked');

  // A user's sessions, by API key.
  const listed = await call('GET', `/v1/users/${u1}/sessions`, { headers: admin });
  expect(listed.body.sessions.map((s: { id: string }) => s.id)).toEqual([idA]);
  expect(listed.body.sessions[0].current).toBeUndefined();
  expectError(await call('GET', `/v1/users/${u1}/sessions`), 401, 'token_missing');
  const e = await call('POST', '/v1/sessions', { headers: admin, json: { userId: u1 } });
  expect((await call('DELETE', `/v1/users/${u1}/sessions?except=${idA}`, { headers: admin })).body).toEqual({ revoked: 1 });
  expectError(await call('GET', '/v1/sessions/current', { headers: bearer(e.body.token) }), 401, 'session_revoked');
  expect((await call('GET', '/v1/sessions/current', { headers: bearer(tokenA) })).status).toBe(200);

  // Revoke by API key; fixation: a login that replaces a session revokes it.
  const f = await call('POST', '/v1/sessions', { headers: admin, json: { userId: u2 } });
  expect((await call('DELETE', `/v1/sessions/${f.body.session.id}`, { headers: admin })).status).toBe(204);
  expectError(await call('DELETE', `/v1/sessions/${f.body.session.id}`, { headers: admin }), 404, 'session_not_found');
  const g = await call('POST', '/v1/sessions', { headers: admin, json: { userId: u2, replaces: other.body.token } });
  expect(g.status).toBe(201);
  expectError(await call('GET', '/v1/sessions/current', { headers: bearer(other.body.token) }), 401, 'session_revoked');

  // Logout clears the cookies.
  const h = await call('POST', '/v1/sessions', { headers: admin, json: { userId: u2, setCookie: true } });
  const cookieH = `${o.cookieName}=${h.body.token}`;
  expectError(await call('DELETE', '/v1/sessions/current', { headers: { cookie: cookieH } }), 403, 'csrf_failed');
  const logout = await call('DELETE', '/v1/sessions/current', { headers: { cookie: cookieH, origin: o.origin, 'x-csrf-token': h.body.csrfToken } });
  expect(logout.status).toBe(204);
  expect(cookieValue(logout.setCookies, o.cookieName)).toBe('');
  expect(logout.setCookies.join('\n')).toMatch(/Max-Age=0/);
  expectError(await call('GET', '/v1/sessions/current', { headers: { cookie: cookieH } }), 401, 'session_revoked');
  expect((await call('DELETE', '/v1/sessions/current', { headers: bearer(g.body.token) })).status).toBe(204);

  // JWT sessions: access + refresh tokens, rotation with reuse detection (the service runs with refreshGrace 0).
  const j = await call('POST', '/v1/sessions', { headers: admin, json: { userId: u2, tokenType: 'jwt', device: { userAgent: FIREFOX } } });
  expect(j.status).toBe(201);
  expect(j.body.token).toBeUndefined();
  expect(j.body.accessToken.split('.')).toHaveLength(3);
  expect(Date.parse(j.body.accessTokenExpiresAt)).toBeLessThanOrEqual(Date.parse(j.body.expiresAt));
  expect((await call('GET', '/v1/sessions/current', { headers: bearer(j.body.accessToken) })).body.session.id).toBe(j.body.session.id);
  expect((await call('POST', '/v1/sessions/validate', { headers: admin, json: { token: j.body.accessToken } })).body.session.userId).toBe(u2);
  expectError(await call('POST', '/v1/sessions/validate', { headers: admin, json: { token: j.body.refreshToken } }), 401, 'token_invalid');
  expectError(await call('POST', '/v1/sessions/validate', { headers: admin, json: { token: `${j.body.accessToken.slice(0, -4)}AAAA` } }), 401, 'token_invalid');
  const r1 = await call('POST', '/v1/sessions/refresh', { json: { refreshToken: j.body.refreshToken } });
  expect(r1.status).toBe(200);
  expect(r1.body.session.id).toBe(j.body.session.id);
  expect(r1.body.refreshToken).not.toBe(j.body.refreshToken);
  expect((await call('GET', '/v1/sessions/current', { headers: bearer(r1.body.accessToken) })).status).toBe(200);
  expectError(await call('POST', '/v1/sessions/refresh', { json: { refreshToken: j.body.refreshToken } }), 401, 'refresh_reused');
  expectError(await call('POST', '/v1/sessions/refresh', { json: { refreshToken: r1.body.refreshToken } }), 401, 'session_revoked');
  expectError(await call('GET', '/v1/sessions/current', { headers: bearer(r1.body.accessToken) }), 401, 'session_revoked');
  expectError(await call('POST', '/v1/sessions/refresh'), 401, 'token_missing');
  expectError(await call('POST', '/v1/sessions/refresh', { json: {} }), 401, 'token_missing');
  expectError(await call('POST', '/v1/sessions/refresh', { json: { refreshToken: 'garbage' } }), 401, 'token_malformed');
  expectError(await call('POST', '/v1/sessions/refresh', { json: { refreshToken: 7 } }), 400, 'invalid_request');
  const reuse = await call('GET', `/v1/audit?sessionId=${j.body.session.id}&type=session.refresh_reuse_detected`, { headers: admin });
  expect(reuse.body.events).toHaveLength(1);

  // A JWT session in cookies: refresh by cookie needs the CSRF proof.
  const jc = await call('POST', '/v1/sessions', { headers: admin, json: { userId: u2, tokenType: 'jwt', setCookie: true } });
  const refreshName = `${o.cookieName}-refresh`;
  expect(cookieValue(jc.setCookies, o.cookieName)).toBe(jc.body.accessToken);
  expect(cookieValue(jc.setCookies, refreshName)).toBe(jc.body.refreshToken);
  expect(jc.setCookies.find((cookie) => cookie.startsWith(`${refreshName}=`))).toMatch(/HttpOnly.*SameSite=Strict|SameSite=Strict.*HttpOnly/i);
  const refreshCookie = `${refreshName}=${jc.body.refreshToken}`;
  expectError(await call('POST', '/v1/sessions/refresh', { headers: { cookie: refreshCookie } }), 403, 'csrf_failed');
  expectError(await call('POST', '/v1/sessions/refresh', { headers: { cookie: refreshCookie, origin: 'https://evil.example', 'x-csrf-token': jc.body.csrfToken } }), 403, 'csrf_failed');
  const byCookie = await call('POST', '/v1/sessions/refresh', { headers: { cookie: refreshCookie, origin: o.origin, 'x-csrf-token': jc.body.csrfToken } });
  expect(byCookie.status).toBe(200);
  // A cookie caller gets the new tokens in the HttpOnly cookies only, never in the body.
  expect(byCookie.body).not.toHaveProperty('accessToken');
  expect(byCookie.body).not.toHaveProperty('refreshToken');
  const cookieRefreshed = { accessToken: cookieValue(byCookie.setCookies, o.cookieName)!, refreshToken: cookieValue(byCookie.setCookies, refreshName)! };
  expect(cookieRefreshed.refreshToken).not.toBe(jc.body.refreshToken);
  expect((await call('GET', '/v1/sessions/current', { headers: { cookie: `${o.cookieName}=${cookieRefreshed.accessToken}` } })).status).toBe(200);

  // Signing keys: the JWKS, and rotation by an admin; tokens of the old key still verify.
  const jwks = await call('GET', '/.well-known/jwks.json');
  expect(jwks.status).toBe(200);
  expect(jwks.body.keys.length).toBeGreaterThan(0);
  expect(JSON.stringify(jwks.body)).not.toMatch(/"d"\s*:/);
  expectError(await call('POST', '/v1/keys/rotate'), 401, 'token_missing');
  if (o.sessionsKey) expectError(await call('POST', '/v1/keys/rotate', { headers: { 'x-api-key': o.sessionsKey } }), 403, 'insufficient_scope');
  const rotated = await call('POST', '/v1/keys/rotate', { headers: admin });
  expect(rotated.status).toBe(200);
  const after = await call('GET', '/.well-known/jwks.json');
  expect(after.body.keys.map((k: { kid: string }) => k.kid)).toContain(rotated.body.kid);
  expect(after.body.keys.length).toBeGreaterThan(jwks.body.keys.length - 1);
  expect((await call('GET', '/v1/sessions/current', { headers: bearer(cookieRefreshed.accessToken) })).status).toBe(200);
  expect(Number.isNaN(Date.parse(rotated.body.activatesAt))).toBe(false);
  const fresh = await call('POST', '/v1/sessions/refresh', { json: { refreshToken: cookieRefreshed.refreshToken } });
  // The new key signs only from activatesAt (keyPropagation later); whatever signs is published.
  const freshKid = JSON.parse(Buffer.from(fresh.body.accessToken.split('.')[0], 'base64url').toString()).kid;
  expect(after.body.keys.map((k: { kid: string }) => k.kid)).toContain(freshKid);

  // The audit trail: filters, paging by cursor, admin only.
  const page1 = await call('GET', `/v1/audit?userId=${u1}&type=session.created&limit=2`, { headers: admin });
  expect(page1.status).toBe(200);
  expect(page1.body.events).toHaveLength(2);
  expect(page1.body.events.every((ev: { type: string; userId: string }) => ev.type === 'session.created' && ev.userId === u1)).toBe(true);
  expect(typeof page1.body.nextCursor).toBe('string');
  const page2 = await call('GET', `/v1/audit?userId=${u1}&type=session.created&limit=2&cursor=${page1.body.nextCursor}`, { headers: admin });
  expect(page2.body.events[0].seq).toBeLessThan(page1.body.events[1].seq);
  const all = await call('GET', `/v1/audit?userId=${u1}&type=session.created&limit=1000`, { headers: admin });
  expect(all.body.events).toHaveLength(5);
  expect(all.body.nextCursor).toBeNull();
  const since = await call('GET', `/v1/audit?userId=${u1}&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { headers: admin });
  expect(since.body.events).toEqual([]);
  expectError(await call('GET', '/v1/audit?cursor=nonsense', { headers: admin }), 400, 'invalid_request');
  expectError(await call('GET', '/v1/audit?since=yesterday', { headers: admin }), 400, 'invalid_request');
  expectError(await call('GET', '/v1/audit?limit=0', { headers: admin }), 400, 'invalid_request');
  expectError(await call('GET', '/v1/audit?limit=abc', { headers: admin }), 400, 'invalid_request');
  const rejections = await call('GET', '/v1/audit?type=apikey.rejected&limit=5', { headers: admin });
  expect(rejections.body.events.length).toBeGreaterThan(0);
  expect(JSON.stringify(rejections.body)).not.toContain(`${o.adminKey}-wrong`);

  // Metrics: free from loopback, an admin key from elsewhere.
  const metrics = await call('GET', '/metrics', { ip: '127.0.0.1' });
  expect(metrics.status).toBe(200);
  expect(metrics.header('content-type')).toMatch(/^text\/plain/);
  for (const name of ['sessionkit_validations_total{result="ok"}', 'sessionkit_sessions_created_total', 'sessionkit_sessions_revoked_total',
    'sessionkit_active_sessions', 'sessionkit_http_request_duration_seconds_bucket', 'sessionkit_store_operation_duration_seconds_bucket',
    'sessionkit_sessions_refreshed_total', 'sessionkit_refresh_reuse_detected_total']) {
    expect(metrics.text).toContain(name);
  }
  expectError(await call('GET', '/metrics', { ip: '203.0.113.50' }), 401, 'token_missing');
  if (o.sessionsKey) expectError(await call('GET', '/metrics', { ip: '203.0.113.50', headers: { 'x-api-key': o.sessionsKey } }), 403, 'insufficient_scope');
  expect((await call('GET', '/metrics', { ip: '203.0.113.50', headers: admin })).status).toBe(200);

  // Failed attempts per IP: the limit, then 429 with Retry-After for everything that IP presents.
  const attacker = '203.0.113.9';
  for (let i = 0; i < o.rateLimit; i += 1) {
    const res = i % 2 === 0
      ? await call('GET', '/v1/sessions/current', { ip: attacker, headers: bearer(`sk_${'A'.repeat(43)}.${'C'.repeat(43)}`) })
      : await call('GET', `/v1/users/${u1}/sessions`, { ip: attacker, headers: { 'x-api-key': 'ska_guess' } });
    expect(res.status).toBe(401);
  }
  const limited = await call('GET', '/v1/sessions/current', { ip: attacker, headers: bearer('nope') });
  expectError(limited, 429, 'rate_limited');
  expect(Number(limited.header('retry-after'))).toBeGreaterThan(0);
  expectError(await call('GET', '/v1/sessions/current', { ip: attacker, headers: bearer(tokenA) }), 429, 'rate_limited');
  expectError(await call('GET', `/v1/users/${u1}/sessions`, { ip: attacker, headers: admin }), 429, 'rate_limited');
  expect((await call('GET', '/v1/sessions/current', { ip: '203.0.113.10', headers: bearer(tokenA) })).status).toBe(200);
  const limitedEvents = await call('GET', '/v1/audit?type=session.rejected&limit=50', { headers: admin });
  expect(limitedEvents.body.events.some((ev: { reason: string; ip: string }) => ev.reason === 'rate_limited' && ev.ip === attacker)).toBe(true);

  // The audit trail's live stream, stats and the dashboard (test/audit/service-scenario.ts).
  await monitoringScenario(client, o);

  // Every documented route was exercised.
  expect([...checker.seen].sort()).toEqual([...DOCUMENTED_ROUTES].sort());
}
