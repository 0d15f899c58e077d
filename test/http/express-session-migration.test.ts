// The login flow of express-session's README, written once against express-session's API, run
// with express-session itself and with sessionkit's compat mode: only the middleware line differs.
import express, { type Request, type RequestHandler } from 'express';
import expressSession from 'express-session';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { memoryStore } from '../../src/stores/memory.js';
import { sessionkit } from '../../src/http/adapters/express.js';
import type { CompatSession } from '../../src/http/adapters/express-compat.js';

/** The session as the app sees it: express-session's shape, whichever middleware supplies it. */
const session = (req: Request) => req.session as unknown as CompatSession;

function appWith(sessionMiddleware: RequestHandler) {
  const app = express();
  app.use(sessionMiddleware);
  app.use(express.urlencoded({ extended: false }));
  app.get('/', (req, res) => {
    const user = session(req).user;
    res.send(user ? `hello ${String(user)}` : 'anonymous');
  });
  app.post('/login', (req, res, next) => {
    if (req.body.pass !== 'secret') {
      res.status(401).send('wrong password');
      return;
    }
    // regenerate the session, which is good practice to help guard against forms of session fixation
    session(req).regenerate((err) => {
      if (err) return next(err);
      session(req).user = req.body.user;
      session(req).save((saveErr) => (saveErr ? next(saveErr) : res.redirect('/')));
    });
  });
  app.post('/views', (req, res) => {
    // no save(): a modified session is saved before the response ends
    const views = Number(session(req).views ?? 0) + 1;
    session(req).views = views;
    res.json({ views, id: session(req).id });
  });
  app.post('/logout', (req, res, next) => {
    session(req).user = null;
    session(req).save((err) => {
      if (err) return next(err);
      session(req).regenerate((regenErr) => (regenErr ? next(regenErr) : res.redirect('/')));
    });
  });
  app.post('/destroy', (req, res, next) => {
    session(req).destroy((err) => (err ? next(err) : res.send('destroyed')));
  });
  return app;
}

function cookieOf(res: request.Response, name: string): string | undefined {
  const all = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  return all.find((c) => c.startsWith(`${name}=`))?.split(';')[0];
}

const flows: Array<[string, () => { app: express.Express; cookieName: string }]> = [
  ['express-session', () => ({
    app: appWith(expressSession({ secret: 'keyboard cat', resave: false, saveUninitialized: false }) as unknown as RequestHandler),
    cookieName: 'connect.sid',
  })],
  ['sessionkit with expressSessionCompat', () => ({
    app: appWith(sessionkit({ sessions: createSessionManager({ store: memoryStore() }), insecureCookies: true, expressSessionCompat: true, warn: () => {} })),
    cookieName: 'sessionkit',
  })],
];

for (const [label, make] of flows) {
  describe(`an express-session login flow on ${label}`, () => {
    it('logs in with regenerate + save, keeps data saved on response end, and logs out', async () => {
      const { app } = make();
      // A browser sends Sec-Fetch-Site on its own; sessionkit's origin check relies on it.
      const agent = request.agent(app).set('Sec-Fetch-Site', 'same-origin');
      expect((await agent.get('/')).text).toBe('anonymous');
      expect((await agent.post('/login').type('form').send({ user: 'alice', pass: 'nope' })).status).toBe(401);
      const login = await agent.post('/login').type('form').send({ user: 'alice', pass: 'secret' });
      expect(login.status).toBe(302);
      expect((await agent.get('/')).text).toBe('hello alice');
      const first = await agent.post('/views');
      const second = await agent.post('/views');
      expect([first.body.views, second.body.views]).toEqual([1, 2]);
      expect(second.body.id).toBe(first.body.id);
      expect((await agent.post('/logout')).status).toBe(302);
      expect((await agent.get('/')).text).toBe('anonymous');
    });

    it('destroy ends the session', async () => {
      const { app } = make();
      const agent = request.agent(app).set('Sec-Fetch-Site', 'same-origin');
      await agent.post('/login').type('form').send({ user: 'bob', pass: 'secret' });
      expect((await agent.get('/')).text).toBe('hello bob');
      expect((await agent.post('/destroy')).text).toBe('destroyed');
      expect((await agent.get('/')).text).toBe('anonymous');
    });

    it('regenerate on login gives a new session id, so a cookie captured before login is useless after', async () => {
      const { app, cookieName } = make();
      const agent = request.agent(app).set('Sec-Fetch-Site', 'same-origin');
      const before = await agent.post('/login').type('form').send({ user: 'carol', pass: 'secret' });
      const firstCookie = cookieOf(before, cookieName)!;
      await agent.post('/logout');
      const again = await agent.post('/login').type('form').send({ user: 'carol', pass: 'secret' });
      const secondCookie = cookieOf(again, cookieName)!;
      expect(secondCookie).toBeTruthy();
      expect(secondCookie).not.toBe(firstCookie);
      expect((await request(app).get('/').set('Cookie', firstCookie)).text).toBe('anonymous');
    });
  });
}

describe('sessionkit expressSessionCompat', () => {
  it('refuses a cross-site write even in compat mode (origin check)', async () => {
    const app = appWith(sessionkit({ sessions: createSessionManager({ store: memoryStore() }), insecureCookies: true, expressSessionCompat: true, warn: () => {} }));
    const agent = request.agent(app).set('Sec-Fetch-Site', 'same-origin');
    await agent.post('/login').type('form').send({ user: 'dave', pass: 'secret' });
    const res = await agent.post('/destroy').set('Sec-Fetch-Site', 'cross-site');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('csrf_failed');
    expect((await agent.get('/')).text).toBe('hello dave');
  });
});
