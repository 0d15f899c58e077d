// Drives Debian's Chromium (playwright-core) through the example app: two devices of one user,
// the session cookie hidden from scripts, revoking the other device and logging out elsewhere
// (after the password prompt, once the sign-in is older than the app's five minutes).
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface Example {
  app: { listen(port: number, host: string, cb: () => void): Server };
  demo: { username: string; password: string };
  close(): Promise<void>;
}

describe('the example app in Chromium', () => {
  const dirs: string[] = [];
  const contexts: BrowserContext[] = [];
  let example: Example;
  let server: Server;
  let base: string;
  // The sessions' clock: the real time plus what a test moves it forward by.
  let clockOffset = 0;

  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };

  /** One device: a browser with its own fresh profile (its own cookie jar). */
  async function device(): Promise<Page> {
    const context = await chromium.launchPersistentContext(tempDir('sessionkit-chromium-'), {
      executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS,
    });
    contexts.push(context);
    return context.pages()[0] ?? context.newPage();
  }

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${base}/login`);
    await page.fill('input[name="username"]', example.demo.username);
    await page.fill('input[name="password"]', example.demo.password);
    await Promise.all([page.waitForURL(`${base}/devices`), page.click('button[type="submit"]')]);
  }

  const rows = (page: Page) => page.locator('#devices tbody tr').count();

  beforeAll(async () => {
    const modulePath = pathToFileURL(join(process.cwd(), 'examples/express-app/app.mjs')).href;
    const { createExampleApp } = await import(modulePath) as { createExampleApp: (o: object) => Promise<Example> };
    example = await createExampleApp({ dataDir: tempDir('sessionkit-example-'), demoPassword: 'browser-test-password', warn: () => {}, now: () => Date.now() + clockOffset });
    server = await new Promise<Server>((resolve) => {
      const s = example.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await new Promise((resolve) => server?.close(resolve));
    await example?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('signs in, hides the session cookie from scripts, lists both devices and revokes the other one', async () => {
    const laptop = await device();
    await laptop.goto(`${base}/devices`);
    expect(new URL(laptop.url()).pathname).toBe('/login');
    await signIn(laptop);

    const visible = await laptop.evaluate(() => document.cookie.split('; ').map((c) => c.split('=')[0]));
    expect(visible).toContain('sessionkit-csrf');
    expect(visible).not.toContain('sessionkit');
    const jar = await laptop.context().cookies(base);
    expect(jar.find((c) => c.name === 'sessionkit')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

    const phone = await device();
    await signIn(phone);
    expect(await rows(phone)).toBe(2);
    await laptop.reload();
    expect(await rows(laptop)).toBe(2);
    expect(await laptop.locator('#devices tr.current').count()).toBe(1);
    const cells = await laptop.locator('#devices tbody tr').first().locator('td').allTextContents();
    expect(cells.slice(0, 3)).toEqual(['Chrome', 'Linux', '127.0.0.1']);

    await Promise.all([laptop.waitForEvent('load'), laptop.click('button[data-revoke]')]);
    expect(await rows(laptop)).toBe(1);

    await phone.goto(`${base}/devices`);
    expect(new URL(phone.url()).pathname).toBe('/login');
  });

  it('asks for the password again before logging out everywhere else, then logs out', async () => {
    const laptop = await device();
    await signIn(laptop);
    const tablet = await device();
    await signIn(tablet);
    await laptop.reload();
    expect(await rows(laptop)).toBeGreaterThanOrEqual(2);

    // Six minutes later the sign-in is too old for this action: the page asks for the password.
    clockOffset += 6 * 60_000;
    const cookieBefore = (await laptop.context().cookies(base)).find((c) => c.name === 'sessionkit')?.value;
    await laptop.click('#revoke-others');
    await laptop.locator('#reauth-form').waitFor({ state: 'visible' });
    expect(await rows(laptop)).toBeGreaterThanOrEqual(2);
    await laptop.fill('#reauth-form input[name="password"]', 'not-the-password');
    await laptop.click('#reauth-form button[type="submit"]');
    await laptop.locator('#reauth-error').waitFor({ state: 'visible' });
    expect(await laptop.locator('#reauth-error').textContent()).toContain('password');

    await laptop.fill('#reauth-form input[name="password"]', example.demo.password);
    await Promise.all([laptop.waitForEvent('load'), laptop.click('#reauth-form button[type="submit"]')]);
    expect(await rows(laptop)).toBe(1);
    // Re-authentication rotated the session token: the browser holds a new, still HttpOnly cookie.
    const cookieAfter = (await laptop.context().cookies(base)).find((c) => c.name === 'sessionkit');
    expect(cookieAfter).toMatchObject({ httpOnly: true });
    expect(cookieAfter?.value).not.toBe(cookieBefore);
    await tablet.reload();
    expect(new URL(tablet.url()).pathname).toBe('/login');

    await Promise.all([laptop.waitForURL(`${base}/login`), laptop.click('#logout')]);
    await laptop.goto(`${base}/devices`);
    expect(new URL(laptop.url()).pathname).toBe('/login');
    expect(await laptop.evaluate(() => document.cookie)).toBe('');
  });
});
