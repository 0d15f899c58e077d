// Re-authentication in the service on a fake clock: `fresh` in GET /v1/sessions/current against
// SESSIONKIT_REAUTH_MAX_AGE, validate with recentAuth (403 with maxAge), POST
// /v1/sessions/current/reauthenticate (rotation, renew grace, audit), every response checked
// against /openapi.json.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createApiKey } from '../../src/server/api-keys.js';
import { buildServer, type ServiceApp } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { injectSend, serviceClient } from '../service/client.js';

const ADMIN_KEY = 'reauth-admin-key-0123456789abcdef';
const MIN = 60_000;

describe('re-authentication in the service', () => {
  let app: ServiceApp | null = null;
  afterEach(async () => {
    await app?.close();
    app = null;
  });

  async function setup(extraArgs: string[] = []) {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const store = memoryStore();
    const sessionsKey = (await createApiKey(store, { name: 'login-code', scopes: ['sessions'] })).key;
    const config = loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--insecure-cookies', '--trust-proxy', 'true', '--log-level', 'silent', '--sweep-interval', '0', ...extraArgs] });
    app = await buildServer(config, { store, now: () => now });
    const client = await serviceClient(injectSend(app));
    const key = { 'x-api-key': sessionsKey };
    return { ...client, key, advance: (ms: number) => { now += ms; } };
  }

  it('reports fresh against SESSIONKIT_REAUTH_MAX_AGE (default 10m) and refuses validate with recentAuth when stale', async () => {
    const { call, key, advance } = await setup();
    const created = await call('POST', '/v1/sessions', { headers: key, json: { userId: 'u1' } });
    const token = created.body.token as string;
    expect(created.body.session).toMatchObject({ authenticatedAt: '2030-01-01T00:00:00.000Z', authMethods: [] });
    expect(created.body.session.fresh).toBeUndefined();
    const bearer = { authorization: `Bearer ${token}` };
    expect((await call('GET', '/v1/sessions/current', { headers: bearer })).body.session.fresh).toBe(true);
    expect((await call('POST', '/v1/sessions/validate', { headers: key, json: { token } })).body.session.fresh).toBe(true);
    advance(10 * MIN + 1000);
    expect((await call('GET', '/v1/sessions/current', { headers: bearer })).body.session.fresh).toBe(false);
    expect((await call('POST', '/v1/sessions/validate', { headers: key, json: { token } })).body.session.fresh).toBe(false);

    const refused = await call('POST', '/v1/sessions/validate', { headers: key, json: { token, recentAuth: { maxAge: 300 } } });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: 'reauthentication_required', message: expect.any(String), maxAge: 300, methods: [] });
    expect((await call('POST', '/v1/sessions/validate', { headers: key, json: { token, recentAuth: { maxAge: 3600 } } })).body.session.fresh).toBe(true);
    const methods = await call('POST', '/v1/sessions/validate', { headers: key, json: { token, recentAuth: { maxAge: 3600, methods: ['totp'] } } });
    expect(methods.body).toMatchObject({ error: 'reauthentication_required', maxAge: 3600, methods: ['totp'] });
    for (const bad of [{ maxAge: 0 }, { maxAge: '10m' }, { methods: ['a b'] }, { colour: 'red' }]) {
      expect((await call('POST', '/v1/sessions/validate', { headers: key, json: { token, recentAuth: bad } })).status, JSON.stringify(bad)).toBe(400);
    }
    const audit = await call('GET', '/v1/audit?type=session.rejected', { headers: { 'x-api-key': ADMIN_KEY } });
    expect(audit.body.events.filter((e: { reason: string }) => e.reason === 'reauthentication_required').map((e: { detail: string }) => e.detail)).toEqual(['methods', 'age']);
  });

  it('takes its default from --reauth-max-age', async () => {
    const { call, key, advance } = await setup(['--reauth-max-age', '30m']);
    const { body } = await call('POST', '/v1/sessions', { headers: key, json: { userId: 'u1' } });
    advance(20 * MIN);
    expect((await call('GET', '/v1/sessions/current', { headers: { authorization: `Bearer ${body.token}` } })).body.session.fresh).toBe(true);
    expect(() => loadConfig({ env: { SESSIONKIT_REAUTH_MAX_AGE: 'soon' } })).toThrow(/reauthMaxAge|REAUTH_MAX_AGE/);
  });

  it('re-authenticates with an API key: rotated token, fresh session, old token only for the renew grace, audited', async () => {
    const { call, key, advance } = await setup();
    const created = await call('POST', '/v1/sessions', { headers: key, json: { userId: 'u2', setCookie: true } });
    const old = created.body.token as string;
    advance(25 * MIN);
    expect((await call('POST', '/v1/sessions/current/reauthenticate', { headers: { authorization: `Bearer ${old}` }, json: { token: old, methods: ['password'] } })).status).toBe(401);
    expect((await call('POST', '/v1/sessions/current/reauthenticate', { headers: key, json: { token: old } })).status).toBe(400);
    expect((await call('POST', '/v1/sessions/current/reauthenticate', { headers: key, json: { token: 'garbage', methods: ['password'] } })).body.error).toBe('token_malformed');
    const res = await call('POST', '/v1/sessions/current/reauthenticate', { headers: key, json: { token: old, methods: ['password', 'totp'] } });
    expect(res.status).toBe(200);
    expect(res.header('cache-control')).toBe('no-store');
    expect(res.setCookies).toEqual([]);
    expect(res.body).toMatchObject({ session: { id: created.body.session.id, authMethods: ['password', 'totp'], authenticatedAt: '2030-01-01T00:25:00.000Z' }, csrfToken: created.body.csrfToken });
    const token = res.body.token as string;
    expect(token).not.toBe(old);
    expect((await call('GET', '/v1/sessions/current', { headers: { authorization: `Bearer ${token}` } })).body.session).toMatchObject({ fresh: true, authMethods: ['password', 'totp'] });
    advance(9_000);
    expect((await call('GET', '/v1/sessions/current', { headers: { cookie: `sessionkit=${old}` } })).status).toBe(200);
    advance(1_000);
    const dead = await call('GET', '/v1/sessions/current', { headers: { cookie: `sessionkit=${old}` } });
    expect(dead.status).toBe(401);
    expect(dead.body.error).toBe('token_invalid');
    expect((await call('POST', '/v1/sessions/validate', { headers: key, json: { token, recentAuth: { methods: ['totp'] } } })).status).toBe(200);
    const trail = await call('GET', `/v1/audit?sessionId=${created.body.session.id}&type=session.reauthenticated`, { headers: { 'x-api-key': ADMIN_KEY } });
    expect(trail.body.events).toEqual([expect.objectContaining({ detail: 'password,totp', actor: expect.stringMatching(/^apikey:/) })]);
  });

  it('re-authenticates a JWT session with a new access token and refresh token', async () => {
    const { call, key, advance } = await setup();
    const created = await call('POST', '/v1/sessions', { headers: key, json: { userId: 'u3', tokenType: 'jwt' } });
    advance(15 * MIN);
    const refreshed = await call('POST', '/v1/sessions/refresh', { json: { refreshToken: created.body.refreshToken } });
    const res = await call('POST', '/v1/sessions/current/reauthenticate', { headers: key, json: { token: refreshed.body.accessToken, methods: ['webauthn'] } });
    expect(res.status).toBe(200);
    expect(res.body.token).toBeUndefined();
    expect(res.body.session.authMethods).toEqual(['webauthn']);
    const claims = JSON.parse(Buffer.from((res.body.accessToken as string).split('.')[1]!, 'base64url').toString()) as { auth_time: number; amr: string[] };
    expect(claims).toMatchObject({ auth_time: Date.parse('2030-01-01T00:15:00Z') / 1000, amr: ['webauthn'] });
    expect((await call('GET', '/v1/sessions/current', { headers: { authorization: `Bearer ${res.body.accessToken}` } })).body.session.fresh).toBe(true);
    const next = await call('POST', '/v1/sessions/refresh', { json: { refreshToken: res.body.refreshToken } });
    expect(next.status).toBe(200);
  });
});
