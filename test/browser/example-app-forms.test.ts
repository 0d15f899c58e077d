// The example app with JavaScript turned off (issue 20, item 2), in real Chromium: every action is
// a plain HTML form whose CSRF token travels in the hidden `_csrf` field. Sign in, see the devices,
// log out, sign in again, revoke another device, and log out everywhere else through the password
// page once the sign-in is old.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface Example {
  app: { listen(port: number, host: string, cb: () => void): Server };
  demo: { username: string; password: string };
  close(): Promise<void>;
}

describe('the example app in Chromium with JavaScript turned off', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-example-forms-'));
  let example: Example;
  let server: Server;
  let base: string;
  let browser: Browser;
  let clockOffset = 0;
  /** Every answer of 400 or more the browser got, besides the ones a step expects. */
  const failures: string[] = [];

  /** One device: a browser context with JavaScript disabled and its own cookie jar. */
  async function device(): Promise<Page> {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    page.on('response', (res) => {
      if (res.status() >= 400 && !res.url().endsWith('/reauth')) failures.push(`${res.status()} ${res.request().method()} ${res.url()}`);
    });
    return page;
  }

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${base}/login`);
    await page.fill('input[name="username"]', example.demo.username);
    await page.fill('input[name="password"]', example.demo.password);
    await Promise.all([page.waitForURL(`${base}/devices`), page.click('#login-form button[type="submit"]')]);
  }

  const rows = (page: Page) => page.locator('#devices tbody tr').count();
  const sessionCookie = async (page: Page) => (await page.context().cookies(base)).find((c) => c.name === 'sessionkit');

  beforeAll(async () => {
    const modulePath = pathToFileURL(join(process.cwd(), 'examples/express-app/app.mjs')).href;
    const { createExampleApp } = await import(modulePath) as { createExampleApp: (o: object) => Promise<Example> };
    example = await createExampleApp({ dataDir: dir, demoPassword: 'no-script-password', warn: () => {}, now: () => Date.now() + clockOffset });
    server = await new Promise<Server>((resolve) => {
      const s = example.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await example?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs in, shows the devices, logs out with a form and signs in again', async () => {
    const laptop = await device();
    await laptop.goto(`${base}/devices`);
    expect(new URL(laptop.url()).pathname).toBe('/login');
    await signIn(laptop);
    expect(await laptop.locator('#who').textContent()).toBe('Demo User');
    expect(await rows(laptop)).toBe(1);
    // The forms carry the token in _csrf (what makes them work without a script).
    const field = await laptop.locator('#logout-form input[name="_csrf"]').getAttribute('value');
    expect(field).toBe((await laptop.context().cookies(base)).find((c) => c.name === 'sessionkit-csrf')?.value);

    await Promise.all([laptop.waitForURL(`${base}/login`), laptop.click('#logout')]);
    expect(await sessionCookie(laptop)).toBeUndefined();
    await laptop.goto(`${base}/devices`);
    expect(new URL(laptop.url()).pathname).toBe('/login');

    await signIn(laptop);
    expect(await rows(laptop)).toBe(1);
    expect(failures).toEqual([]);
  });

  it('revokes another device with its Revoke form', async () => {
    const laptop = await device();
    await signIn(laptop);
    const phone = await device();
    await signIn(phone);
    await laptop.reload();
    const before = await rows(laptop);
    expect(before).toBeGreaterThanOrEqual(2);

    const phoneId = await phone.locator('#devices tr.current').getAttribute('data-session-id');
    await Promise.all([laptop.waitForURL(`${base}/devices?notice=revoked`), laptop.click(`button[data-revoke="${phoneId}"]`)]);
    expect(await rows(laptop)).toBe(before - 1);
    expect(await laptop.locator('.notice.ok').textContent()).toContain('signed out');
    await phone.goto(`${base}/devices`);
    expect(new URL(phone.url()).pathname).toBe('/login');
    expect(failures).toEqual([]);
  });

  it('logs out everywhere else after confirming the password on its own page when the sign-in is old', async () => {
    const laptop = await device();
    await signIn(laptop);
    const tablet = await device();
    await signIn(tablet);
    await laptop.reload();
    expect(await rows(laptop)).toBeGreaterThanOrEqual(2);

    // Six minutes later the sign-in is too old for this action: the form leads to the password page.
    clockOffset += 6 * 60_000;
    await Promise.all([laptop.waitForURL(`${base}/reauth?then=revoke-others`), laptop.click('#revoke-others')]);
    await laptop.fill('#reauth-page-form input[name="password"]', 'not-the-password');
    const [wrong] = await Promise.all([laptop.waitForResponse(`${base}/reauth`), laptop.click('#reauth-page-form button[type="submit"]')]);
    expect(wrong.status()).toBe(400);
    expect(await laptop.locator('#reauth-page-error').textContent()).toContain('password');

    const cookieBefore = (await sessionCookie(laptop))?.value;
    await laptop.fill('#reauth-page-form input[name="password"]', example.demo.password);
    await Promise.all([laptop.waitForURL(/\/devices\?notice=others&n=\d+$/), laptop.click('#reauth-page-form button[type="submit"]')]);
    expect(await rows(laptop)).toBe(1);
    expect(await laptop.locator('.notice.ok').textContent()).toMatch(/Signed out of \d+ other device/);
    // Re-authentication rotated the token: a new HttpOnly cookie.
    const cookieAfter = await sessionCookie(laptop);
    expect(cookieAfter).toMatchObject({ httpOnly: true });
    expect(cookieAfter?.value).not.toBe(cookieBefore);
    await tablet.goto(`${base}/devices`);
    expect(new URL(tablet.url()).pathname).toBe('/login');

    expect(failures).toEqual([]);
  });
});
