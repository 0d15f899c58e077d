// Login CSRF (issue 18, Medium 2) in real Chromium: a page on another origin (another port of
// localhost, so another site than 127.0.0.1) carries a form that posts the attacker's credentials
// to the example app's login. The victim submits it; the app must refuse it and leave no session.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface Example {
  app: { listen(port: number, host: string, cb: () => void): Server };
  sessions: { listForUser(userId: string): Promise<unknown[]> };
  demo: { username: string; password: string };
  close(): Promise<void>;
}

const listen = (server: Server) => new Promise<number>((resolve) => {
  server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
});

describe('login CSRF against the example app in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-login-csrf-'));
  let example: Example;
  let app: Server;
  let attacker: Server;
  let base: string;
  let evil: string;
  let browser: Browser;

  beforeAll(async () => {
    const modulePath = pathToFileURL(join(process.cwd(), 'examples/express-app/app.mjs')).href;
    const { createExampleApp } = await import(modulePath) as { createExampleApp: (o: object) => Promise<Example> };
    example = await createExampleApp({ dataDir: dir, demoPassword: 'login-csrf-password', warn: () => {} });
    app = example.app.listen(0, '127.0.0.1', () => {});
    await new Promise((resolve) => app.once('listening', resolve));
    base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    // The attacker's page: the attacker's own credentials in a form aimed at the app's login.
    attacker = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>You won!</title>
<form method="post" action="${base}/login">
<input type="hidden" name="username" value="${example.demo.username}">
<input type="hidden" name="password" value="${example.demo.password}">
<button id="claim" type="submit">Claim your prize</button>
</form>`);
    });
    evil = `http://localhost:${await listen(attacker)}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await new Promise((resolve) => app?.close(resolve));
    await example?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a cross-site form that posts the attacker's credentials to the login, and leaves no session", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${evil}/`);
    const [answer] = await Promise.all([page.waitForResponse(`${base}/login`), page.click('#claim')]);
    expect(answer.request().headers().origin).toBe(evil);
    expect(answer.status()).toBe(403);
    const body = await answer.json() as { error: string; message: string };
    expect(body.error).toBe('csrf_failed');
    expect(body.message).toContain(`expected Origin ${base}`);
    expect((await context.cookies(base)).map((c) => c.name)).not.toContain('sessionkit');
    expect(await example.sessions.listForUser('u-demo')).toHaveLength(0);

    // The same credentials from the app's own login page work: the refusal was about the origin.
    await page.goto(`${base}/login`);
    await page.fill('input[name="username"]', example.demo.username);
    await page.fill('input[name="password"]', example.demo.password);
    await Promise.all([page.waitForURL(`${base}/devices`), page.click('button[type="submit"]')]);
    expect(await example.sessions.listForUser('u-demo')).toHaveLength(1);
    await context.close();
  });
});
