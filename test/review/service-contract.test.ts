// Review of the service against shared/API.md: contract details that the main scenario
// (test/service/scenario.ts) does not assert on the service itself. Headers on error
// responses, no-store on every response that reveals a session, each CSRF refusal of issue 5
// on the service's cookie-authenticated writes (audited), 415, the audit `until` and
// `sessionId` filters, and the `sessions` scope on the admin-only monitoring routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createApiKey } from '../../src/server/api-keys.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { injectSend, serviceClient } from '../service/client.js';

const ADMIN_KEY = 'review-admin-key-0123456789abcdef0123';
const ORIGIN = 'http://localhost';

describe('service contract details (in-process, memory store)', () => {
  let app: ServiceApp;
  let sessionsKey: string;
  let client: Awaited<ReturnType<typeof serviceClient>>;
  const admin = { 'x-api-key': ADMIN_KEY };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    const store = memoryStore();
    sessionsKey = (await createApiKey(store, { name: 'app', scopes: ['sessions'] })).key;
    const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--trust-proxy', 'true', '--rate-limit', '1000/1m', '--log-level', 'silent', '--sweep-interval', '0'] });
    app = await buildServer(config, { store });
    client = await serviceClient(injectSend(app));
  });
  afterAll(async () => {
    await app.close();
  });

  it('echoes X-Request-Id on error responses too (401, 403, 400, 404, 413)', async () => {
    const { call } = client;
    const cases: [string, string, Parameters<typeof call>[2], number][] = [
      ['GET', '/v1/sessions/current', {}, 401],
      ['GET', '/v1/audit', { headers: { 'x-api-key': sessionsKey } }, 403],
      ['POST', '/v1/sessions', { headers: admin, json: {} }, 400],
      ['DELETE', '/v1/sessions/unknown-id', { headers: admin }, 404],
      ['POST', '/v1/sessions', { headers: admin, json: { userId: 'u', data: { blob: 'x'.repeat(70_000) } } }, 413],
    ];
    for (const [method, url, options, status] of cases) {
      const res = await call(method, url, { ...options, headers: { ...(options?.headers ?? {}), 'x-request-id': `review-${status}` } });
      expect({ url, status: res.status, id: res.header('x-request-id') }).toEqual({ url, status, id: `review-${status}` });
    }
  });

  it('sends Cache-Control: no-store on every response that carries or reveals a session, and on 401s', async () => {
    const { call } = client;
    const created = await call('POST', '/v1/sessions', { headers: admin, json: { userId: 'nostore' } });
    const jwt = await call('POST', '/v1/sessions', { headers: admin, json: { userId: 'nostore', tokenType: 'jwt' } });
    const responses = {
      validate: await call('POST', '/v1/sessions/validate', { headers: admin, json: { token: created.body.token } }),
      current: await call('GET', '/v1/sessions/current', { headers: bearer(created.body.token) }),
      list: await call('GET', '/v1/sessions', { headers: bearer(created.body.token) }),
      userList: await call('GET', '/v1/users/nostore/sessions', { headers: admin }),
      renew: await call('POST', '/v1/sessions/current/renew', { headers: bearer(created.body.token) }),
      refresh: await call('POST', '/v1/sessions/refresh', { json: { refreshToken: jwt.body.refreshToken } }),
      audit: await call('GET', '/v1/audit?limit=1', { headers: admin }),
      unauthorized: await call('GET', '/v1/sessions/current', { headers: bearer('sk_nope.nope') }),
    };
    for (const [name, res] of Object.entries(responses)) {
      expect({ name, status: res.status < 300, cacheControl: res.header('cache-control') })
        .toEqual({ name, status: name !== 'unauthorized', cacheControl: 'no-store' });
    }
    expect(responses.unauthorized.header('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('refuses each cross-site form of a cookie-authenticated write with 403 csrf_failed and audits it', async () => {
    const { call } = client;
    const b = await call('POST', '/v1/sessions', { headers: admin, json: { userId: 'csrf-review', setCookie: true } });
    expect(b.status).toBe(201);
    const cookie = `sessionkit=${b.body.token}`;
    const csrf: string = b.body.csrfToken;
    const refusals: [string, Record<string, string>][] = [
      ['neither Origin nor Sec-Fetch-Site', { 'x-csrf-token': csrf }],
      ['Origin: null', { origin: 'null', 'x-csrf-token': csrf }],
      ['a look-alike origin', { origin: `${ORIGIN}.evil.com`, 'x-csrf-token': csrf }],
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site', 'x-csrf-token': csrf }],
      ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site', 'x-csrf-token': csrf }],
      ['no X-CSRF-Token', { origin: ORIGIN }],
      ['the CSRF token of another session', { origin: ORIGIN, 'x-csrf-token': (await call('POST', '/v1/sessions', { headers: admin, json: { userId: 'csrf-review' } })).body.csrfToken }],
    ];
    for (const [label, headers] of refusals) {
      for (const [method, url] of [['POST', '/v1/sessions/current/renew'], ['DELETE', '/v1/sessions?others=true'], ['DELETE', '/v1/sessions/current']] as const) {
        const res = await call(method, url, { headers: { cookie, ...headers } });
        expect({ label, url, status: res.status, error: res.body?.error }).toEqual({ label, url, status: 403, error: 'csrf_failed' });
      }
    }
    // The session is untouched by the refused writes.
    expect((await call('GET', '/v1/sessions/current', { headers: { cookie } })).status).toBe(200);
    const audit = await call('GET', `/v1/audit?sessionId=${b.body.session.id}&type=session.rejected&limit=100`, { headers: admin });
    expect(audit.body.events.length).toBe(refusals.length * 3);
    expect(new Set(audit.body.events.map((e: { reason: string }) => e.reason))).toEqual(new Set(['csrf']));
    // And the same write passes with the token and a same-origin Origin.
    const ok = await call('DELETE', '/v1/sessions?others=true', { headers: { cookie, origin: ORIGIN, 'x-csrf-token': csrf } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ revoked: 1 });
  });

  it('answers an unsupported content type with 415 invalid_request', async () => {
    const res = await client.call('POST', '/v1/sessions', { headers: { ...admin, 'content-type': 'application/xml' }, raw: '<userId>u</userId>' });
    expect({ status: res.status, error: res.body?.error }).toEqual({ status: 415, error: 'invalid_request' });
  });

  it('filters the audit trail by sessionId and by until (exclusive)', async () => {
    const { call } = client;
    const one = await call('POST', '/v1/sessions', { headers: admin, json: { userId: 'audit-review' } });
    const two = await call('POST', '/v1/sessions', { headers: admin, json: { userId: 'audit-review' } });
    const bySession = await call('GET', `/v1/audit?sessionId=${one.body.session.id}`, { headers: admin });
    expect(bySession.body.events.map((e: { sessionId: string; type: string }) => [e.sessionId, e.type])).toEqual([[one.body.session.id, 'session.created']]);
    const all = await call('GET', '/v1/audit?userId=audit-review', { headers: admin });
    expect(all.body.events.map((e: { sessionId: string }) => e.sessionId)).toEqual([two.body.session.id, one.body.session.id]);
    const newest = all.body.events[0] as { at: string };
    const before = await call('GET', `/v1/audit?userId=audit-review&until=${encodeURIComponent(newest.at)}`, { headers: admin });
    expect(before.body.events.every((e: { at: string }) => Date.parse(e.at) < Date.parse(newest.at))).toBe(true);
    const through = await call('GET', `/v1/audit?userId=audit-review&until=${Date.parse(newest.at) + 1}`, { headers: admin });
    expect(through.body.events.map((e: { sessionId: string }) => e.sessionId)).toContain(two.body.session.id);
    const since = await call('GET', `/v1/audit?userId=audit-review&since=${encodeURIComponent(newest.at)}`, { headers: admin });
    expect(since.body.events.map((e: { sessionId: string }) => e.sessionId)).toContain(two.body.session.id);
  });

  it('gives a sessions-scoped key the session routes and 403 insufficient_scope on the admin routes', async () => {
    const { call } = client;
    const key = { 'x-api-key': sessionsKey };
    const created = await call('POST', '/v1/sessions', { headers: key, json: { userId: 'scoped' } });
    expect(created.status).toBe(201);
    expect((await call('POST', '/v1/sessions/validate', { headers: key, json: { token: created.body.token } })).status).toBe(200);
    expect((await call('GET', '/v1/users/scoped/sessions', { headers: key })).body.sessions).toHaveLength(1);
    expect((await call('DELETE', '/v1/users/scoped/sessions', { headers: key })).body).toEqual({ revoked: 1 });
    for (const [method, url] of [['GET', '/v1/audit'], ['POST', '/v1/keys/rotate'], ['GET', '/v1/stats']] as const) {
      const res = await call(method, url, { headers: key });
      expect({ url, status: res.status, error: res.body?.error }).toEqual({ url, status: 403, error: 'insufficient_scope' });
    }
  });
  it('logs out without Clear-Site-Data by default, with no-store on revocation counts, and sends JWT sessions to refresh instead of renew', async () => {
    const { call } = client;
    const created = await call('POST', '/v1/sessions', { headers: admin, json: { userId: 'logout-headers' } });
    const other = await call('POST', '/v1/sessions', { headers: admin, json: { userId: 'logout-headers' } });
    const others = await call('DELETE', '/v1/sessions?others=true', { headers: bearer(created.body.token) });
    expect(others.status).toBe(200);
    expect(others.body).toEqual({ revoked: 1 });
    expect(others.header('cache-control')).toContain('no-store');
    expect((await call('GET', '/v1/sessions/current', { headers: bearer(other.body.token) })).status).toBe(401);
    const logout = await call('DELETE', '/v1/sessions/current', { headers: bearer(created.body.token) });
    expect(logout.status).toBe(204);
    expect(logout.header('clear-site-data')).toBeUndefined();
    const all = await call('DELETE', '/v1/users/logout-headers/sessions', { headers: admin });
    expect(all.header('cache-control')).toContain('no-store');
    const jwt = await call('POST', '/v1/sessions', { headers: admin, json: { userId: 'logout-headers', tokenType: 'jwt' } });
    const renew = await call('POST', '/v1/sessions/current/renew', { headers: bearer(jwt.body.accessToken) });
    expect(renew.status).toBe(400);
    expect(renew.body.error).toBe('invalid_request');
    expect(renew.body.message).toMatch(/refresh/);
  });
});
