// The Python login helpers (sessionkit.flask, sessionkit.fastapi) set and clear the same cookies as
// the Express adapter: clients/python/tests/login_cookies.py logs a user in and out of both Python
// example apps against the real service and prints the Set-Cookie headers it got (token values
// replaced by <token> / <csrf>); this file does the same login and logout with the Express adapter
// and compares every cookie's name, value kind and attributes, and the response headers.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import { memoryStore } from '../../src/stores/memory.js';
import { login, logout, requireSession, sessionErrors, sessionkit } from '../../src/http/adapters/express.js';
import { root, startService, type RunningService } from './service.js';

const ADMIN_KEY = `python-login-${randomBytes(24).toString('base64url')}`;
/** Both sides use the default absolute lifetime (8 h): Max-Age counts down from it. */
const LIFETIME_S = 8 * 3600;

type Attributes = Record<string, string | true>;
type Cookie = [name: string, value: string, attributes: Attributes];
interface Exchange { status: number; cookies: Cookie[]; cacheControl: string | null; clearSiteData: string | null }
interface Flow { login: Exchange; logout: Exchange }

/** `name=value; A=b; Flag` as [name, value, {a: 'b', flag: true}], as login_cookies.py parses it. */
function parseSetCookie(header: string): Cookie {
  const [pair = '', ...parts] = header.split(';').map((part) => part.trim());
  const at = pair.indexOf('=');
  const attributes: Attributes = {};
  for (const part of parts) {
    const eq = part.indexOf('=');
    attributes[(eq === -1 ? part : part.slice(0, eq)).toLowerCase()] = eq === -1 ? true : part.slice(eq + 1);
  }
  return [pair.slice(0, at), pair.slice(at + 1), attributes];
}

/** Max-Age counts down from the lifetime while the request runs: any value in the last minute of it reads `lifetime`. */
function normalise(flow: Flow): Flow {
  const exchange = (e: Exchange): Exchange => ({
    ...e,
    cookies: e.cookies.map(([name, value, attributes]) => {
      const maxAge = Number(attributes['max-age']);
      const lifetime = maxAge > LIFETIME_S - 60 && maxAge <= LIFETIME_S;
      return [name, value, lifetime ? { ...attributes, 'max-age': 'lifetime' } : attributes];
    }),
  });
  return { login: exchange(flow.login), logout: exchange(flow.logout) };
}

/** The Express adapter's login and logout of `alice`, described as login_cookies.py describes them. */
async function expressFlow(insecureCookies: boolean): Promise<Flow> {
  const sessions = createSessionManager({ store: memoryStore() });
  const app = express();
  app.use(sessionkit({ sessions, insecureCookies, warn: () => undefined }));
  let issued = { token: '', csrfToken: '' };
  app.post('/login', (_req, res, next) => {
    login(res, { userId: 'alice', roles: ['user'] }).then((i) => { issued = i; res.json({ userId: 'alice' }); }, next);
  });
  app.post('/logout', requireSession(), (_req, res, next) => {
    logout(res).then(() => res.json({ loggedOut: true }), next);
  });
  app.use(sessionErrors());
  const describeReply = (res: request.Response): Exchange => ({
    status: res.status,
    cookies: ([] as string[]).concat(res.headers['set-cookie'] ?? []).map((header) => {
      const [name, value, attributes] = parseSetCookie(header);
      const shown = value === '' ? '' : value === issued.token ? '<token>' : value === issued.csrfToken ? '<csrf>' : `unexpected value of ${name}`;
      return [name, shown, attributes];
    }),
    cacheControl: (res.headers['cache-control'] as string | undefined) ?? null,
    clearSiteData: (res.headers['clear-site-data'] as string | undefined) ?? null,
  });
  const loggedIn = describeReply(await request(app).post('/login').set('Sec-Fetch-Site', 'same-origin'));
  const cookieName = insecureCookies ? 'sessionkit' : '__Host-sessionkit';
  const loggedOut = describeReply(await request(app).post('/logout')
    .set('Cookie', `${cookieName}=${issued.token}; sessionkit-csrf=${issued.csrfToken}`)
    .set('X-CSRF-Token', issued.csrfToken).set('Sec-Fetch-Site', 'same-origin'));
  return { login: loggedIn, logout: loggedOut };
}

function pythonFlow(mode: 'secure' | 'insecure'): Promise<{ flask: Flow; fastapi: Flow }> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', ['clients/python/tests/login_cookies.py', mode], {
      cwd: root,
      env: { ...process.env, SESSIONKIT_URL: service.url, SESSIONKIT_API_KEY: ADMIN_KEY }, timeout: 60_000,
    }, (err, stdout, stderr) => {
      if (err) reject(new Error(`login_cookies.py ${mode} failed: ${stderr}`));
      else resolve(JSON.parse(stdout) as { flask: Flow; fastapi: Flow });
    });
  });
}

let service: RunningService;

beforeAll(async () => {
  service = await startService({ SESSIONKIT_STORE: 'memory:', SESSIONKIT_ADMIN_KEY: ADMIN_KEY, SESSIONKIT_LOG_LEVEL: 'warn' });
}, 60_000);

afterAll(async () => {
  await service?.stop();
});

describe('the Python login helpers and the Express adapter', () => {
  for (const insecure of [false, true]) {
    const mode = insecure ? 'insecure' : 'secure';
    it(`set and clear the same cookies with the same attributes (${mode} cookies), in Flask and FastAPI`, async () => {
      const [python, node] = await Promise.all([pythonFlow(mode), expressFlow(insecure)]);
      const expected = normalise(node);
      // The reference itself: what the Node adapters promise (README, docs/SECURITY.md V3.2.3).
      const [session, csrf] = expected.login.cookies;
      expect(session?.slice(0, 2)).toEqual([insecure ? 'sessionkit' : '__Host-sessionkit', '<token>']);
      expect(csrf?.slice(0, 2)).toEqual(['sessionkit-csrf', '<csrf>']);
      expect(session?.[2]).toMatchObject({ httponly: true, samesite: 'Lax', path: '/', 'max-age': 'lifetime' });
      // Off by default: it would clear every cookie of the registrable domain (issue 17).
      expect(expected.logout.clearSiteData).toBeNull();
      expect(normalise(python.flask)).toEqual(expected);
      expect(normalise(python.fastapi)).toEqual(expected);
    }, 60_000);
  }
});
