// Drives Debian's Chromium (playwright-core) through the monitoring dashboard of a real service:
// a wrong admin key is refused, sign-in works, a session created through the API shows up in the
// live feed and the active count within 2 s, revoking it from the page (once confirmed) kills its
// token, "log out everywhere" kills the rest, and the main view is photographed at 1280x800 and
// 390x844 (the layout itself is measured in dashboard-layout.test.ts).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceApp } from '../../src/server/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { ADMIN_KEY, bearerStatus, createDeviceSession, listeningService } from '../audit/helpers.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36';
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'dashboard');

describe('the dashboard in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-dashboard-'));
  let app: ServiceApp;
  let base: string;
  let context: BrowserContext;
  let page: Page;

  const createSession = (userId: string, userAgent: string) => createDeviceSession(base, userId, userAgent);
  const whoAmI = (token: string) => bearerStatus(base, token);
  const activeCount = async () => Number(await page.locator('#active-count').textContent());

  beforeAll(async () => {
    ({ app, url: base } = await listeningService(['--rate-limit', '1000/1m'], { store: sqliteStore({ path: join(dir, 'dash.db') }) }));
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? await context.newPage();
    const rotated = await fetch(`${base}/v1/keys/rotate`, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY } });
    expect(rotated.status).toBe(200);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await context?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong admin key and signs in with the right one', async () => {
    await page.goto(`${base}/dashboard`);
    await page.fill('#api-key', 'ska_AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB');
    await page.click('#login-form button[type="submit"]');
    await expect.poll(() => page.locator('#login-msg').textContent()).toMatch(/refused/);
    expect((await context.cookies(base)).map((c) => c.name)).not.toContain('sessionkit-dashboard');

    await page.fill('#api-key', ADMIN_KEY);
    await Promise.all([page.waitForSelector('#active-count'), page.click('#login-form button[type="submit"]')]);
    const cookie = (await context.cookies(base)).find((c) => c.name === 'sessionkit-dashboard');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    // The page's scripts never see the dashboard cookie (nor the key).
    expect(await page.evaluate(() => document.cookie)).not.toContain('sessionkit-dashboard');
    await page.locator('#live-text', { hasText: /^live$/ }).waitFor();
    // The signing keys and their state.
    await page.locator('#keys .pill.active').waitFor();
  });

  it('shows a session created through the API in the feed and the count within 2 s, and revokes it from the page', async () => {
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('active-count')?.textContent ?? ''));
    const before = await activeCount();
    const session = await createSession('alice@example.org', FIREFOX);
    await page.locator('#feed li', { hasText: 'alice@example.org' }).first().waitFor({ timeout: 2000 });
    await page.waitForFunction((n) => document.getElementById('active-count')?.textContent === String(n), before + 1, { timeout: 2000 });
    await page.locator('#dev-browser li', { hasText: 'Firefox' }).waitFor({ timeout: 2000 });

    await page.fill('#search-user', 'alice@example.org');
    await page.click('#search-form button[type="submit"]');
    const row = page.locator(`#user-sessions tr[data-session="${session.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('Firefox');
    expect(await row.locator('.timeouts').textContent()).toBe('idle 30m, absolute 8h · default policy');
    expect(await whoAmI(session.token)).toBe(200);
    page.once('dialog', (dialog) => void dialog.accept()); // Revoke asks first (test/browser/dashboard-layout.test.ts)
    await row.locator('button.revoke').click();
    await row.waitFor({ state: 'detached' });
    expect(await whoAmI(session.token)).toBe(401);
    await page.locator('#feed li[data-type="session.revoked"]', { hasText: 'alice@example.org' }).first().waitFor({ timeout: 2000 });
    await page.waitForFunction((n) => document.getElementById('active-count')?.textContent === String(n), before, { timeout: 2000 });
  });

  it('logs a user out everywhere', async () => {
    const phone = await createSession('bob', ANDROID);
    const laptop = await createSession('bob', FIREFOX);
    await page.fill('#search-user', 'bob');
    await page.click('#search-form button[type="submit"]');
    await expect.poll(() => page.locator('#user-sessions tr').count()).toBe(2);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#logout-all');
    await expect.poll(() => page.locator('#search-msg').textContent()).toBe('2 sessions of bob revoked');
    expect(await page.locator('#user-sessions tr').count()).toBe(0);
    expect(await whoAmI(phone.token)).toBe(401);
    expect(await whoAmI(laptop.token)).toBe(401);
  });

  it('fits 1280x800 and a 390x844 phone screen, and writes screenshots of both', async () => {
    await createSession('carol', ANDROID);
    await createSession('dave', FIREFOX);
    await page.fill('#search-user', 'carol');
    await page.click('#search-form button[type="submit"]');
    await page.locator('#user-sessions tr').first().waitFor();
    await page.waitForFunction(() => document.getElementById('total-created')?.textContent === '5 / h', undefined, { timeout: 2000 });
    await page.locator('#dev-browser li', { hasText: 'Firefox' }).waitFor({ timeout: 2000 });
    const wide = join(ARTIFACTS, 'dashboard-1280x800.png');
    await page.screenshot({ path: wide, fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);

    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    for (const id of ['#active-count', '#chart-created', '#feed', '#search-user', '#keys']) {
      const box = await page.locator(id).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.x + box!.width, id).toBeLessThanOrEqual(390);
    }
    const narrow = join(ARTIFACTS, 'dashboard-390x844.png');
    await page.screenshot({ path: narrow, fullPage: true });
    console.log(`dashboard screenshots written to ${ARTIFACTS}: ${wide}, ${narrow}`);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('signs out', async () => {
    await Promise.all([page.waitForSelector('#login-form'), page.click('#signout')]);
    expect((await context.cookies(base)).map((c) => c.name)).not.toContain('sessionkit-dashboard');
    const res = await page.evaluate(async () => (await fetch('/v1/stats')).status);
    expect(res).toBe(401);
  });
});
