// Sessionkit\SessionHandler under concurrent requests of one session (issue 17): `php -S` with four
// workers runs clients/php/tests/fixtures/session-app.php, parallel curl requests each write a
// different $_SESSION key (or the same one), and every write must be there afterwards. PHP's own
// files handler, which locks the session for the request, runs the same script as the control.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, startPhpServer, type PhpServer } from './php-server.js';
import { startService, type RunningService } from './service.js';

const ADMIN_KEY = `php-sessions-admin-${randomBytes(24).toString('base64url')}`;
const APP = 'clients/php/tests/fixtures/session-app.php';
const ROUNDS = 3;
const CONCURRENT = 6;

interface Answer { name: string; id: string; session: Record<string, unknown> }

let service: RunningService;
const dirs: string[] = [];
const servers: PhpServer[] = [];

beforeAll(async () => {
  service = await startService({
    SESSIONKIT_STORE: 'memory:', SESSIONKIT_ADMIN_KEY: ADMIN_KEY, SESSIONKIT_RATE_LIMIT: '100000/1m', SESSIONKIT_LOG_LEVEL: 'warn',
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await service?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function app(handler: 'sessionkit' | 'files'): Promise<PhpServer> {
  const dir = mkdtempSync(join(tmpdir(), `sessionkit-php-${handler}-`));
  dirs.push(dir);
  const server = await startPhpServer(APP, { SK_HANDLER: handler, SK_DATA_DIR: dir, SESSIONKIT_URL: service.url, SESSIONKIT_API_KEY: ADMIN_KEY });
  servers.push(server);
  return server;
}

async function get(server: PhpServer, path: string, cookie?: string): Promise<Answer> {
  const answer = await curl(server.url + path, cookie);
  expect(answer.status, `${path}: ${answer.body}\n${server.output()}`).toBe(200);
  return JSON.parse(answer.body) as Answer;
}

/** Starts a session, then ROUNDS times sends CONCURRENT writes of different keys at once; returns the final $_SESSION and every key written. */
async function writeDifferentKeys(server: PhpServer, login: boolean): Promise<{ session: Record<string, unknown>; written: Map<string, string> }> {
  const start = await get(server, `/start?login=${login ? 1 : 0}`);
  const cookie = `${start.name}=${start.id}`;
  const written = new Map<string, string>();
  for (let round = 0; round < ROUNDS; round++) {
    const keys = Array.from({ length: CONCURRENT }, (_, i) => `r${round}k${i}`);
    for (const key of keys) written.set(key, `${key}-${randomBytes(4).toString('hex')}`);
    await Promise.all(keys.map((key) => get(server, `/write?key=${key}&value=${written.get(key)}`, cookie)));
  }
  return { session: (await get(server, '/read', cookie)).session, written };
}

/** CONCURRENT writes of one key at once; returns the final value and the values written. */
async function writeOneKey(server: PhpServer, login: boolean): Promise<{ value: unknown; values: string[] }> {
  const start = await get(server, `/start?login=${login ? 1 : 0}`);
  const cookie = `${start.name}=${start.id}`;
  const values = Array.from({ length: CONCURRENT }, (_, i) => `${i}-${randomBytes(64).toString('hex')}`);
  await Promise.all(values.map((value) => get(server, `/write?key=shared&value=${value}`, cookie)));
  return { value: (await get(server, '/read', cookie)).session.shared, values };
}

describe('concurrent requests of one PHP session (php -S, 4 workers)', () => {
  it("keeps every key written by concurrent requests with PHP's own files handler (the control)", async () => {
    const { session, written } = await writeDifferentKeys(await app('files'), false);
    for (const [key, value] of written) expect(session[key], key).toBe(value);
  }, 120_000);

  it('keeps every key written by concurrent requests of an anonymous Sessionkit session', async () => {
    const { session, written } = await writeDifferentKeys(await app('sessionkit'), false);
    for (const [key, value] of written) expect(session[key], key).toBe(value);
  }, 120_000);

  it('keeps every key written by concurrent requests of a logged-in Sessionkit session', async () => {
    const { session, written } = await writeDifferentKeys(await app('sessionkit'), true);
    for (const [key, value] of written) expect(session[key], key).toBe(value);
  }, 120_000);

  it('ends with one of the values when concurrent requests write the same key, never a mix', async () => {
    for (const handler of ['files', 'sessionkit'] as const) {
      const server = await app(handler);
      for (const login of handler === 'files' ? [false] : [false, true]) {
        const { value, values } = await writeOneKey(server, login);
        expect(values, `${handler}, login ${login}`).toContain(value);
      }
    }
  }, 120_000);
});
