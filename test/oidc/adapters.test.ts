// The SSO helpers of sessionkit/oidc on Express, Fastify and Hono, each a real app on a loopback
// port and a client of the in-process provider: the full redirect flow, roles from a claim, no
// fixation, the returnTo allow-list, and the provider's back-channel logout ending the session.
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionManager, type SessionManager } from '../../src/core/manager.js';
import { requireSession as expressRequireSession, sessionkit as expressSessionkit } from '../../src/http/adapters/express.js';
import { sessionkitFastify } from '../../src/http/adapters/fastify.js';
import { requireSession as honoRequireSession, sessionkit as honoSessionkit } from '../../src/http/adapters/hono.js';
import { createOidc, oidcExpress, oidcFastify, oidcHono, oidcUserId, type OidcOptions } from '../../src/oidc/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { browse, confirmSignOut, CookieJar, loginThrough, signOutAtProvider } from './helpers/browser.js';
import { freePort, startProvider, type TestProvider } from './helpers/provider.js';
import { ACCOUNTS, CLIENT_SECRET, clientFor } from './helpers/setup.js';
import { eventuallyTrue } from './helpers/wait.js';

type Framework = 'express' | 'fastify' | 'hono';
interface RunningApp {
  base: string;
  sessions: SessionManager;
  close(): Promise<void>;
}

/** How each app maps roles: a plain claim, a dotted path, a claim through a role map. */
const ROLES: Record<Framework, Pick<OidcOptions, 'rolesClaim' | 'roleMap' | 'scope'>> = {
  express: { rolesClaim: 'groups', scope: 'openid groups' },
  fastify: { rolesClaim: 'realm_access.roles', scope: 'openid roles' },
  hono: { rolesClaim: 'groups', roleMap: { 'sso-admins': 'admin', staff: ['user', 'reader'] }, scope: 'openid groups email' },
};
/** Hono maps logins onto existing user ids through the email claim; the others keep the namespaced default. */
const USER_ID_CLAIM: Partial<Record<Framework, string>> = { hono: 'email' };
const EXPECTED_ROLES: Record<Framework, string[]> = {
  express: ['sso-admins', 'staff', 'unmapped'],
  fastify: ['offline_access', 'realm-admin'],
  hono: ['admin', 'reader', 'user'],
};

function oidcFor(framework: Framework, op: TestProvider, base: string, sessions: SessionManager) {
  return createOidc({
    sessions, issuer: op.issuer, clientId: `${framework}-app`, clientSecret: CLIENT_SECRET, redirectUri: `${base}/auth/callback`,
    ...ROLES[framework], ...(USER_ID_CLAIM[framework] ? { userIdClaim: USER_ID_CLAIM[framework] } : {}), insecureCookies: true, allowInsecureRequests: true,
    postLogoutRedirectUri: `${base}/auth/logout/callback`,
  });
}

async function startExpress(op: TestProvider, port: number): Promise<RunningApp> {
  const base = `http://127.0.0.1:${port}`;
  const sessions = createSessionManager({ store: memoryStore() });
  const sso = oidcExpress(oidcFor('express', op, base, sessions));
  const app = express();
  app.use(expressSessionkit({ sessions, insecureCookies: true, warn: () => {} }));
  app.get('/auth/login', sso.login);
  app.get('/auth/callback', sso.callback);
  app.post('/auth/backchannel-logout', sso.backchannelLogout);
  app.post('/auth/logout', sso.logout);
  app.get('/auth/logout/callback', sso.logoutCallback);
  app.get('/me', expressRequireSession(), (req, res) => { res.json({ session: req.session }); });
  const server: Server = await new Promise((resolve) => { const s = app.listen(port, '127.0.0.1', () => resolve(s)); });
  return { base, sessions, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

async function startFastify(op: TestProvider, port: number): Promise<RunningApp> {
  const base = `http://127.0.0.1:${port}`;
  const sessions = createSessionManager({ store: memoryStore() });
  const app: FastifyInstance = Fastify();
  await app.register(sessionkitFastify, { sessions, insecureCookies: true, warn: () => {} });
  await app.register(oidcFastify, { oidc: oidcFor('fastify', op, base, sessions) });
  app.get('/me', { preHandler: app.requireSession }, async (request) => ({ session: request.session }));
  await app.listen({ host: '127.0.0.1', port });
  return { base, sessions, close: () => app.close() };
}

async function startHono(op: TestProvider, port: number): Promise<RunningApp> {
  const base = `http://127.0.0.1:${port}`;
  const sessions = createSessionManager({ store: memoryStore() });
  const sso = oidcHono(oidcFor('hono', op, base, sessions));
  const app = new Hono();
  app.use(honoSessionkit({ sessions, insecureCookies: true, warn: () => {} }));
  app.get('/auth/login', sso.login);
  app.get('/auth/callback', sso.callback);
  app.post('/auth/backchannel-logout', sso.backchannelLogout);
  app.post('/auth/logout', sso.logout);
  app.get('/auth/logout/callback', sso.logoutCallback);
  app.get('/me', honoRequireSession(), (c) => c.json({ session: c.get('session') }));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => { const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s)); });
  return { base, sessions, close: () => new Promise((resolve) => { (server as Server).closeAllConnections?.(); server.close(() => resolve()); }) };
}

const STARTERS: Record<Framework, (op: TestProvider, port: number) => Promise<RunningApp>> = { express: startExpress, fastify: startFastify, hono: startHono };

describe('sessionkit/oidc on Express, Fastify and Hono', () => {
  let op: TestProvider;
  const apps = {} as Record<Framework, RunningApp>;

  beforeAll(async () => {
    const ports = { express: await freePort(), fastify: await freePort(), hono: await freePort() };
    op = await startProvider({
      clients: (Object.keys(ports) as Framework[]).map((f) => clientFor(`${f}-app`, `http://127.0.0.1:${ports[f]}`)) as never,
      accounts: ACCOUNTS,
    });
    for (const f of Object.keys(ports) as Framework[]) apps[f] = await STARTERS[f](op, ports[f]);
  });
  afterAll(async () => {
    for (const app of Object.values(apps)) await app.close();
    await op?.close();
  });

  describe.each(['express', 'fastify', 'hono'] as const)('%s', (framework) => {
    const me = (jar: CookieJar) => fetch(`${apps[framework].base}/me`, { headers: { cookie: jar.header(apps[framework].base) ?? '' } });

    it('logs a user in through the full redirect flow and maps the roles claim', async () => {
      const jar = new CookieJar();
      const landed = await loginThrough(jar, `${apps[framework].base}/auth/login?returnTo=/me`, 'alice', ACCOUNTS.alice!.password);
      expect(landed.url).toBe(`${apps[framework].base}/me`);
      expect(landed.status).toBe(200);
      const { session } = JSON.parse(landed.text) as { session: { userId: string; roles: string[]; authMethods: string[]; data: { oidc: { iss: string; sub: string; sid: string } } } };
      expect(session.userId).toBe(USER_ID_CLAIM[framework] ? 'alice@example.org' : oidcUserId(op.issuer, 'alice'));
      expect([...session.roles].sort()).toEqual(EXPECTED_ROLES[framework]);
      expect(session.authMethods).toEqual(['oidc']);
      expect(session.data.oidc).toEqual({ iss: op.issuer, sub: 'alice', sid: expect.any(String) });
    });

    it('revokes the session the browser carried before the login (no fixation)', async () => {
      const planted = await apps[framework].sessions.create({ userId: 'planted' });
      const jar = new CookieJar();
      jar.set('127.0.0.1', 'sessionkit', planted.token);
      await loginThrough(jar, `${apps[framework].base}/auth/login?returnTo=/me`, 'bob', ACCOUNTS.bob!.password);
      expect(jar.get('127.0.0.1', 'sessionkit')).not.toBe(planted.token);
      await expect(apps[framework].sessions.validate(planted.token)).rejects.toMatchObject({ code: 'session_revoked' });
    });

    it('refuses a returnTo that is not on the allow-list', async () => {
      for (const target of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
        const res = await browse(new CookieJar(), `${apps[framework].base}/auth/login?returnTo=${encodeURIComponent(target)}`);
        expect({ target, status: res.status, error: (JSON.parse(res.text) as { error: string }).error }).toEqual({ target, status: 400, error: 'invalid_request' });
      }
    });

    it('ends the session when the provider sends a back-channel logout', async () => {
      const jar = new CookieJar();
      await loginThrough(jar, `${apps[framework].base}/auth/login?returnTo=/me`, 'bob', ACCOUNTS.bob!.password);
      expect((await me(jar)).status).toBe(200);
      const before = op.backchannel.length;
      await signOutAtProvider(jar, op.issuer);
      await eventuallyTrue(() => op.backchannel.length > before, 'the back-channel logout');
      expect(op.backchannel.at(-1), op.backchannel.at(-1)?.error).toMatchObject({ ok: true, clientId: `${framework}-app` });
      const res = await me(jar);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'session_revoked' });
    });

    it('logs out at the provider too (RP-initiated logout), so the next login asks for the password again', async () => {
      const base = apps[framework].base;
      const jar = new CookieJar();
      const landed = await loginThrough(jar, `${base}/auth/login?returnTo=/me`, 'alice', ACCOUNTS.alice!.password);
      const { session } = JSON.parse(landed.text) as { session: { id: string; data: { oidc: { iss: string; sub: string; sid: string } } } };
      // The control: while the provider's session lives, a new login does not ask for the password.
      expect((await browse(jar, `${base}/auth/login?returnTo=/me`)).url).toBe(`${base}/me`);
      // The ID Token is kept for the hint, sealed: the store never holds it readable.
      const subKind = `oidc-sub:${createHash('sha256').update(`${op.issuer}\nalice`).digest('base64url')}`;
      const stored = JSON.stringify(await apps[framework].sessions.store.listRecords(subKind));
      expect(stored).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);

      const current = jar.get('127.0.0.1', 'sessionkit')!;
      const started = await fetch(`${base}/auth/logout?returnTo=/me`, {
        method: 'POST', redirect: 'manual',
        headers: { cookie: jar.header(base)!, origin: base, 'x-csrf-token': jar.get('127.0.0.1', 'sessionkit-csrf') ?? '' },
      });
      expect(started.status).toBe(303);
      expect(started.headers.get('clear-site-data')).toBeNull();
      const location = new URL(started.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(`${op.issuer}/session/end`);
      expect(location.searchParams.get('client_id')).toBe(`${framework}-app`);
      expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${base}/auth/logout/callback`);
      expect(location.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
      expect(decodeJwt(location.searchParams.get('id_token_hint')!)).toMatchObject({ iss: op.issuer, sub: 'alice', sid: session.data.oidc.sid, aud: `${framework}-app` });
      jar.store(base, started);
      // The local session ended before the browser left.
      await expect(apps[framework].sessions.validate(current)).rejects.toMatchObject({ code: 'session_revoked' });
      expect(jar.get('127.0.0.1', 'sessionkit')).toBeUndefined();

      const back = await confirmSignOut(jar, await browse(jar, location.href));
      expect(back.path.some((u) => u.startsWith(`${base}/auth/logout/callback?`))).toBe(true);
      expect(back.url).toBe(`${base}/me`);
      expect(back.status).toBe(401);
      expect(jar.get('127.0.0.1', 'sessionkit-oidc-logout')).toBeUndefined();
      // The provider's session is gone: logging in again shows its sign-in page.
      const again = await browse(jar, `${base}/auth/login?returnTo=/me`);
      expect(new URL(again.url).origin).toBe(op.issuer);
      expect(again.text).toContain('id="login"');
    });

    it('refuses a logout return whose state does not match the logout this browser started', async () => {
      const base = apps[framework].base;
      const jar = new CookieJar();
      await loginThrough(jar, `${base}/auth/login?returnTo=/me`, 'bob', ACCOUNTS.bob!.password);
      const started = await fetch(`${base}/auth/logout`, {
        method: 'POST', redirect: 'manual', headers: { cookie: jar.header(base)!, origin: base, 'x-csrf-token': jar.get('127.0.0.1', 'sessionkit-csrf') ?? '', accept: 'application/json' },
      });
      expect(started.status).toBe(200);
      expect((await started.json() as { location: string }).location).toMatch(`${op.issuer}/session/end?`);
      jar.store(base, started);
      for (const query of ['?state=forged-state', '', '?state=']) {
        const res = await fetch(`${base}/auth/logout/callback${query}`, { headers: { cookie: jar.header(base) ?? '' }, redirect: 'manual' });
        expect({ query, status: res.status, error: (await res.json() as { error: string }).error }).toEqual({ query, status: 400, error: 'invalid_request' });
      }
      // Another browser (no logout-state cookie) cannot use a genuine state either.
      const genuine = new URL((await fetch(`${base}/auth/logout`, { method: 'POST', redirect: 'manual', headers: { accept: 'application/json' } }).then((r) => r.json() as Promise<{ location: string }>)).location).searchParams.get('state');
      const res = await fetch(`${base}/auth/logout/callback?state=${genuine}`, { redirect: 'manual' });
      expect(res.status).toBe(400);
    });

    it('refuses a logout returnTo that is not on the allow-list and keeps the session', async () => {
      const base = apps[framework].base;
      const jar = new CookieJar();
      await loginThrough(jar, `${base}/auth/login?returnTo=/me`, 'bob', ACCOUNTS.bob!.password);
      const res = await fetch(`${base}/auth/logout?returnTo=${encodeURIComponent('https://evil.example/')}`, {
        method: 'POST', redirect: 'manual', headers: { cookie: jar.header(base)!, origin: base, 'x-csrf-token': jar.get('127.0.0.1', 'sessionkit-csrf') ?? '' },
      });
      expect(res.status).toBe(400);
      expect((await me(jar)).status).toBe(200);
    });

    it('answers a malformed back-channel request with 400 invalid_request and no-store', async () => {
      const res = await fetch(`${apps[framework].base}/auth/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"logout_token":"x"}' });
      expect(res.status).toBe(400);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toMatchObject({ error: 'invalid_request' });
      const bad = await fetch(`${apps[framework].base}/auth/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'logout_token=a.b.c' });
      expect(bad.status).toBe(400);
    });
  });
});
