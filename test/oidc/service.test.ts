// Single sign-on through the session service against panva's oidc-provider on loopback: the full
// redirect flow (fetch following redirects with a cookie jar), role mapping, fixation, the
// returnTo allow-list, and a real back-channel logout sent by the provider.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcUserId } from '../../src/oidc/index.js';
import { openApiChecker } from '../service/openapi-check.js';
import { browse, CookieJar, loginThrough, signOutAtProvider } from './helpers/browser.js';
import { eventuallyTrue } from './helpers/wait.js';
import { ACCOUNTS, ADMIN_KEY, startSsoService, type SsoService } from './helpers/setup.js';

describe('single sign-on in the session service', () => {
  let sso: SsoService;
  let checker: ReturnType<typeof openApiChecker>;

  beforeAll(async () => {
    sso = await startSsoService();
    checker = openApiChecker(await (await fetch(`${sso.url}/openapi.json`)).json());
  });
  afterAll(async () => {
    await sso?.close();
  });

  const current = (jar: CookieJar) => fetch(`${sso.url}/v1/sessions/current`, { headers: { cookie: jar.header(sso.url) ?? '' } });
  const loginUrl = (returnTo?: string) => `${sso.url}/v1/oidc/login${returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`}`;

  async function logIn(user: 'alice' | 'bob', jar = new CookieJar()) {
    const landed = await loginThrough(jar, loginUrl(`${sso.url}/v1/sessions/current`), user, ACCOUNTS[user]!.password);
    expect(landed.status).toBe(200);
    const body = JSON.parse(landed.text) as { session: { id: string; userId: string; roles: string[]; data: { oidc: { iss: string; sub: string; sid: string } } } };
    return { jar, landed, session: body.session };
  }

  it('documents the SSO routes in /openapi.json', () => {
    const routes = checker.routes();
    expect(routes).toEqual(expect.arrayContaining(['GET /v1/oidc/login', 'GET /v1/oidc/callback', 'POST /v1/backchannel-logout', 'POST /v1/oidc/logout', 'GET /v1/oidc/logout/callback']));
  });

  it('logs a user in through the full redirect flow, with sub, sid and mapped roles', async () => {
    const { jar, landed, session } = await logIn('alice');
    // login -> provider authorize -> login page; then form -> provider -> callback -> returnTo
    expect(landed.url).toBe(`${sso.url}/v1/sessions/current`);
    expect(landed.path.some((u) => u.startsWith(`${sso.url}/v1/oidc/callback?`))).toBe(true);
    expect(session.userId).toBe(oidcUserId(sso.op.issuer, 'alice'));
    expect(session.userId).toMatch(/^oidc:[0-9a-f]{16}:alice$/);
    expect(session.roles.sort()).toEqual(['admin', 'user']);
    expect(session.data.oidc).toMatchObject({ iss: sso.op.issuer, sub: 'alice' });
    expect(typeof session.data.oidc.sid).toBe('string');
    // The login-state cookie is gone, the session cookie is HttpOnly state in the jar.
    expect(jar.get('127.0.0.1', 'sessionkit-oidc')).toBeUndefined();
    expect(jar.get('127.0.0.1', 'sessionkit')).toMatch(/^sk_/);
  });

  it('answers the login and callback steps as /openapi.json documents them', async () => {
    const jar = new CookieJar();
    const start = await fetch(loginUrl('/app/dashboard'), { redirect: 'manual' });
    checker.check('GET', '/v1/oidc/login', start.status, start.headers.get('content-type'), await start.text());
    expect(start.status).toBe(303);
    expect(start.headers.get('cache-control')).toBe('no-store');
    const location = new URL(start.headers.get('location')!);
    expect(location.origin).toBe(sso.op.issuer);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    for (const p of ['state', 'nonce', 'code_challenge']) expect(location.searchParams.get(p)).toMatch(/^[\w-]{20,}$/);
    const cookie = start.headers.getSetCookie().find((c) => c.startsWith('sessionkit-oidc='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    jar.store(loginUrl(), start);
    const landed = await loginThrough(jar, location.href, 'bob', ACCOUNTS.bob!.password);
    // /app/dashboard is allowed (below /app/) though not served: the service answers its 404.
    expect(landed.url).toBe(`${sso.url}/app/dashboard`);
    const callback = landed.path.find((u) => u.startsWith(`${sso.url}/v1/oidc/callback`))!;
    expect(callback).toBeDefined();
    const me = await current(jar);
    checker.check('GET', '/v1/sessions/current', me.status, me.headers.get('content-type'), await me.clone().text());
    expect((await me.json() as { session: { userId: string; roles: string[] } }).session).toMatchObject({ userId: oidcUserId(sso.op.issuer, 'bob'), roles: ['user'] });
  });

  it('creates a new session and revokes the one the browser carried (no fixation)', async () => {
    const planted = await fetch(`${sso.url}/v1/sessions`, {
      method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'planted' }),
    });
    const { token } = await planted.json() as { token: string };
    const jar = new CookieJar();
    jar.set('127.0.0.1', 'sessionkit', token);
    const { session } = await logIn('alice', jar);
    expect(session.userId).toBe(oidcUserId(sso.op.issuer, 'alice'));
    expect(jar.get('127.0.0.1', 'sessionkit')).not.toBe(token);
    const old = await fetch(`${sso.url}/v1/sessions/current`, { headers: { authorization: `Bearer ${token}` } });
    expect(old.status).toBe(401);
    expect((await old.json() as { error: string }).error).toBe('session_revoked');
  });

  it('keeps an SSO user apart from the API-created user of the same name: the sub alice cannot see or revoke her sessions (issue 18 Low 8)', async () => {
    const created = await fetch(`${sso.url}/v1/sessions`, {
      method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'alice' }),
    });
    const local = await created.json() as { token: string; session: { id: string } };
    const { jar } = await logIn('alice');
    const mine = await fetch(`${sso.url}/v1/sessions`, { headers: { cookie: jar.header(sso.url) ?? '' } });
    const listed = (await mine.json() as { sessions: { id: string }[] }).sessions.map((s) => s.id);
    expect(listed).not.toContain(local.session.id);
    const csrf = jar.get('127.0.0.1', 'sessionkit-csrf') ?? '';
    const revoke = await fetch(`${sso.url}/v1/sessions/${local.session.id}`, {
      method: 'DELETE', headers: { cookie: jar.header(sso.url) ?? '', 'x-csrf-token': csrf, origin: sso.url },
    });
    expect(revoke.status).toBe(404);
    expect((await fetch(`${sso.url}/v1/sessions/current`, { headers: { authorization: `Bearer ${local.token}` } })).status).toBe(200);
  });

  it('refuses a returnTo that is not on the allow-list', async () => {
    for (const target of ['https://evil.example/', '//evil.example/x', '/\\evil.example', `${sso.url}/dashboard`, 'javascript:alert(1)', `${sso.url}/app`]) {
      const res = await fetch(loginUrl(target), { redirect: 'manual' });
      const text = await res.text();
      checker.check('GET', '/v1/oidc/login', res.status, res.headers.get('content-type'), text);
      expect({ target, status: res.status, error: (JSON.parse(text) as { error: string }).error }).toEqual({ target, status: 400, error: 'invalid_request' });
    }
  });

  it('refuses a callback without the login-state cookie of the browser that started the login', async () => {
    const start = await fetch(loginUrl(), { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state');
    const res = await fetch(`${sso.url}/v1/oidc/callback?code=abc&state=${state}`, { redirect: 'manual' });
    const text = await res.text();
    checker.check('GET', '/v1/oidc/callback', res.status, res.headers.get('content-type'), text);
    expect(res.status).toBe(400);
    expect(JSON.parse(text)).toMatchObject({ error: 'invalid_request' });
  });

  it('refuses a callback whose state does not match the login it started', async () => {
    const jar = new CookieJar();
    const start = await fetch(loginUrl(), { redirect: 'manual' });
    jar.store(loginUrl(), start);
    const res = await fetch(`${sso.url}/v1/oidc/callback?code=abc&state=forged-state&iss=${encodeURIComponent(sso.op.issuer)}`, { headers: { cookie: jar.header(sso.url)! }, redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/validation|state/) });
    expect(res.headers.getSetCookie().some((c) => c.startsWith('sessionkit-oidc=;'))).toBe(true);
  });

  it('refuses a callback carrying the provider\'s error', async () => {
    const jar = new CookieJar();
    const start = await fetch(loginUrl(), { redirect: 'manual' });
    jar.store(loginUrl(), start);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const res = await fetch(`${sso.url}/v1/oidc/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(sso.op.issuer)}`, { headers: { cookie: jar.header(sso.url)! }, redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request', message: expect.stringContaining('access_denied') });
  });

  it('ends the session when the user signs out at the provider (a real back-channel logout)', async () => {
    const { jar, session } = await logIn('bob');
    const other = await logIn('alice');
    expect((await current(jar)).status).toBe(200);
    const before = sso.op.backchannel.length;
    const signedOut = await signOutAtProvider(jar, sso.op.issuer);
    expect(signedOut.status).toBe(200);
    await eventuallyTrue(() => sso.op.backchannel.length > before, 'the provider to send the back-channel logout');
    expect(sso.op.backchannel.at(-1), sso.op.backchannel.at(-1)?.error).toMatchObject({ ok: true, clientId: 'sessionkit-service', sub: 'bob', sid: session.data.oidc.sid });
    const res = await current(jar);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'session_revoked' });
    // Another user's session is untouched.
    expect((await current(other.jar)).status).toBe(200);
    const audit = await fetch(`${sso.url}/v1/audit?sessionId=${session.id}&type=session.revoked`, { headers: { 'x-api-key': ADMIN_KEY } });
    expect((await audit.json() as { events: { reason: string }[] }).events[0]).toMatchObject({ reason: 'backchannel_logout' });
  });

  it('ends the session and sends the browser to the provider on POST /v1/oidc/logout, as /openapi.json documents', async () => {
    const { jar, session } = await logIn('bob');
    const headers = { cookie: jar.header(sso.url)!, origin: sso.url, 'x-csrf-token': jar.get('127.0.0.1', 'sessionkit-csrf') ?? '' };
    const refused = await fetch(`${sso.url}/v1/oidc/logout?returnTo=${encodeURIComponent('https://evil.example/')}`, { method: 'POST', headers, redirect: 'manual' });
    checker.check('POST', '/v1/oidc/logout', refused.status, refused.headers.get('content-type'), await refused.text());
    expect(refused.status).toBe(400);
    expect((await current(jar)).status).toBe(200);
    const noCsrf = await fetch(`${sso.url}/v1/oidc/logout`, { method: 'POST', headers: { cookie: headers.cookie, origin: sso.url }, redirect: 'manual' });
    expect(noCsrf.status).toBe(403);

    const res = await fetch(`${sso.url}/v1/oidc/logout?returnTo=/app/bye`, { method: 'POST', headers, redirect: 'manual' });
    checker.check('POST', '/v1/oidc/logout', res.status, res.headers.get('content-type'), await res.clone().text());
    expect(res.status).toBe(303);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(`${sso.op.issuer}/session/end`);
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${sso.url}/v1/oidc/logout/callback`);
    expect(location.searchParams.get('id_token_hint')).toMatch(/^eyJ/);
    jar.store(sso.url, res);
    expect(jar.get('127.0.0.1', 'sessionkit')).toBeUndefined();
    const old = await fetch(`${sso.url}/v1/sessions/current`, { headers: { cookie: headers.cookie } });
    expect(await old.json()).toMatchObject({ error: 'session_revoked' });
    const audit = await fetch(`${sso.url}/v1/audit?sessionId=${session.id}&type=session.revoked`, { headers: { 'x-api-key': ADMIN_KEY } });
    expect((await audit.json() as { events: { reason: string }[] }).events[0]).toMatchObject({ reason: 'logout' });

    const forged = await fetch(`${sso.url}/v1/oidc/logout/callback?state=forged`, { headers: { cookie: jar.header(sso.url) ?? '' }, redirect: 'manual' });
    checker.check('GET', '/v1/oidc/logout/callback', forged.status, forged.headers.get('content-type'), await forged.text());
    expect(forged.status).toBe(400);
    const back = await fetch(`${sso.url}/v1/oidc/logout/callback?state=${location.searchParams.get('state')}`, { headers: { cookie: jar.header(sso.url) ?? '' }, redirect: 'manual' });
    checker.check('GET', '/v1/oidc/logout/callback', back.status, back.headers.get('content-type'), await back.text());
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe(`${sso.url}/app/bye`);

    const anonymous = await fetch(`${sso.url}/v1/oidc/logout`, { method: 'POST', redirect: 'manual' });
    checker.check('POST', '/v1/oidc/logout', anonymous.status, anonymous.headers.get('content-type'), await anonymous.text());
    expect(anonymous.status).toBe(401);
  });

  it('refuses to reuse an authorization code', async () => {
    const jar = new CookieJar();
    const landed = await loginThrough(jar, loginUrl(), 'bob', ACCOUNTS.bob!.password);
    const callback = landed.path.find((u) => u.startsWith(`${sso.url}/v1/oidc/callback`))!;
    // The login-state cookie was spent: replaying the callback in the same browser fails.
    const again = await browse(jar, callback);
    expect(again.status).toBe(400);
  });
});
