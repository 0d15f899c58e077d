import { createServer, IncomingMessage, request as httpRequest } from 'node:http';
import express, { type Request, type Response } from 'express';
import { describe, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { memoryStore } from '../../src/stores/memory.js';
import request from 'supertest';
import { SessionError } from '../../src/core/errors.js';
import { login, logout, logoutOtherDevices, renew, requireRole, requireSession, sendError, sessionErrors, sessionkit } from '../../src/http/adapters/express.js';
import { adapterSuite, type Reply } from './adapter-suite.js';

adapterSuite('express', async (sessions, http) => {
  const app = express();
  app.use(express.json());
  app.use(sessionkit({ sessions, ...http }));
  app.get('/public', (req, res) => { res.json({ userId: req.session?.userId ?? null }); });
  app.get('/me', requireSession(), (req, res) => { res.json({ userId: req.session!.userId, roles: req.session!.roles, ip: req.session!.device.ip }); });
  app.get('/admin', requireRole('admin'), (_req, res) => { res.json({ ok: true }); });
  app.post('/login', async (req: Request, res: Response) => {
    const issued = await login(res, { userId: req.body.userId, roles: req.body.roles });
    res.json({ sessionId: issued.session.id, csrfToken: issued.csrfToken });
  });
  app.post('/logout', async (_req, res) => { res.json({ revoked: await logout(res) }); });
  app.post('/logout-others', requireSession(), async (_req, res) => { res.json({ revoked: await logoutOtherDevices(res) }); });
  app.post('/renew', requireSession(), async (_req, res) => { const renewed = await renew(res); res.json({ sessionId: renewed.session.id, token: renewed.token }); });
  app.post('/write', requireSession(), (_req, res) => { res.json({ ok: true }); });
  app.get('/limited', (_req, res) => { sendError(res, new SessionError('rate_limited', 'slow down', { retryAfter: 30 })); });
  // The app's own parser runs after sessionkit peeked at the form: it must still get every byte.
  app.post('/form-echo', requireSession(), express.text({ type: () => true, limit: '1mb' }), (req, res) => { res.json({ received: req.body }); });
  app.use(sessionErrors());
  return {
    client: {
      async call(method, path, init = {}) {
        let req = request(app)[method.toLowerCase() as 'get'](path);
        for (const [k, v] of Object.entries(init.headers ?? {})) req = req.set(k, v);
        if (init.raw) req = req.set('content-type', init.raw.type);
        const res = init.raw ? await req.send(init.raw.data) : init.body === undefined ? await req : await req.send(init.body as object);
        const setCookie = res.headers['set-cookie'] as unknown as string[] | string | undefined;
        const reply: Reply = {
          status: res.status,
          header: (name) => res.headers[name.toLowerCase()] as string | undefined,
          cookies: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie],
          body: (res.body ?? {}) as Record<string, unknown>,
        };
        return reply;
      },
    },
    close: async () => { await sessions.close(); },
  };
});

describe('express adapter request state', () => {
  it('keeps its state in one request property; req.session and req.sessionToken read and write it', async () => {
    const sessions = createSessionManager({ store: memoryStore() });
    const app = express();
    const before: string[][] = [];
    app.use((req, _res, next) => { before.push(Object.getOwnPropertyNames(req)); next(); });
    app.use(sessionkit({ sessions, insecureCookies: true, warn: () => {} }));
    app.post('/login', async (_req, res) => { await login(res, { userId: 'u-state' }); res.json({ ok: true }); });
    app.get('/me', requireSession(), (req, res) => {
      // Express adds `route` when it dispatches; everything else new is ours.
      const added = Object.getOwnPropertyNames(req).filter((n) => !before.at(-1)!.includes(n) && n !== 'route');
      const symbols = Object.getOwnPropertySymbols(req).filter((s) => s.description?.startsWith('sessionkit')).length;
      const token = req.sessionToken;
      req.session = null;
      res.json({ added, symbols, userId: (res.req as Request).session?.userId ?? 'cleared', token: typeof token === 'string' && token.length > 0 });
    });
    app.get('/plain', (req, res) => { res.json({ session: req.session, own: Object.hasOwn(req, 'session') }); });
    // A mounted sub-app gives req its own prototype: the session must still be there.
    const sub = express();
    sub.get('/me', (req, res) => { res.json({ userId: req.session?.userId ?? null }); });
    app.use('/sub', sub);
    const loggedIn = await request(app).post('/login').set('sec-fetch-site', 'same-origin');
    const cookie = (loggedIn.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
    const me = await request(app).get('/me').set('cookie', cookie);
    expect(me.status).toBe(200);
    // No own string property added, one symbol: the slot.
    expect(me.body).toEqual({ added: [], symbols: 1, userId: 'cleared', token: true });
    const plain = await request(app).get('/plain');
    expect(plain.body).toEqual({ session: null, own: false });
    expect((await request(app).get('/sub/me').set('cookie', cookie)).body).toEqual({ userId: 'u-state' });
    await sessions.close();
  });

  it('falls back to own properties on a request that is not an Express one', async () => {
    const sessions = createSessionManager({ store: memoryStore() });
    const { token } = await sessions.create({ userId: 'u-raw' });
    const middleware = sessionkit({ sessions, insecureCookies: true, warn: () => {} });
    const server = createServer((req, res) => {
      middleware(req as Request, res as unknown as Response, () => {
        const r = req as Request;
        res.end(JSON.stringify({ userId: r.session?.userId ?? null, own: Object.hasOwn(r, 'session'), token: r.sessionToken === token }));
      });
    });
    const reply = await request(server).get('/').set('authorization', `Bearer ${token}`);
    expect(JSON.parse(reply.text)).toEqual({ userId: 'u-raw', own: true, token: true });
    // Accessors were not installed on Node's own request prototype.
    expect(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'session')).toBeUndefined();
    await sessions.close();
  });

  it('sees headers an earlier middleware changed in req.headers', async () => {
    const sessions = createSessionManager({ store: memoryStore() });
    const { token } = await sessions.create({ userId: 'u-hdr' });
    const app = express();
    // A shim that turns a custom header into a Bearer token, as some apps do before their session layer.
    app.use((req, _res, next) => {
      const custom = req.headers['x-session'];
      if (typeof custom === 'string') req.headers.authorization = `Bearer ${custom}`;
      next();
    });
    app.use(sessionkit({ sessions, insecureCookies: true, warn: () => {} }));
    app.get('/me', requireSession(), (req, res) => { res.json({ userId: req.session!.userId }); });
    expect((await request(app).get('/me').set('x-session', token)).body).toEqual({ userId: 'u-hdr' });
    expect((await request(app).get('/me').set('authorization', `Bearer ${token}`)).body).toEqual({ userId: 'u-hdr' });
    expect((await request(app).get('/me')).status).toBe(401);
    await sessions.close();
  });
});

describe('express adapter and form bodies', () => {
  async function appWith(order: 'parser-first' | 'sessionkit-first') {
    const sessions = createSessionManager({ store: memoryStore() });
    const app = express();
    if (order === 'parser-first') app.use(express.urlencoded({ extended: false }));
    app.use(sessionkit({ sessions, insecureCookies: true, warn: () => {} }));
    if (order === 'sessionkit-first') app.use(express.urlencoded({ extended: false }));
    app.post('/note', requireSession(), (req, res) => { res.json({ body: req.body as unknown }); });
    app.use(sessionErrors());
    const issued = await sessions.create({ userId: 'u-form' });
    const csrf = await sessions.csrfToken(issued.session.id);
    return { app, sessions, cookie: `sessionkit=${issued.token}`, csrf };
  }

  it('reads _csrf from req.body when the app parses forms before sessionkit', async () => {
    const { app, sessions, cookie, csrf } = await appWith('parser-first');
    const res = await request(app).post('/note').set({ cookie, 'sec-fetch-site': 'same-origin' }).type('form').send({ note: 'hi', _csrf: csrf });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ body: { note: 'hi', _csrf: csrf } });
    await sessions.close();
  });

  it('finds _csrf in a body that arrives in several chunks and leaves the whole body to the app parser', async () => {
    const { app, sessions, cookie, csrf } = await appWith('sessionkit-first');
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const parts = ['note=first', '+part&filler=', 'y'.repeat(3000), `&_csrf=${csrf}`, '&after=1'];
    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1', port, method: 'POST', path: '/note',
        headers: { cookie, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      // One chunk per turn of the event loop, so the server sees them arrive one by one.
      const send = (i: number): void => {
        if (i === parts.length) { req.end(); return; }
        req.write(parts[i]);
        setImmediate(() => send(i + 1));
      };
      send(0);
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ body: { note: 'first part', filler: 'y'.repeat(3000), _csrf: csrf, after: '1' } });
    await new Promise((resolve) => server.close(resolve));
    await sessions.close();
  });
});
