// The dashboard's layout and its guard rails, measured in Debian's Chromium at 1280x800 and
// 390x844: the sign-in card's key input is one line tall; no button, table cell, pill or timestamp
// overflows its box or breaks inside a word (each label's characters are measured with a Range:
// a new line may only start after a space, and buttons, pills and timestamps stay on one line);
// the favicon loads; Revoke and "Log out everywhere" ask first, and a dismissed question changes
// nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Dialog, type Locator, type Page, type Request, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceApp } from '../../src/server/index.js';
import { ADMIN_KEY, bearerStatus, createDeviceSession, listeningService } from '../audit/helpers.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36';
const VIEWPORTS = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];

/**
 * Runs in the page: every layout fault of the visible labels, as sentences. Kept free of helpers
 * from outside (it is sent to the browser as source).
 */
function layoutFaults(): string[] {
  const faults: string[] = [];
  const visible = (n: Element) => n.getClientRects().length > 0;
  const name = (n: Element) => `${n.tagName.toLowerCase()}${n.id ? `#${n.id}` : ''}${n.getAttribute('data-label') ? `[${n.getAttribute('data-label')}]` : ''} "${(n.textContent ?? '').trim().slice(0, 40)}"`;
  // Where the text of `n` starts a new line: after a space is a wrap, anywhere else a broken word.
  const lineBreaks = (n: Element) => {
    const breaks: { midWord: boolean; at: string }[] = [];
    const walker = document.createTreeWalker(n, NodeFilter.SHOW_TEXT);
    let previous: DOMRect | null = null;
    let spaceSince = false;
    let before = '';
    for (let t = walker.nextNode() as Text | null; t; t = walker.nextNode() as Text | null) {
      for (let i = 0; i < t.data.length; i++) {
        const ch = t.data[i] as string;
        if (/\s/.test(ch)) {
          spaceSince = true;
          before += ch;
          continue;
        }
        const range = document.createRange();
        range.setStart(t, i);
        range.setEnd(t, i + 1);
        const rect = range.getBoundingClientRect();
        if (rect.width === 0 && rect.height === 0) continue;
        if (previous && rect.top >= (previous.top + previous.bottom) / 2) breaks.push({ midWord: !spaceSince, at: `${before.slice(-12)}|${t.data.slice(i, i + 12)}` });
        previous = rect;
        spaceSince = false;
        before += ch;
      }
    }
    return breaks;
  };
  if (document.documentElement.scrollWidth > window.innerWidth) {
    faults.push(`the page is ${document.documentElement.scrollWidth}px wide in a ${window.innerWidth}px window`);
  }
  for (const n of document.querySelectorAll('.card, button, .table th, .table td, .pill, #feed li')) {
    if (visible(n) && n.scrollWidth > n.clientWidth + 1) faults.push(`${name(n)} overflows: ${n.scrollWidth}px of content in ${n.clientWidth}px`);
  }
  const oneLine = 'button, .pill, #feed .t, td[data-label="created"], td[data-label="last seen"], td[data-label="expires"], td[data-label="retires"]';
  for (const n of document.querySelectorAll(oneLine)) {
    if (!visible(n)) continue;
    for (const b of lineBreaks(n)) faults.push(`${name(n)} wraps onto a second line at "${b.at}"`);
  }
  for (const n of document.querySelectorAll('.table th, .table td, header button, label')) {
    if (!visible(n)) continue;
    for (const b of lineBreaks(n)) if (b.midWord) faults.push(`${name(n)} breaks a word at "${b.at}"`);
  }
  return faults;
}

describe('the dashboard layout in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-dashboard-layout-'));
  let app: ServiceApp;
  let base: string;
  let context: BrowserContext;
  let page: Page;

  const createSession = (userId: string, userAgent: string) => createDeviceSession(base, userId, userAgent);
  const whoAmI = (token: string) => bearerStatus(base, token);

  /** Clicks `target` answering the confirmation it should raise; resolves with its question (null: none asked). */
  async function clickAnswering(target: Locator, answer: 'accept' | 'dismiss'): Promise<string | null> {
    let question: string | null = null;
    const onDialog = (dialog: Dialog) => {
      question = dialog.message();
      void (answer === 'accept' ? dialog.accept() : dialog.dismiss());
    };
    page.once('dialog', onDialog);
    await target.click();
    await page.evaluate(() => 0); // the click's handler has run to its end
    page.off('dialog', onDialog);
    return question;
  }

  async function search(userId: string, rows: number): Promise<void> {
    await page.fill('#search-user', userId);
    await page.click('#search-form button[type="submit"]');
    await expect.poll(() => page.locator('#user-sessions tr').count()).toBe(rows);
  }

  beforeAll(async () => {
    ({ app, url: base } = await listeningService(['--rate-limit', '1000/1m']));
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, viewport: VIEWPORTS[0]!,
    });
    page = context.pages()[0] ?? await context.newPage();
    expect((await fetch(`${base}/v1/keys/rotate`, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY } })).status).toBe(200);
  });

  afterAll(async () => {
    await context?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the sign-in card with a one-line key input and no broken label at 1280x800 and 390x844', async () => {
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      await page.goto(`${base}/dashboard`);
      const input = await page.locator('#api-key').boundingBox();
      expect(input!.height, `key input at ${viewport.width}px`).toBeGreaterThanOrEqual(28);
      expect(input!.height, `key input at ${viewport.width}px`).toBeLessThanOrEqual(56);
      const button = await page.locator('#login-form button').boundingBox();
      expect(button!.height, `sign-in button at ${viewport.width}px`).toBeLessThanOrEqual(48);
      expect(await page.evaluate(layoutFaults), `at ${viewport.width}x${viewport.height}`).toEqual([]);
    }
  });

  it('loads a favicon, and nothing the page asks for fails', async () => {
    const failures: string[] = [];
    const onResponse = (res: Response) => { if (res.status() >= 400) failures.push(`${res.status()} ${res.url()}`); };
    const onFailed = (req: Request) => failures.push(`failed ${req.url()}`);
    page.on('response', onResponse);
    page.on('requestfailed', onFailed);
    await page.goto(`${base}/dashboard`);
    const href = await page.locator('link[rel="icon"]').getAttribute('href', { timeout: 2000 });
    const icon = await page.evaluate(async (url) => {
      const res = await fetch(url);
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    }, href!);
    expect(icon.status).toBe(200);
    expect(icon.type).toMatch(/^image\/svg\+xml/);
    expect(icon.body).toMatch(/^<svg /);
    page.off('response', onResponse);
    page.off('requestfailed', onFailed);
    expect(failures).toEqual([]);
  });

  it('lays out tables, buttons, pills and timestamps without overflow or broken words at 1280x800 and 390x844', async () => {
    await page.setViewportSize(VIEWPORTS[0]!);
    await page.goto(`${base}/dashboard`);
    await page.fill('#api-key', ADMIN_KEY);
    await Promise.all([page.waitForSelector('#active-count'), page.click('#login-form button[type="submit"]')]);
    await createSession('erin.example-user@example.org', FIREFOX);
    await createSession('erin.example-user@example.org', ANDROID);
    await search('erin.example-user@example.org', 2);
    await page.locator('#keys .pill.active').waitFor();
    await page.locator('#feed li', { hasText: 'erin.example-user@example.org' }).first().waitFor();
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      expect(await page.evaluate(layoutFaults), `at ${viewport.width}x${viewport.height}`).toEqual([]);
      for (const selector of ['#search-user', '#search-form button[type="submit"]', '#logout-all', '#user-sessions button.revoke >> nth=0', '#signout']) {
        const box = await page.locator(selector).boundingBox();
        expect(box!.height, `${selector} at ${viewport.width}px`).toBeGreaterThanOrEqual(24);
        expect(box!.height, `${selector} at ${viewport.width}px`).toBeLessThanOrEqual(56);
      }
    }
    await page.setViewportSize(VIEWPORTS[0]!);
  });

  it('asks before revoking a session: dismissed, the session lives on; accepted, it ends', async () => {
    const session = await createSession('frank', FIREFOX);
    await search('frank', 1);
    const row = page.locator(`#user-sessions tr[data-session="${session.id}"]`);
    const revoke = row.locator('button.revoke');

    expect(await clickAnswering(revoke, 'dismiss')).toMatch(/^Revoke the session of frank on Firefox/);
    expect(await revoke.isEnabled()).toBe(true);
    expect(await whoAmI(session.token)).toBe(200);
    await search('frank', 1);

    expect(await clickAnswering(revoke, 'accept')).toMatch(/^Revoke the session of frank on Firefox/);
    await row.waitFor({ state: 'detached' });
    expect(await whoAmI(session.token)).toBe(401);
  });

  it('asks before logging a user out everywhere: dismissed, every session lives on; accepted, all end', async () => {
    const phone = await createSession('grace', ANDROID);
    const laptop = await createSession('grace', FIREFOX);
    await search('grace', 2);

    expect(await clickAnswering(page.locator('#logout-all'), 'dismiss')).toBe('Log grace out everywhere? Their 2 live sessions end at once.');
    expect(await page.locator('#logout-all').isEnabled()).toBe(true);
    expect(await whoAmI(phone.token)).toBe(200);
    expect(await whoAmI(laptop.token)).toBe(200);
    await search('grace', 2);

    expect(await clickAnswering(page.locator('#logout-all'), 'accept')).toBe('Log grace out everywhere? Their 2 live sessions end at once.');
    await expect.poll(() => page.locator('#search-msg').textContent()).toBe('2 sessions of grace revoked');
    expect(await whoAmI(phone.token)).toBe(401);
    expect(await whoAmI(laptop.token)).toBe(401);
  });
});
