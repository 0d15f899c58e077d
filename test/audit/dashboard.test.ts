// The dashboard sign-in in-process: the secure cookie by default, the end of a dashboard session
// when its API key is revoked, and assets that are complete, self-contained scripts served as
// the files of src/server/dashboard/client/ are.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createApiKey, revokeApiKey } from '../../src/server/api-keys.js';
import { ASSETS } from '../../src/server/dashboard/assets.js';
import { escapeHtml } from '../../src/server/dashboard/page.js';
import { buildServer } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { ADMIN_KEY } from './helpers.js';

describe('dashboard sign-in', () => {
  it('uses a __Host- cookie with Secure, HttpOnly and SameSite=Strict unless insecureCookies is on', async () => {
    const app = await buildServer(loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--log-level', 'silent', '--sweep-interval', '0'] }));
    const res = await app.inject({ method: 'POST', url: '/dashboard/login', headers: { 'x-api-key': ADMIN_KEY, origin: 'http://localhost', host: 'localhost' } });
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-sessionkit-dashboard=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    const page = await app.inject({ method: 'GET', url: '/dashboard', headers: { cookie: cookie.split(';')[0]! } });
    expect(page.body).toContain('id="active-count"');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['x-frame-options']).toBe('DENY');
    await app.close();
  });

  it('ends the dashboard session when the API key it signed in with is revoked', async () => {
    const store = memoryStore();
    const key = await createApiKey(store, { name: 'ops <b>', scopes: ['admin'] });
    const app = await buildServer(loadConfig({ env: {}, argv: ['--store', 'memory:', '--insecure-cookies', '--log-level', 'silent', '--sweep-interval', '0'] }), { store });
    const login = await app.inject({ method: 'POST', url: '/dashboard/login', headers: { 'x-api-key': key.key, 'sec-fetch-site': 'same-origin' } });
    expect(login.statusCode).toBe(200);
    const cookie = { cookie: String(login.headers['set-cookie']).split(';')[0]! };
    const page = await app.inject({ method: 'GET', url: '/dashboard', headers: cookie });
    // The key's name is shown escaped.
    expect(page.body).toContain('“ops &lt;b&gt;”');
    expect((await app.inject({ method: 'GET', url: '/v1/stats', headers: cookie })).statusCode).toBe(200);
    await revokeApiKey(store, key.id);
    const after = await app.inject({ method: 'GET', url: '/v1/stats', headers: cookie });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ error: 'token_invalid' });
    expect((await app.inject({ method: 'GET', url: '/dashboard', headers: cookie })).body).toContain('id="login-form"');
    // A made-up cookie is refused the same way, and counts as a failed attempt.
    const forged = await app.inject({ method: 'GET', url: '/v1/stats', headers: { cookie: `sessionkit-dashboard=${'A'.repeat(22)}.${'B'.repeat(43)}` } });
    expect(forged.statusCode).toBe(401);
    await app.close();
  });
});

describe('dashboard assets', () => {
  it('are complete scripts and styles that load nothing from another origin', () => {
    for (const name of ['app.js', 'login.js'] as const) expect(() => new Script(ASSETS[name].body, { filename: name })).not.toThrow();
    for (const asset of Object.values(ASSETS)) {
      expect(asset.body).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
      expect(asset.body).not.toMatch(/innerHTML|eval\(|new Function/);
    }
    expect(ASSETS['app.css'].body).toMatch(/@media \(max-width: 600px\)/);
  });

  it('are the files of src/server/dashboard/client, served with an ETag of their content', async () => {
    const app = await buildServer(loadConfig({ env: {}, argv: ['--store', 'memory:', '--log-level', 'silent', '--sweep-interval', '0'] }));
    const page = await app.inject({ method: 'GET', url: '/dashboard' });
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'; style-src 'self'/);
    for (const name of Object.keys(ASSETS) as (keyof typeof ASSETS)[]) {
      const file = readFileSync(new URL(`../../src/server/dashboard/client/${name}`, import.meta.url), 'utf8');
      const etag = `"${createHash('sha256').update(file).digest('base64url').slice(0, 22)}"`;
      const res = await app.inject({ method: 'GET', url: `/dashboard/assets/${name}` });
      expect(res.statusCode, name).toBe(200);
      expect(res.body, name).toBe(file);
      expect(res.headers.etag, name).toBe(etag);
      expect(res.headers['content-type'], name).toBe(ASSETS[name].type);
      expect((await app.inject({ method: 'GET', url: `/dashboard/assets/${name}`, headers: { 'if-none-match': etag } })).statusCode, name).toBe(304);
    }
    await app.close();
  });

  it('escapes text for HTML', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});
