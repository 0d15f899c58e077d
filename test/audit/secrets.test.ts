// Secrets never leak: one full run of the service on a SQLite file (opaque and JWT sessions,
// cookies and CSRF, renewals, refresh-token reuse, bad tokens and keys, the dashboard, the event
// stream, stats and the audit API), then every log line, every audit row, every API response and
// the store's bytes on disk are searched for every token, refresh token, CSRF token and API key
// the run used. The only places a secret may appear are the fields that hand it out
// (`token`, `accessToken`, `refreshToken`, `csrfToken`, `Set-Cookie`, the dashboard page's CSRF meta tag).
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/server/api-keys.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { ADMIN_KEY, eventually, listeningService, openStream } from './helpers.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';

interface Seen {
  what: string;
  text: string;
}

describe('secrets never leak', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves no token, refresh token, CSRF token or API key in logs, audit rows, responses or the store', async () => {
    const logLines: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { logLines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } });
    const path = join(dir, 'secrets.db');
    const store = sqliteStore({ path });
    const sessionsKey = (await createApiKey(store, { name: 'app', scopes: ['sessions'] })).key;
    const { app, url } = await listeningService(['--rate-limit', '1000/1m', '--refresh-grace', '0'], { store, logger: pino({ level: 'trace' }, sink) });
    const secrets = new Set<string>([ADMIN_KEY, sessionsKey]);
    const seen: Seen[] = [];
    const origin = url;

    /** A request; the response is kept for the search, minus the fields that hand secrets out. */
    async function call(method: string, path: string, options: { headers?: Record<string, string>; json?: unknown } = {}) {
      const res = await fetch(`${url}${path}`, {
        method, headers: { ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
        ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
      });
      let text = await res.text();
      // The dashboard page hands its CSRF token to its script in a meta tag, like the csrfToken field.
      text = text.replace(/<meta name="csrf-token" content="([^"]*)">/, (_m, token: string) => {
        secrets.add(token);
        return '<meta name="csrf-token">';
      });
      const body = text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) as Record<string, unknown> : {};
      for (const field of ['token', 'accessToken', 'refreshToken', 'csrfToken']) {
        if (typeof body[field] === 'string') secrets.add(body[field] as string);
      }
      const setCookies = res.headers.getSetCookie();
      for (const c of setCookies) {
        const value = decodeURIComponent(c.slice(c.indexOf('=') + 1).split(';')[0] ?? '');
        if (value) secrets.add(value);
      }
      const shown = { ...body };
      for (const field of ['token', 'accessToken', 'refreshToken', 'csrfToken']) delete shown[field];
      const headers = [...res.headers.entries()].filter(([k]) => k !== 'set-cookie').map(([k, v]) => `${k}: ${v}`).join('\n');
      seen.push({ what: `${method} ${path} -> ${res.status}`, text: `${headers}\n${text && Object.keys(body).length === 0 ? text : JSON.stringify(shown)}` });
      return { status: res.status, body, setCookies };
    }
    const admin = { 'x-api-key': ADMIN_KEY };
    const app1 = { 'x-api-key': sessionsKey };
    const user = 'mallory\r\n{"level":30,"msg":"forged"}';

    // A live event stream for the whole run (its bytes are searched too).
    const stream = await openStream(`${url}/v1/events`, admin);

    // Opaque sessions: by API, by cookie with CSRF, renewal, validation, logout.
    const a = await call('POST', '/v1/sessions', { headers: app1, json: { userId: user, device: { userAgent: FIREFOX, ip: '198.51.100.7' }, setCookie: true } });
    expect(a.status).toBe(201);
    const tokenA = a.body.token as string;
    const cookieA = { cookie: `sessionkit=${tokenA}` };
    expect((await call('POST', '/v1/sessions/validate', { headers: app1, json: { token: tokenA } })).status).toBe(200);
    expect((await call('GET', '/v1/sessions/current', { headers: cookieA })).status).toBe(200);
    expect((await call('DELETE', '/v1/sessions?others=true', { headers: { ...cookieA, origin, 'x-csrf-token': 'wrong-csrf-token-0123456789' } })).status).toBe(403);
    secrets.add('wrong-csrf-token-0123456789');
    expect((await call('DELETE', '/v1/sessions?others=true', { headers: { ...cookieA, origin, 'x-csrf-token': a.body.csrfToken as string } })).status).toBe(200);
    const renewed = await call('POST', '/v1/sessions/current/renew', { headers: { authorization: `Bearer ${tokenA}` } });
    expect(renewed.status).toBe(200);
    const b = await call('POST', '/v1/sessions', { headers: app1, json: { userId: user, replaces: renewed.body.token } });
    expect((await call('GET', '/v1/sessions/current', { headers: { authorization: `Bearer ${renewed.body.token as string}` } })).status).toBe(401);
    expect((await call('GET', '/v1/sessions', { headers: { authorization: `Bearer ${b.body.token as string}` } })).status).toBe(200);

    // JWT sessions: refresh, then reuse of the old refresh token (the session is revoked).
    const j = await call('POST', '/v1/sessions', { headers: app1, json: { userId: user, tokenType: 'jwt' } });
    expect((await call('GET', '/v1/sessions/current', { headers: { authorization: `Bearer ${j.body.accessToken as string}` } })).status).toBe(200);
    const r = await call('POST', '/v1/sessions/refresh', { json: { refreshToken: j.body.refreshToken } });
    expect(r.status).toBe(200);
    expect((await call('POST', '/v1/sessions/refresh', { json: { refreshToken: j.body.refreshToken } })).body.error).toBe('refresh_reused');
    expect((await call('POST', '/v1/sessions/validate', { headers: app1, json: { token: r.body.accessToken } })).status).toBe(401);

    // Presented secrets that are wrong: bad tokens, a wrong API key, a guessed refresh token.
    const forged = `sk_${'A'.repeat(43)}.${'Z'.repeat(43)}`;
    const wrongKey = `ska_${'B'.repeat(22)}.${'Q'.repeat(43)}`;
    const guessed = `skr_${'C'.repeat(43)}.${'W'.repeat(43)}`;
    for (const s of [forged, wrongKey, guessed]) secrets.add(s);
    expect((await call('GET', '/v1/sessions/current', { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    expect((await call('GET', '/v1/sessions/current', { headers: { authorization: `Bearer ${tokenA}x` } })).status).toBe(401);
    expect((await call('GET', '/v1/audit', { headers: { 'x-api-key': wrongKey } })).status).toBe(401);
    expect((await call('POST', '/v1/sessions/refresh', { json: { refreshToken: guessed } })).status).toBe(401);

    // The dashboard: sign-in, its CSRF-protected writes, stats, the user search, sign-out.
    const login = await call('POST', '/dashboard/login', { headers: { ...admin, origin } });
    const dash = { cookie: login.setCookies[0]!.split(';')[0]! };
    expect((await call('GET', '/dashboard', { headers: dash })).status).toBe(200);
    expect((await call('GET', '/v1/stats', { headers: dash })).status).toBe(200);
    expect((await call('GET', `/dashboard/api/users/${encodeURIComponent(user)}/sessions`, { headers: dash })).status).toBe(200);
    expect((await call('DELETE', `/dashboard/api/users/${encodeURIComponent(user)}/sessions`, { headers: { ...dash, origin, 'x-csrf-token': login.body.csrfToken as string } })).status).toBe(200);
    expect((await call('POST', '/dashboard/logout', { headers: { ...dash, origin, 'x-csrf-token': login.body.csrfToken as string } })).status).toBe(204);
    await call('POST', '/v1/keys/rotate', { headers: admin });

    // The audit API, every page of it.
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await call('GET', `/v1/audit?limit=5${cursor ? `&cursor=${cursor}` : ''}`, { headers: admin });
      cursor = page.body.nextCursor as string | null;
      pages += 1;
    } while (cursor && pages < 100);
    const newest = await call('GET', '/v1/audit?limit=1', { headers: admin });
    const lastSeq = (newest.body.events as { seq: number }[])[0]!.seq;
    await eventually(() => (stream.audit().some((e) => e.seq === lastSeq) ? true : undefined), 5000, 'the stream to catch up');
    await stream.close();
    seen.push({ what: 'GET /v1/events (stream)', text: stream.raw() });
    await app.close();

    // What the run produced: log lines, audit rows, the store's bytes (database and WAL).
    expect(logLines.length).toBeGreaterThan(20);
    for (const line of logLines) expect(() => JSON.parse(line), line.slice(0, 200)).not.toThrow();
    expect(logLines.filter((l) => l.includes('"msg":"forged"') && !l.includes('mallory'))).toEqual([]);
    for (const line of logLines) seen.push({ what: 'log line', text: line });
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all() as Record<string, unknown>[];
    db.close();
    expect(rows.length).toBeGreaterThan(15);
    expect(rows.some((row) => row.type === 'session.refresh_reuse_detected')).toBe(true);
    expect(rows.some((row) => row.type === 'session.rejected' && row.reason === 'csrf')).toBe(true);
    expect(rows.filter((row) => row.token_fingerprint !== null).length).toBeGreaterThan(3);
    for (const row of rows) seen.push({ what: `audit row ${String(row.seq)}`, text: JSON.stringify(row) });
    for (const file of readdirSync(dir).filter((f) => f.startsWith('secrets.db'))) {
      seen.push({ what: `store file ${file}`, text: readFileSync(join(dir, file)).toString('latin1') });
    }

    // Every secret, whole and by its secret part (the part after the last dot; ids are public).
    const needles = new Map<string, string>();
    for (const secret of secrets) {
      needles.set(secret, secret);
      const part = secret.slice(secret.lastIndexOf('.') + 1);
      if (part !== secret && part.length >= 16) needles.set(part, `secret part of ${secret.slice(0, 12)}…`);
    }
    expect(secrets.size).toBeGreaterThan(15);
    const leaks: string[] = [];
    for (const { what, text } of seen) {
      for (const [needle, name] of needles) if (text.includes(needle)) leaks.push(`${name} in ${what}`);
    }
    expect(leaks).toEqual([]);
    // The search does find a secret where one is meant to be: the response that issued it.
    expect(JSON.stringify(a.body)).toContain(tokenA);
    expect(needles.has(tokenA.slice(tokenA.lastIndexOf('.') + 1))).toBe(true);
  });
});
