// The monitoring routes' part of the service walk-through (test/service/scenario.ts runs it
// in-process and against the real process on every store): the dashboard sign-in and its CSRF,
// stats, the events route's refusals, the user search with effective timeouts, and the revokes.
import { expect } from 'vitest';
import { cookieValue, type serviceClient } from '../service/client.js';

type Client = Awaited<ReturnType<typeof serviceClient>>;

/** The routes this part adds to the contract. */
export const MONITORING_ROUTES = [
  'GET /dashboard', 'GET /dashboard/assets/{file}', 'POST /dashboard/login', 'POST /dashboard/logout',
  'GET /dashboard/api/users/{userId}/sessions', 'DELETE /dashboard/api/sessions/{id}', 'DELETE /dashboard/api/users/{userId}/sessions',
  'GET /v1/stats', 'GET /v1/events',
];

export async function monitoringScenario(client: Client, o: { adminKey: string; sessionsKey?: string; origin: string; user: string }): Promise<void> {
  const { call } = client;
  const admin = { 'x-api-key': o.adminKey };
  const user = `${o.user}-dash`;

  // Without a dashboard cookie the page is the sign-in form; its assets are served here (no CDN).
  const login = await call('GET', '/dashboard');
  expect(login.status).toBe(200);
  expect(login.header('content-type')).toMatch(/^text\/html/);
  expect(login.text).toContain('id="login-form"');
  expect(login.header('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
  expect(login.text).not.toMatch(/<script>|https?:\/\/(?!www\.w3\.org)/);
  const js = await call('GET', '/dashboard/assets/app.js');
  expect(js.status).toBe(200);
  expect(js.header('content-type')).toMatch(/^text\/javascript/);
  expect((await call('GET', '/dashboard/assets/nope.js')).status).toBe(400);

  // Sign-in: an admin key, from our own origin only.
  expect((await call('POST', '/dashboard/login', { headers: { origin: o.origin, 'x-api-key': 'ska_wrong' } })).status).toBe(401);
  if (o.sessionsKey) expect((await call('POST', '/dashboard/login', { headers: { origin: o.origin, 'x-api-key': o.sessionsKey } })).status).toBe(403);
  expect((await call('POST', '/dashboard/login', { headers: { origin: 'https://evil.example', ...admin } })).body.error).toBe('csrf_failed');
  const signedIn = await call('POST', '/dashboard/login', { headers: { origin: o.origin, ...admin } });
  expect(signedIn.status).toBe(200);
  const setCookie = signedIn.setCookies[0] ?? '';
  expect(setCookie).toMatch(/^(__Host-)?sessionkit-dashboard=[^;]+;.*HttpOnly/i);
  expect(setCookie).toMatch(/SameSite=Strict/i);
  const name = setCookie.slice(0, setCookie.indexOf('='));
  const cookie = { cookie: `${name}=${cookieValue(signedIn.setCookies, name)}` };
  const csrf = signedIn.body.csrfToken as string;
  const page = await call('GET', '/dashboard', { headers: cookie });
  expect(page.text).toContain(`<meta name="csrf-token" content="${csrf}">`);

  // Stats and the event stream's refusals (the stream itself is tested in test/audit/events.test.ts).
  const stats = await call('GET', '/v1/stats', { headers: cookie });
  expect(stats.status).toBe(200);
  expect(stats.body.perMinute.minutes).toBe(60);
  expect((await call('GET', '/v1/stats', { headers: admin })).status).toBe(200);
  expect((await call('GET', '/v1/events')).body.error).toBe('token_missing');
  if (o.sessionsKey) expect((await call('GET', '/v1/events', { headers: { 'x-api-key': o.sessionsKey } })).body.error).toBe('insufficient_scope');

  // The user search shows each session's effective timeouts and the policy that set them.
  const a = await call('POST', '/v1/sessions', { headers: admin, json: { userId: user, device: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' } } });
  const b = await call('POST', '/v1/sessions', { headers: admin, json: { userId: user } });
  const list = await call('GET', `/dashboard/api/users/${encodeURIComponent(user)}/sessions`, { headers: cookie });
  expect(list.body.sessions).toHaveLength(2);
  expect(list.body.sessions[0]).toMatchObject({ idleTimeout: expect.any(Number), absoluteTimeout: expect.any(Number), policy: null });
  const apiList = await call('GET', `/v1/users/${encodeURIComponent(user)}/sessions`, { headers: admin });
  expect(apiList.body.sessions[0].idleTimeout).toBe(list.body.sessions[0].idleTimeout);

  // Writes with the cookie need the CSRF token and our origin; then the token is refused by the API.
  const revokeA = `/dashboard/api/sessions/${a.body.session.id}`;
  expect((await call('DELETE', revokeA, { headers: { ...cookie, origin: o.origin } })).body.error).toBe('csrf_failed');
  expect((await call('DELETE', revokeA, { headers: { ...cookie, origin: 'https://evil.example', 'x-csrf-token': csrf } })).body.error).toBe('csrf_failed');
  expect((await call('DELETE', revokeA, { headers: { ...cookie, origin: o.origin, 'x-csrf-token': csrf } })).status).toBe(204);
  expect((await call('DELETE', revokeA, { headers: { ...cookie, origin: o.origin, 'x-csrf-token': csrf } })).status).toBe(404);
  expect((await call('GET', '/v1/sessions/current', { headers: { authorization: `Bearer ${a.body.token}` } })).body.error).toBe('session_revoked');
  const all = await call('DELETE', `/dashboard/api/users/${encodeURIComponent(user)}/sessions`, { headers: { ...cookie, origin: o.origin, 'x-csrf-token': csrf } });
  expect(all.body).toEqual({ revoked: 1 });
  expect((await call('GET', '/v1/sessions/current', { headers: { authorization: `Bearer ${b.body.token}` } })).status).toBe(401);
  const trail = await call('GET', `/v1/audit?userId=${encodeURIComponent(user)}&type=session.revoked`, { headers: admin });
  expect(trail.body.events.map((e: { actor: string }) => e.actor)).toEqual([expect.stringMatching(/^dashboard:apikey:/), expect.stringMatching(/^dashboard:apikey:/)]);

  // Sign-out ends the dashboard session.
  expect((await call('POST', '/dashboard/logout', { headers: cookie })).body.error).toBe('csrf_failed');
  expect((await call('POST', '/dashboard/logout', { headers: { ...cookie, origin: o.origin, 'x-csrf-token': csrf } })).status).toBe(204);
  expect((await call('GET', '/v1/stats', { headers: cookie })).body.error).toBe('token_invalid');
  expect((await call('GET', '/dashboard', { headers: cookie })).text).toContain('id="login-form"');
}
