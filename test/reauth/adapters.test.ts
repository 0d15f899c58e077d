// requireRecentAuth and reauthenticate in every adapter (Express, Fastify, Hono), called in process:
// a fresh session passes, a stale one gets 403 reauthentication_required with maxAge and methods
// (audited), re-authenticating sets a rotated cookie and the old one dies after the renew grace.
import express, { type Request, type Response } from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createSessionManager, type SessionManager } from '../../src/core/manager.js';
import * as ex from '../../src/http/adapters/express.js';
import * as fa from '../../src/http/adapters/fastify.js';
import * as ho from '../../src/http/adapters/hono.js';
import { memoryStore } from '../../src/stores/memory.js';
import { fakeClock } from '../../src/testing/index.js';

const HOST = 'app.example.org';
const ORIGIN = `https://${HOST}`;
const MIN = 60_000;

interface Reply { status: number; header(name: string): string | undefined; cookies: string[]; body: Record<string, unknown> }
type Call = (method: string, path: string, init?: { headers?: Record<string, string>; body?: unknown }) => Promise<Reply>;
type LoginBody = { userId: string; roles: string[]; authMethods: string[] };

/**
 * Each adapter's app: POST /login (body LoginBody), GET /sensitive (requireRecentAuth 10m),
 * GET /totp (requireRecentAuth 1h with totp), POST /reauth { methods } (requireSession, reauthenticate).
 */
const apps: Record<string, (sessions: SessionManager) => Promise<Call>> = {
  async express(sessions) {
    const app = express();
    app.use(express.json());
    app.use(ex.sessionkit({ sessions }));
    app.post('/login', async (req: Request, res: Response) => {
      const issued = await ex.login(res, req.body as LoginBody);
      res.json({ sessionId: issued.session.id });
    });
    app.get('/sensitive', ex.requireRecentAuth({ maxAge: '10m' }), (_req, res) => { res.json({ ok: true }); });
    app.get('/totp', ex.requireRecentAuth({ maxAge: '1h', methods: ['totp'] }), (_req, res) => { res.json({ ok: true }); });
    app.post('/reauth', ex.requireSession(), async (req, res) => {
      const issued = await ex.reauthenticate(res, { methods: (req.body as { methods: string[] }).methods });
      res.json({ authMethods: issued.session.authMethods, same: req.sessionToken === ('token' in issued ? issued.token : null) });
    });
    app.use(ex.sessionErrors());
    return async (method, path, init = {}) => {
      let req = request(app)[method.toLowerCase() as 'get'](path);
      for (const [k, v] of Object.entries(init.headers ?? {})) req = req.set(k, v);
      const res = init.body === undefined ? await req : await req.send(init.body as object);
      const setCookie = res.headers['set-cookie'] as unknown as string[] | undefined;
      return { status: res.status, header: (n) => res.headers[n] as string | undefined, cookies: setCookie ?? [], body: res.body as Record<string, unknown> };
    };
  },
  async fastify(sessions) {
    const app = Fastify();
    await app.register(fa.sessionkitFastify, { sessions });
    app.post<{ Body: LoginBody }>('/login', async (req, reply) => ({ sessionId: (await fa.login(reply, req.body)).session.id }));
    app.get('/sensitive', { preHandler: app.requireRecentAuth({ maxAge: '10m' }) }, async () => ({ ok: true }));
    app.get('/totp', { preHandler: app.requireRecentAuth({ maxAge: '1h', methods: ['totp'] }) }, async () => ({ ok: true }));
    app.post<{ Body: { methods: string[] } }>('/reauth', { preHandler: app.requireSession }, async (req, reply) => {
      try {
        const issued = await fa.reauthenticate(reply, { methods: req.body.methods });
        return { authMethods: issued.session.authMethods, same: req.sessionToken === ('token' in issued ? issued.token : null) };
      } catch (err) {
        return fa.sendError(reply, err);
      }
    });
    await app.ready();
    return async (method, path, init = {}) => {
      const res = await app.inject({ method: method as 'GET', url: path, headers: init.headers ?? {}, ...(init.body === undefined ? {} : { payload: init.body as object }) });
      const setCookie = res.headers['set-cookie'];
      return {
        status: res.statusCode, header: (n) => res.headers[n] as string | undefined,
        cookies: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie], body: res.body ? JSON.parse(res.body) as Record<string, unknown> : {},
      };
    };
  },
  async hono(sessions) {
    const app = new Hono();
    app.use(ho.sessionkit({ sessions, remoteAddress: () => '127.0.0.1' }));
    app.onError((err, c) => ho.sendError(c, err));
    app.post('/login', async (c) => c.json({ sessionId: (await ho.login(c, await c.req.json<LoginBody>())).session.id }));
    app.get('/sensitive', ho.requireRecentAuth({ maxAge: '10m' }), (c) => c.json({ ok: true }));
    app.get('/totp', ho.requireRecentAuth({ maxAge: '1h', methods: ['totp'] }), (c) => c.json({ ok: true }));
    app.post('/reauth', ho.requireSession(), async (c) => {
      const issued = await ho.reauthenticate(c, { methods: (await c.req.json<{ methods: string[] }>()).methods });
      return c.json({ authMethods: issued.session.authMethods, same: c.get('sessionToken') === ('token' in issued ? issued.token : null) });
    });
    return async (method, path, init = {}) => {
      const headers = new Headers(init.headers ?? {});
      if (init.body !== undefined) headers.set('content-type', 'application/json');
      const res = await app.request(`${ORIGIN}${path}`, { method, headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
      const text = await res.text();
      return { status: res.status, header: (n) => res.headers.get(n) ?? undefined, cookies: res.headers.getSetCookie(), body: text ? JSON.parse(text) as Record<string, unknown> : {} };
    };
  },
};

function cookieValue(setCookies: string[], name: string): string | undefined {
  const found = setCookies.map((c) => c.split(';')[0]!).find((pair) => pair.startsWith(`${name}=`));
  return found === undefined ? undefined : decodeURIComponent(found.slice(name.length + 1));
}

for (const [label, makeApp] of Object.entries(apps)) {
  describe(`requireRecentAuth and reauthenticate with ${label}`, () => {
    async function setup() {
      const clock = fakeClock(Date.UTC(2026, 0, 1));
      const sessions = createSessionManager({
        store: memoryStore(), now: clock.now, secret: 'x'.repeat(32), renewGrace: '10s',
        reauth: { roles: { admin: { methods: ['totp'] } } },
      });
      const call = await makeApp(sessions);
      async function login(body: Partial<LoginBody> = {}) {
        const res = await call('POST', '/login', { headers: { host: HOST, origin: ORIGIN }, body: { userId: 'alice', roles: ['user'], authMethods: ['password'], ...body } });
        expect(res.status).toBe(200);
        const token = cookieValue(res.cookies, '__Host-sessionkit')!;
        const csrf = cookieValue(res.cookies, 'sessionkit-csrf')!;
        return { sessionId: res.body.sessionId as string, token, csrf, cookie: `__Host-sessionkit=${token}; sessionkit-csrf=${csrf}` };
      }
      return { clock, sessions, call, login };
    }

    it('lets a fresh session through and refuses a stale one with 403, maxAge and methods, audited', async () => {
      const { clock, sessions, call, login } = await setup();
      try {
        expect((await call('GET', '/sensitive', { headers: { host: HOST } })).status).toBe(401);
        const { cookie, token, sessionId } = await login();
        expect((await call('GET', '/sensitive', { headers: { cookie, host: HOST } })).status).toBe(200);
        clock.advance(10 * MIN + 1);
        const stale = await call('GET', '/sensitive', { headers: { authorization: `Bearer ${token}`, host: HOST } });
        expect(stale.status).toBe(403);
        expect(stale.body).toEqual({ error: 'reauthentication_required', message: expect.any(String), maxAge: 600, methods: [] });
        expect(stale.header('www-authenticate')).toBeUndefined();
        expect(stale.header('cache-control')).toBe('no-store');
        const trail = await sessions.store.queryAudit({ sessionId, type: 'session.rejected' });
        expect(trail).toEqual([expect.objectContaining({ reason: 'reauthentication_required', detail: 'age', tokenFingerprint: expect.any(String) })]);
        // A live but stale session is still a session: other routes are unaffected.
        expect((await sessions.validate(token)).id).toBe(sessionId);
      } finally {
        await sessions.close();
      }
    });

    it('refuses a session without a required method, and role rules add methods', async () => {
      const { sessions, call, login } = await setup();
      try {
        const user = await login();
        const totp = await call('GET', '/totp', { headers: { cookie: user.cookie, host: HOST } });
        expect(totp.status).toBe(403);
        expect(totp.body).toMatchObject({ error: 'reauthentication_required', maxAge: 3600, methods: ['totp'] });
        const admin = await login({ userId: 'root', roles: ['admin'] });
        const refused = await call('GET', '/sensitive', { headers: { cookie: admin.cookie, host: HOST } });
        expect(refused.body).toMatchObject({ error: 'reauthentication_required', maxAge: 600, methods: ['totp'] });
        const strong = await login({ userId: 'root', roles: ['admin'], authMethods: ['password', 'totp'] });
        expect((await call('GET', '/sensitive', { headers: { cookie: strong.cookie, host: HOST } })).status).toBe(200);
      } finally {
        await sessions.close();
      }
    });

    it('re-authenticates: a rotated cookie that is fresh again, the old cookie working only for the renew grace', async () => {
      const { clock, sessions, call, login } = await setup();
      try {
        const first = await login();
        clock.advance(30 * MIN - 1);
        // A cookie-authenticated write: CSRF applies as to any other write.
        expect((await call('POST', '/reauth', { headers: { cookie: first.cookie, host: HOST, origin: ORIGIN }, body: { methods: ['password', 'totp'] } })).status).toBe(403);
        const res = await call('POST', '/reauth', { headers: { cookie: first.cookie, host: HOST, origin: ORIGIN, 'x-csrf-token': first.csrf }, body: { methods: ['password', 'totp'] } });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ authMethods: ['password', 'totp'], same: true });
        const token = cookieValue(res.cookies, '__Host-sessionkit')!;
        expect(token).toBeDefined();
        expect(token).not.toBe(first.token);
        expect(cookieValue(res.cookies, 'sessionkit-csrf')).toBe(first.csrf);
        const cookie = `__Host-sessionkit=${token}`;
        expect((await call('GET', '/totp', { headers: { cookie, host: HOST } })).status).toBe(200);
        clock.advance(9_000);
        expect((await call('GET', '/totp', { headers: { cookie: first.cookie, host: HOST } })).status).toBe(200);
        clock.advance(1_000);
        const old = await call('GET', '/totp', { headers: { cookie: first.cookie, host: HOST } });
        expect(old.status).toBe(401);
        expect(old.body.error).toBe('token_invalid');
        expect((await call('GET', '/totp', { headers: { cookie, host: HOST } })).status).toBe(200);
        const trail = await sessions.store.queryAudit({ sessionId: first.sessionId, type: 'session.reauthenticated' });
        expect(trail).toEqual([expect.objectContaining({ detail: 'password,totp', ip: '127.0.0.1' })]);
        // Bad methods are the caller's error, not a crash.
        const bad = await call('POST', '/reauth', { headers: { authorization: `Bearer ${token}`, host: HOST }, body: { methods: [] } });
        expect(bad.status).toBe(400);
        expect(bad.body.error).toBe('invalid_request');
      } finally {
        await sessions.close();
      }
    });
  });
}

describe('requireRecentAuth options', () => {
  it('are checked when the middleware is built', () => {
    expect(() => ex.requireRecentAuth({ maxAge: 'soon' })).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    expect(() => ho.requireRecentAuth({ methods: 'totp' as never })).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
});
