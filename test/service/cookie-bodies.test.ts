// Issue 18, Low 5: a caller that authenticated by cookie is a page, and any script on that page can
// read a JSON body. Renewal and refresh by cookie must hand the new tokens over in the HttpOnly
// cookies alone; Bearer and body callers (apps, backends) still get them in the body.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';

const ADMIN_KEY = 'cookie-bodies-admin-key-0123456789abcdef';
const ORIGIN = 'http://localhost';

function cookieOf(setCookie: string | string[] | undefined, name: string): string | undefined {
  const all = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  for (const c of all) {
    const pair = c.split(';')[0]!;
    if (pair.startsWith(`${name}=`)) return decodeURIComponent(pair.slice(name.length + 1));
  }
  return undefined;
}

describe('token-bearing answers to cookie callers', () => {
  let app: ServiceApp;
  beforeAll(async () => {
    const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--log-level', 'silent', '--sweep-interval', '0'] });
    app = await buildServer(config);
  });
  afterAll(async () => {
    await app.close();
  });

  async function create(payload: Record<string, unknown>) {
    const res = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'x-api-key': ADMIN_KEY }, payload: { userId: 'cookie-bodies', setCookie: true, ...payload } });
    expect(res.statusCode).toBe(201);
    return { body: res.json() as Record<string, string>, cookies: res.headers['set-cookie'] };
  }

  it('answers a cookie-authenticated renew with the new token in the HttpOnly cookie only', async () => {
    const { body } = await create({});
    const res = await app.inject({
      method: 'POST', url: '/v1/sessions/current/renew',
      headers: { cookie: `sessionkit=${body.token}`, origin: ORIGIN, 'x-csrf-token': body.csrfToken! },
    });
    expect(res.statusCode).toBe(200);
    const renewed = cookieOf(res.headers['set-cookie'], 'sessionkit');
    expect(renewed).toMatch(/^sk_/);
    expect(res.body).not.toContain(renewed);
    expect(Object.keys(res.json() as object).sort()).toEqual(['csrfToken', 'expiresAt', 'session']);
    expect((await app.inject({ method: 'GET', url: '/v1/sessions/current', headers: { cookie: `sessionkit=${renewed}` } })).statusCode).toBe(200);
  });

  it('still answers a Bearer renew with the new token in the body (no cookies)', async () => {
    const { body } = await create({ setCookie: false });
    const res = await app.inject({ method: 'POST', url: '/v1/sessions/current/renew', headers: { authorization: `Bearer ${body.token}` } });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { token: string }).token).toMatch(/^sk_/);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('answers a cookie refresh with the access and refresh tokens in the HttpOnly cookies only', async () => {
    const { body } = await create({ tokenType: 'jwt' });
    const res = await app.inject({
      method: 'POST', url: '/v1/sessions/refresh',
      headers: { cookie: `sessionkit-refresh=${body.refreshToken}`, origin: ORIGIN, 'x-csrf-token': body.csrfToken! },
    });
    expect(res.statusCode).toBe(200);
    const access = cookieOf(res.headers['set-cookie'], 'sessionkit');
    const refresh = cookieOf(res.headers['set-cookie'], 'sessionkit-refresh');
    expect(access).toBeTruthy();
    expect(refresh).toMatch(/^skr_/);
    expect(res.body).not.toContain(access);
    expect(res.body).not.toContain(refresh);
    expect(Object.keys(res.json() as object).sort()).toEqual(['accessTokenExpiresAt', 'csrfToken', 'expiresAt', 'session']);
    // The cookie-held refresh token is the live one: a body refresh with it rotates again.
    const again = await app.inject({ method: 'POST', url: '/v1/sessions/refresh', payload: { refreshToken: refresh } });
    expect(again.statusCode).toBe(200);
    expect((again.json() as { refreshToken: string }).refreshToken).toMatch(/^skr_/);
  });
});
