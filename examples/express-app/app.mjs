// The example app: sign-in, "your devices" (every session of the user), revoke one device, log
// out everywhere else (after asking for the password again when the last sign-in is more than
// five minutes old: "sudo mode"), log out. It uses sessionkit as any application would: through
// the package. Every action is a plain HTML form carrying the CSRF token in a hidden `_csrf`
// field, so the app works with JavaScript turned off; public/app.js only asks for the password
// in place instead of on a page of its own.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import { createSessionManager, isFresh, memoryStore } from 'sessionkit';
import { login, logout, logoutOtherDevices, csrfToken, reauthenticate, requireRecentAuth, requireSession, sessionErrors, sessionkit } from 'sessionkit/express';
import { devicesPage, loginPage, reauthPage } from './pages.mjs';
import { openUsers } from './users.mjs';

const here = new URL('.', import.meta.url).pathname;

/** The SQLite store when it is built, else the memory store (sessions then end with the process). */
async function openStore(dataDir) {
  if (existsSync(new URL('../../dist/stores/sqlite.js', import.meta.url))) {
    const { sqliteStore } = await import('sessionkit/stores/sqlite');
    return { store: sqliteStore({ path: join(dataDir, 'sessions.db') }), kind: 'sqlite' };
  }
  return { store: memoryStore(), kind: 'memory' };
}

/** How recent a sign-in "log out everywhere else" needs; older ones are asked for the password again. */
const SUDO_MAX_AGE = '5m';

/** The page's script asks for JSON; a plain form (JavaScript off) gets pages and redirects. */
function wantsJson(req) {
  return (req.get('accept') ?? '').startsWith('application/json');
}

/** The one action the password page may finish afterwards (a fixed list: never a URL from the query). */
function thenOf(value) {
  return value === 'revoke-others' ? 'revoke-others' : null;
}

/** The notice a redirect asked the devices page to show (fixed texts, only the count comes from the query). */
function noticeOf(query) {
  if (query.notice === 'revoked') return 'That device is signed out.';
  if (query.notice === 'others') {
    const n = Number.parseInt(String(query.n), 10);
    return Number.isSafeInteger(n) && n >= 0 ? `Signed out of ${n} other device${n === 1 ? '' : 's'}.` : 'Signed out of your other devices.';
  }
  return null;
}

/**
 * Builds the app. `insecureCookies` is for plain http://localhost only (the default here, since
 * the example serves HTTP); behind HTTPS leave it off and the cookie becomes __Host-sessionkit.
 * `now` is the sessions' clock (tests move it forward to make a sign-in old).
 */
export async function createExampleApp({ dataDir = join(here, '../../data/example-app'), insecureCookies = true, demoPassword = 'correct-horse-battery', warn, now } = {}) {
  mkdirSync(dataDir, { recursive: true });
  const users = openUsers(join(dataDir, 'users.db'));
  const demo = { id: 'u-demo', username: 'demo', password: demoPassword, displayName: 'Demo User' };
  await users.upsert(demo);
  const { store, kind } = await openStore(dataDir);
  const sessions = createSessionManager({ store, maxSessionsPerUser: 20, reauth: { maxAge: SUDO_MAX_AGE }, ...(now ? { now } : {}) });

  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    next();
  });
  app.use(express.static(join(here, 'public'), { index: false }));
  app.use(sessionkit({ sessions, insecureCookies, ...(warn ? { warn } : {}) }));
  // sessionkit reads the forms' `_csrf` field itself (the first 64 KiB of the body, given back
  // untouched), so this parser may come after it; put it before and sessionkit reads req.body.
  app.use(express.urlencoded({ extended: false, limit: '8kb' }));

  app.get('/', (req, res) => res.redirect(303, req.session ? '/devices' : '/login'));

  app.get('/login', (req, res) => {
    if (req.session) return res.redirect(303, '/devices');
    res.type('html').send(loginPage());
  });

  app.post('/login', async (req, res) => {
    const { username, password } = req.body ?? {};
    const user = await users.authenticate(username, password);
    if (!user) {
      res.status(401).type('html').send(loginPage({ error: 'Wrong username or password.', username }));
      return;
    }
    // login() creates a new session and revokes whatever session cookie came with the request.
    await login(res, { userId: user.id, roles: ['user'], authMethods: ['pwd'] });
    res.redirect(303, '/devices');
  });

  app.get('/devices', requireSession({ redirectTo: '/login' }), async (req, res) => {
    const user = users.get(req.session.userId);
    if (!user) {
      await logout(res);
      return res.redirect(303, '/login');
    }
    const list = await sessions.listForUser(user.id);
    list.sort((a, b) => (a.id === req.session.id ? -1 : b.id === req.session.id ? 1 : b.lastSeenAt - a.lastSeenAt));
    res.type('html').send(devicesPage({ user, sessions: list, currentId: req.session.id, csrfToken: await csrfToken(req), notice: noticeOf(req.query) }));
  });

  // A sensitive action: a sign-in older than SUDO_MAX_AGE must confirm the password first. The
  // page's script asks for JSON and gets 403 reauthentication_required (it shows the prompt in
  // place); a plain form is sent to the password page, which finishes the action.
  const sudo = requireRecentAuth({ maxAge: SUDO_MAX_AGE });
  const sudoRequirement = sessions.recentAuth({ maxAge: SUDO_MAX_AGE });
  app.post('/devices/revoke-others', requireSession(), (req, res, next) => {
    if (wantsJson(req)) return sudo(req, res, next);
    if (!isFresh(req.session, sudoRequirement, sessions.now())) return res.redirect(303, '/reauth?then=revoke-others');
    next();
  }, async (req, res) => {
    const revoked = await logoutOtherDevices(res);
    if (wantsJson(req)) return res.json({ revoked });
    res.redirect(303, `/devices?notice=others&n=${revoked}`);
  });

  app.get('/reauth', requireSession({ redirectTo: '/login' }), async (req, res) => {
    res.type('html').send(reauthPage({ csrfToken: await csrfToken(req), then: thenOf(req.query.then) }));
  });

  // "Confirm your password": the same check as sign-in, then the session records a fresh
  // authentication and gets a new token (the old one dies after a few seconds).
  app.post('/reauth', requireSession(), async (req, res) => {
    const user = users.get(req.session.userId);
    const checked = user ? await users.authenticate(user.username, req.body?.password) : null;
    if (!checked) {
      if (wantsJson(req)) return res.status(400).json({ error: 'wrong_password', message: 'That password is not right.' });
      res.status(400).type('html').send(reauthPage({ csrfToken: await csrfToken(req), then: thenOf(req.body?.then), error: 'That password is not right.' }));
      return;
    }
    await reauthenticate(res, { methods: ['pwd'] });
    if (wantsJson(req)) return res.json({ ok: true });
    // The form came from the action it interrupted: finish that action now.
    if (thenOf(req.body?.then) === 'revoke-others') return res.redirect(303, `/devices?notice=others&n=${await logoutOtherDevices(res)}`);
    res.redirect(303, '/devices');
  });

  app.post('/devices/:id/revoke', requireSession(), async (req, res) => {
    // Only the user's own sessions: an id from someone else's list is answered like an unknown one.
    const own = (await sessions.listForUser(req.session.userId)).some((s) => s.id === req.params.id);
    if (!own) return res.status(404).json({ error: 'not_found', message: 'no such session' });
    await sessions.revoke(req.params.id, { reason: 'logout', actor: req.session.userId });
    if (wantsJson(req)) return res.json({ revoked: true });
    res.redirect(303, '/devices?notice=revoked');
  });

  app.post('/logout', async (req, res) => {
    await logout(res);
    if (wantsJson(req)) return res.json({ ok: true });
    res.redirect(303, '/login');
  });

  app.use(sessionErrors());

  return {
    app, sessions, users, storeKind: kind, demo: { username: demo.username, password: demo.password },
    async close() {
      await sessions.close();
      users.close();
    },
  };
}
