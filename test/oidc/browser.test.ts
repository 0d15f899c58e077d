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
import { ACCOUNTS, startSsoService, type SsoService } from './helpers/setup.js';
import { eventuallyTrue } from './helpers/wait.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('single sign-on in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-oidc-browser-'));
  let sso: SsoService;
  let context: BrowserContext;
  let page: Page;
  const offLoopback: string[] = [];

  beforeAll(async () => {
    sso = await startSsoService();
    context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      offLoopback.push(url.href);
      return route.abort();
    });
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

  it('never left loopback', () => {
    expect(offLoopback).toEqual([]);
  });
});
