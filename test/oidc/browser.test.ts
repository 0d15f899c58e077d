// Single sign-on in Chromium (playwright-core, Debian's /usr/bin/chromium): the service's login
// sends the browser to oidc-provider, the user signs in on the provider's page, lands back on the
// service with a session; signing out at the provider makes it send a back-channel logout, after
// which the service refuses the session. Every request outside 127.0.0.1 is blocked and counted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcUserId } from '../../src/oidc/index.js';
import { ACCOUNTS, ADMIN_KEY, startSsoService, type SsoService } from './helpers/setup.js';
import { eventuallyTrue } from './helpers/wait.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('single sign-on in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-oidc-browser-'));
  let sso: SsoService;
  let context: BrowserContext;
  let page: Page;
  const offLoopback: string[] = [];
  const visited: string[] = [];

  beforeAll(async () => {
    sso = await startSsoService();
    context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      offLoopback.push(url.href);
      return route.abort();
    });
    // Every request, redirects included (a route handler does not see the hops of a redirect).
    context.on('request', (request) => { visited.push(request.url()); });
    page = context.pages()[0] ?? await context.newPage();
  });

  afterAll(async () => {
    await context?.close();
    await sso?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in through the provider\'s page and lands on returnTo with a session', async () => {
    const returnTo = `${sso.url}/v1/sessions/current`;
    await page.goto(`${sso.url}/v1/oidc/login?returnTo=${encodeURIComponent(returnTo)}`);
    expect(new URL(page.url()).origin).toBe(sso.op.issuer);
    await page.fill('#username', 'alice');
    await page.fill('#password', 'wrong');
    await page.click('#sign-in');
    await page.locator('#error').waitFor();
    await page.fill('#username', 'alice');
    await page.fill('#password', ACCOUNTS.alice!.password);
    await Promise.all([page.waitForURL(returnTo), page.click('#sign-in')]);
    const body = JSON.parse(await page.locator('body').innerText()) as { session: { userId: string; roles: string[]; data: { oidc: { sub: string } } } };
    expect(body.session).toMatchObject({ userId: oidcUserId(sso.op.issuer, 'alice'), data: { oidc: { sub: 'alice' } } });
    expect([...body.session.roles].sort()).toEqual(['admin', 'user']);
    const cookies = await context.cookies(sso.url);
    expect(cookies.find((c) => c.name === 'sessionkit')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(cookies.find((c) => c.name === 'sessionkit-oidc')).toBeUndefined();
  });

  it('refuses the session after the user signs out at the provider (back-channel logout)', async () => {
    const before = sso.op.backchannel.length;
    await page.goto(`${sso.op.issuer}/session/end`);
    await Promise.all([page.waitForSelector('#signed-out'), page.click('#logout-yes')]);
    await eventuallyTrue(() => sso.op.backchannel.length > before, 'the back-channel logout');
    expect(sso.op.backchannel.at(-1)).toMatchObject({ ok: true, sub: 'alice' });
    const response = await page.goto(`${sso.url}/v1/sessions/current`);
    expect(response?.status()).toBe(401);
    expect(JSON.parse(await page.locator('body').innerText())).toMatchObject({ error: 'session_revoked' });
  });

  it('logs out at the provider through RP-initiated logout, after which a new login asks for credentials again', async () => {
    const returnTo = `${sso.url}/v1/sessions/current`;
    const login = `${sso.url}/v1/oidc/login?returnTo=${encodeURIComponent(returnTo)}`;
    await page.goto(login);
    expect(new URL(page.url()).origin).toBe(sso.op.issuer);
    await page.fill('#username', 'alice');
    await page.fill('#password', ACCOUNTS.alice!.password);
    await Promise.all([page.waitForURL(returnTo), page.click('#sign-in')]);
    // The control: while the provider's session lives, a login goes straight through, no prompt.
    await page.goto(login);
    await page.waitForURL(returnTo);
    const session = (JSON.parse(await page.locator('body').innerText()) as { session: { id: string; data: { oidc: { sid: string } } } }).session;

    // The app's "Sign out" button: a same-origin script with the CSRF token, then a navigation.
    const location = await page.evaluate(async () => {
      const csrf = decodeURIComponent(/(?:^|; )sessionkit-csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
      const res = await fetch('/v1/oidc/logout?returnTo=/app/signed-out', { method: 'POST', headers: { 'x-csrf-token': csrf, accept: 'application/json' } });
      return ((await res.json()) as { location: string }).location;
    });
    expect((await context.cookies(sso.url)).find((c) => c.name === 'sessionkit')).toBeUndefined();
    await page.goto(location);
    await Promise.all([page.waitForURL(`${sso.url}/app/signed-out`), page.click('#logout-yes')]);
    const endSession = new URL(visited.find((u) => u.startsWith(`${sso.op.issuer}/session/end?`))!);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${sso.url}/v1/oidc/logout/callback`);
    expect(endSession.searchParams.get('id_token_hint')).toMatch(/^eyJ/);
    expect(visited.some((u) => u.startsWith(`${sso.url}/v1/oidc/logout/callback?state=`))).toBe(true);
    expect((await context.cookies(sso.url)).map((c) => c.name)).not.toContain('sessionkit-oidc-logout');
    const audit = await page.request.get(`${sso.url}/v1/audit?sessionId=${session.id}&type=session.revoked`, { headers: { 'x-api-key': ADMIN_KEY } });
    expect(((await audit.json()) as { events: { reason: string }[] }).events[0]).toMatchObject({ reason: 'logout' });

    // The provider's session ended too: a new login shows its sign-in page instead of signing in silently.
    await page.goto(login);
    expect(new URL(page.url()).origin).toBe(sso.op.issuer);
    await page.locator('#username').waitFor();
  });

  it('never left loopback', () => {
    expect(offLoopback).toEqual([]);
  });
});
