// passport 0.7 + passport-local + connect-flash, unmodified from node_modules, on Express 5: one app,
// written as their READMEs say, run once on express-session (the control, MemoryStore with
// saveUninitialized: false) and once on sessionkit's express-session compat mode. The scenario
// functions are shared: only the session middleware line differs.
import express, { type Request, type RequestHandler } from 'express';
import expressSession from 'express-session';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
// @ts-expect-error connect-flash ships no type declarations
import flash from 'connect-flash';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { memoryAudit } from '../../src/audit/sink.js';
import { createSessionManager, type SessionManager } from '../../src/core/manager.js';
import { ANONYMOUS_USER_PREFIX, requireRole, requireSession, sessionErrors, sessionkit, type CompatOptions, type CompatSession } from '../../src/http/adapters/express.js';
import { memoryStore } from '../../src/stores/memory.js';

interface User { id: string; username: string; password: string }
const USERS = new Map<string, User>([
  ['alice', { id: 'u-alice', username: 'alice', password: 'wonderland' }],
  ['bob', { id: 'u-bob', username: 'bob', password: 'builder' }],
]);
const BY_ID = new Map([...USERS.values()].map((u) => [u.id, u]));
const EIGHT_HOURS = 8 * 60 * 60 * 1000;

/** What serializeUser stores: the id (passport's README), an object with the id, or something else. */
type Serializer = 'id' | 'object' | 'number' | 'no-id';

const session = (req: Request) => req.session as unknown as CompatSession;

function passportApp(sessionMiddleware: RequestHandler, serializer: Serializer = 'id') {
  const pp = new passport.Passport();
  pp.use(new LocalStrategy((username, password, done) => {
    const user = USERS.get(username);
    if (!user || user.password !== password) return done(null, false, { message: 'Incorrect username or password.' });
    return done(null, user);
  }));
  pp.serializeUser((user, done) => {
    const u = user as User;
    if (serializer === 'id') done(null, u.id);
    else if (serializer === 'object') done(null, { id: u.id, username: u.username });
    else if (serializer === 'number') done(null, 42);
    else done(null, { username: u.username });
  });
  pp.deserializeUser((stored: unknown, done) => {
    const id = typeof stored === 'string' ? stored : typeof stored === 'number' ? 'u-alice' : (stored as { id?: string }).id;
    done(null, (id !== undefined && BY_ID.get(id)) || false);
  });

  const app = express();
  app.use(sessionMiddleware);
  app.use(express.urlencoded({ extended: false }));
  app.use(flash());
  app.use(pp.initialize());
  app.use(pp.session());
  app.get('/whoami', (req, res) => {
    const s = session(req);
    res.json({ user: (req.user as User | undefined)?.username ?? null, sessionID: req.sessionID, cart: s.cart ?? null, note: s.note ?? null });
  });
  app.get('/login', (req, res) => {
    res.json({ messages: (req as unknown as { flash(type: string): string[] }).flash('error') });
  });
  app.post('/login', pp.authenticate('local', { successRedirect: '/whoami', failureRedirect: '/login', failureFlash: true }));
  app.post('/logout', (req, res, next) => {
    req.logout((err) => (err ? next(err) : res.redirect('/whoami')));
  });
  app.post('/cart', (req, res) => {
    const s = session(req);
    s.cart = [...((s.cart as string[] | undefined) ?? []), String(req.body.item)];
    res.json({ cart: s.cart });
  });
  app.post('/note', (req, res, next) => {
    session(req).note = String(req.body.note);
    session(req).save((err) => (err ? next(err) : res.json({ sessionID: req.sessionID })));
  });
  app.post('/reload', (req, res, next) => {
    session(req).note = 'not saved';
    session(req).reload((err) => (err ? next(err) : res.json({ note: session(req).note ?? null })));
  });
  app.post('/regenerate', (req, res, next) => {
    const before = req.sessionID;
    session(req).regenerate((err) => (err ? next(err) : res.json({ before, after: req.sessionID, note: session(req).note ?? null })));
  });
  app.post('/destroy', (req, res, next) => {
    session(req).destroy((err) => (err ? next(err) : res.json({ gone: req.session === undefined })));
  });
  app.get('/cookie', (req, res) => {
    session(req).touch();
    const { cookie } = session(req) as unknown as { cookie: { maxAge: number; originalMaxAge: number; expires: Date; httpOnly: boolean } };
    res.json({ maxAge: cookie.maxAge, originalMaxAge: cookie.originalMaxAge, expires: cookie.expires, httpOnly: cookie.httpOnly });
  });
  app.get('/private', requireSession(), (_req, res) => {
    res.json({ ok: true });
  });
  app.use(sessionErrors());
  return app;
}

interface Subject {
  label: string;
  cookieName: string;
  make(serializer?: Serializer): express.Express;
}

const expressSessionSubject: Subject = {
  label: 'express-session (control)',
  cookieName: 'connect.sid',
  make: (serializer) => passportApp(expressSession({
    secret: 'keyboard cat', resave: false, saveUninitialized: false, cookie: { maxAge: EIGHT_HOURS },
  }) as unknown as RequestHandler, serializer),
};

function sessionkitSetup(compat: CompatOptions | true = true, extra: { clearSiteData?: boolean } = {}) {
  const audit = memoryAudit();
  const sessions = createSessionManager({ store: memoryStore(), audit, secret: 'p'.repeat(32) });
  const middleware = sessionkit({ sessions, insecureCookies: true, expressSessionCompat: compat, warn: () => {}, ...extra });
  return { sessions, audit, middleware };
}

const sessionkitSubject: Subject = {
  label: 'sessionkit expressSessionCompat',
  cookieName: 'sessionkit',
  make: (serializer) => passportApp(sessionkitSetup().middleware, serializer),
};

/** A browser: a cookie jar, and the Sec-Fetch-Site header browsers add to same-origin requests. */
const browser = (app: express.Express) => request.agent(app).set('Sec-Fetch-Site', 'same-origin');

function cookieOf(res: request.Response, name: string): string | undefined {
  const all = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  return all.filter((c) => c.startsWith(`${name}=`)).pop()?.split(';')[0];
}

const login = (agent: ReturnType<typeof browser>, username = 'alice', password = 'wonderland') =>
  agent.post('/login').type('form').send({ username, password });

function scenarios(subject: Subject, serializer: Serializer): void {
  describe(`passport + connect-flash on ${subject.label}, serializeUser gives ${serializer === 'id' ? 'the id' : 'an object with the id'}`, () => {
    it('shows the flash message of a failed login after the redirect, once', async () => {
      const agent = browser(subject.make(serializer));
      const failed = await login(agent, 'alice', 'wrong');
      expect(failed.status).toBe(302);
      expect(failed.headers.location).toBe('/login');
      expect((await agent.get('/login')).body.messages).toEqual(['Incorrect username or password.']);
      expect((await agent.get('/login')).body.messages).toEqual([]);
    });

    it('keeps a login across requests, with a session id that is stable and changes at login (no fixation)', async () => {
      const app = subject.make(serializer);
      const agent = browser(app);
      const cart = await agent.post('/cart').type('form').send({ item: 'apple' });
      const preLoginCookie = cookieOf(cart, subject.cookieName)!;
      expect(preLoginCookie).toBeTruthy();
      const before = [(await agent.get('/whoami')).body, (await agent.get('/whoami')).body];
      expect(before[0]).toMatchObject({ user: null, cart: ['apple'] });
      expect(before[1].sessionID).toBe(before[0].sessionID);

      const res = await login(agent);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/whoami');
      const after = [(await agent.get('/whoami')).body, (await agent.get('/whoami')).body];
      expect(after[0].user).toBe('alice');
      expect(after[1].user).toBe('alice');
      expect(after[1].sessionID).toBe(after[0].sessionID);
      expect(after[0].sessionID).not.toBe(before[0].sessionID);

      // The cookie from before the login is worth nothing now: no user, none of its old data.
      const replay = await request(app).get('/whoami').set('Cookie', preLoginCookie);
      expect(replay.body).toMatchObject({ user: null, cart: null });
    });

    it('logs out: the next request is anonymous and the logged-in cookie no longer works', async () => {
      const app = subject.make(serializer);
      const agent = browser(app);
      const loggedIn = cookieOf(await login(agent), subject.cookieName)!;
      expect((await agent.get('/whoami')).body.user).toBe('alice');
      const out = await agent.post('/logout');
      expect(out.status).toBe(302);
      expect((await agent.get('/whoami')).body.user).toBe(null);
      expect((await request(app).get('/whoami').set('Cookie', loggedIn)).body.user).toBe(null);
      expect((await login(agent, 'bob', 'builder')).status).toBe(302);
      expect((await agent.get('/whoami')).body.user).toBe('bob');
    });

    it('save persists at once, reload reads the stored data back, regenerate starts empty, destroy ends the session', async () => {
      const agent = browser(subject.make(serializer));
      const saved = (await agent.post('/note').type('form').send({ note: 'first' })).body;
      expect((await agent.get('/whoami')).body).toMatchObject({ note: 'first', sessionID: saved.sessionID });
      expect((await agent.post('/reload')).body.note).toBe('first');
      expect((await agent.get('/whoami')).body.note).toBe('first');
      const regenerated = (await agent.post('/regenerate')).body;
      expect(regenerated.before).toBe(saved.sessionID);
      expect(regenerated.after).not.toBe(saved.sessionID);
      expect(regenerated.note).toBe(null);
      expect((await agent.get('/whoami')).body.note).toBe(null);
      await agent.post('/note').type('form').send({ note: 'second' });
      expect((await agent.get('/whoami')).body.note).toBe('second');
      expect((await agent.post('/destroy')).body.gone).toBe(true);
      expect((await agent.get('/whoami')).body.note).toBe(null);
    });

    it('reports cookie.maxAge as the time the session cookie has left, and touch() keeps it', async () => {
      const agent = browser(subject.make(serializer));
      await login(agent);
      const { body } = await agent.get('/cookie');
      expect(body.maxAge).toBeGreaterThan(EIGHT_HOURS - 60_000);
      expect(body.maxAge).toBeLessThanOrEqual(EIGHT_HOURS);
      expect(body.originalMaxAge).toBe(EIGHT_HOURS);
      expect(Date.parse(body.expires)).toBeGreaterThan(Date.now());
      expect(body.httpOnly).toBe(true);
      expect((await agent.get('/whoami')).body.user).toBe('alice');
    });
  });
}

for (const subject of [expressSessionSubject, sessionkitSubject]) {
  for (const serializer of ['id', 'object'] as const) scenarios(subject, serializer);
}

/** The session cookie's token in a response, for looking at what the store holds. */
function tokenOf(res: request.Response): string {
  return cookieOf(res, 'sessionkit')!.slice('sessionkit='.length);
}

async function sessionOf(sessions: SessionManager, token: string) {
  return sessions.validate(token).catch((err: { code: string }) => err.code);
}

describe('passport on sessionkit: what the store holds', () => {
  it('stores a failed login\'s flash as an anonymous session of its own pseudo-user, revoked when the user logs in', async () => {
    const { sessions, audit, middleware } = sessionkitSetup();
    const agent = browser(passportApp(middleware));
    const failed = await login(agent, 'alice', 'wrong');
    const anonymous = await sessions.validate(tokenOf(failed));
    expect(anonymous.userId.startsWith(ANONYMOUS_USER_PREFIX)).toBe(true);
    expect(anonymous.data).toEqual({ flash: { error: ['Incorrect username or password.'] } });
    expect(await sessions.listForUser(anonymous.userId)).toHaveLength(1);

    const loggedIn = await login(agent);
    expect(await sessionOf(sessions, tokenOf(failed))).toBe('session_revoked');
    const [user] = await sessions.listForUser('u-alice');
    expect(user!.data).toEqual({ passport: { user: 'u-alice' } });
    expect((await sessions.validate(tokenOf(loggedIn))).id).toBe(user!.id);
    expect(audit.events.filter((e) => e.type === 'session.revoked').map((e) => [e.userId, e.reason])).toEqual([[anonymous.userId, 'replaced']]);
  });

  it('creates nothing for a visitor whose session stays empty, and no anonymous session at logout', async () => {
    const { audit, middleware } = sessionkitSetup();
    const agent = browser(passportApp(middleware));
    const visit = await agent.get('/whoami');
    expect(visit.headers['set-cookie']).toBeUndefined();
    await login(agent);
    const out = await agent.post('/logout');
    expect(audit.events.filter((e) => e.type === 'session.created').map((e) => e.userId)).toEqual(['u-alice']);
    expect(audit.events.filter((e) => e.type === 'session.revoked').map((e) => [e.userId, e.reason])).toEqual([['u-alice', 'logout']]);
    expect(out.headers['set-cookie']?.[0]).toMatch(/^sessionkit=;/);
    expect(out.headers['clear-site-data']).toBeUndefined();
  });

  it('sends Clear-Site-Data on a passport logout only with clearSiteData, never on the login that follows a regenerate', async () => {
    const { middleware } = sessionkitSetup(true, { clearSiteData: true });
    const agent = browser(passportApp(middleware));
    await agent.post('/cart').type('form').send({ item: 'pear' });
    const loggedIn = await login(agent);
    expect(loggedIn.headers['clear-site-data']).toBeUndefined();
    expect((await agent.post('/logout')).headers['clear-site-data']).toBe('"cookies"');
  });

  it('takes a number from serializeUser as the user id', async () => {
    const { sessions, middleware } = sessionkitSetup();
    const agent = browser(passportApp(middleware, 'number'));
    await login(agent);
    expect(await sessions.listForUser('42')).toHaveLength(1);
    expect((await agent.get('/whoami')).body.user).toBe('alice');
  });

  it('refuses a serializeUser object without an id with a clear 400, and takes userIdOf instead', async () => {
    const refused = await login(browser(passportApp(sessionkitSetup().middleware, 'no-id')));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_request');
    expect(refused.body.message).toMatch(/passport\.user.*userIdOf/);

    const { sessions, middleware } = sessionkitSetup({ userIdOf: (data) => (data.passport as { user?: { username?: string } } | undefined)?.user?.username });
    const agent = browser(passportApp(middleware, 'no-id'));
    expect((await login(agent)).status).toBe(302);
    expect(await sessions.listForUser('alice')).toHaveLength(1);
  });

  it('refuses a user id in the anonymous sessions\' namespace', async () => {
    const { middleware } = sessionkitSetup({ userIdOf: () => `${ANONYMOUS_USER_PREFIX}mallory` });
    const res = await login(browser(passportApp(middleware)));
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/anonymous/);
  });

  it('answers requireSession() with 401 for an anonymous session: only a user\'s session counts', async () => {
    const { middleware } = sessionkitSetup();
    const agent = browser(passportApp(middleware));
    await agent.post('/cart').type('form').send({ item: 'plum' });
    expect((await agent.get('/private')).status).toBe(401);
    await login(agent);
    expect((await agent.get('/private')).status).toBe(200);
  });

  it('lets requireRole() read the roles of the session, not of the express-session bag', async () => {
    const { middleware } = sessionkitSetup();
    const app = express();
    app.use(middleware);
    app.post('/sign-in', (req, res) => {
      Object.assign(session(req), { userId: 'u-dana', roles: ['admin'] });
      res.end();
    });
    app.post('/forget-roles', (req, res) => {
      delete session(req).roles;
      res.end();
    });
    app.get('/admin', requireRole('admin'), (_req, res) => {
      res.json({ ok: true });
    });
    const agent = browser(app);
    await agent.post('/sign-in');
    expect((await agent.get('/admin')).status).toBe(200);
    await agent.post('/forget-roles');
    expect((await agent.get('/admin')).status).toBe(200);
  });

  it('keeps a stored "__proto__" key as data, never as the bag\'s prototype', async () => {
    const { sessions, middleware } = sessionkitSetup();
    const app = passportApp(middleware);
    const agent = browser(app);
    const token = tokenOf(await agent.post('/cart').type('form').send({ item: 'fig' }));
    const stored = await sessions.validate(token);
    await sessions.update(stored.id, { data: JSON.parse('{"__proto__": {"note": "polluted"}, "cart": ["fig"]}') as Record<string, unknown> });
    expect((await agent.get('/whoami')).body).toMatchObject({ note: null, cart: ['fig'] });
    await agent.post('/cart').type('form').send({ item: 'kiwi' });
    const after = await sessions.validate(token);
    expect(Object.prototype.hasOwnProperty.call(after.data, '__proto__')).toBe(true);
    expect(after.data.cart).toEqual(['fig', 'kiwi']);
    expect(({} as { note?: unknown }).note).toBeUndefined();
  });

  it('gives a login without regenerate() a new session too, revoking the anonymous one and keeping the bag\'s data', async () => {
    const { sessions, middleware } = sessionkitSetup();
    const app = express();
    app.use(middleware);
    app.get('/id', (req, res) => {
      res.json({ sessionID: req.sessionID });
    });
    app.post('/cart', (req, res) => {
      session(req).cart = ['apple'];
      res.end();
    });
    app.post('/sign-in', (req, res) => {
      session(req).userId = 'u-carol';
      res.end();
    });
    const agent = browser(app);
    const cart = await agent.post('/cart');
    const anonymousId = (await agent.get('/id')).body.sessionID;
    await agent.post('/sign-in');
    const userId = (await agent.get('/id')).body.sessionID;
    expect(userId).not.toBe(anonymousId);
    expect(await sessionOf(sessions, tokenOf(cart))).toBe('session_revoked');
    const [carol] = await sessions.listForUser('u-carol');
    expect(carol).toMatchObject({ id: userId, data: { cart: ['apple'], userId: 'u-carol' } });
  });

  it('refuses to set cookie.maxAge with a clear 400: the lifetime is the session manager\'s', async () => {
    const { middleware } = sessionkitSetup();
    const app = express();
    app.use(middleware);
    app.post('/remember-me', (req, res) => {
      (session(req).cookie as { maxAge: number }).maxAge = 30 * 24 * 3600 * 1000;
      res.json({ ok: true });
    });
    app.use(sessionErrors());
    const res = await browser(app).post('/remember-me');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.message).toMatch(/cookie\.maxAge/);
  });

  it('answers a bag too large to store with 400 instead of losing it silently', async () => {
    const { middleware } = sessionkitSetup();
    const app = express();
    app.use(middleware);
    app.post('/big', (req, res) => {
      session(req).blob = 'x'.repeat(10_000);
      res.redirect('/somewhere');
    });
    const res = await browser(app).post('/big');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.headers.location).toBeUndefined();
  });
});
