// Issue 18: the cause of every 5xx the service answers is in its log (without secrets), and a JWT
// login that cannot be signed leaves no session behind.
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createSessionManager } from '../../src/core/manager.js';
import { buildServer } from '../../src/server/index.js';
import { memoryStore } from '../../src/stores/memory.js';

const ADMIN_KEY = 'server-errors-admin-key-0123456789abcdef';

/** A pino logger whose JSON lines the test can read. */
function capturedLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const out: string[] = [];
  const logger: Logger = pino({ level: 'info' }, { write: (line: string) => { out.push(line); } });
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>), text: () => out.join('') };
}

function config(masterKey: string) {
  return loadConfig({ env: {}, argv: ['--store', 'memory:', '--admin-key', ADMIN_KEY, '--master-key', masterKey, '--log-level', 'info', '--sweep-interval', '0'] });
}

describe('the service error log', () => {
  it('logs why a JWT login answered 503 (a signing key the master key cannot decrypt) and keeps no session for it', async () => {
    const store = memoryStore();
    const firstKey = randomBytes(32).toString('base64');
    const otherKey = randomBytes(32).toString('base64');
    const owner = createSessionManager({ store, masterKey: firstKey, jwt: { issuer: 'sessionkit', audience: 'sessionkit' } });
    const { kid } = await owner.keys.rotate();
    const log = capturedLogger();
    const app = await buildServer(config(otherKey), { store, logger: log.logger });
    const res = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'x-api-key': ADMIN_KEY, 'x-request-id': 'req-jwt-1' }, payload: { userId: 'bob', tokenType: 'jwt' } });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: 'store_unavailable' });
    const failed = log.lines().filter((l) => l.msg === 'request failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 50, reqId: 'req-jwt-1', status: 503, code: 'store_unavailable' });
    expect(String(failed[0]?.cause)).toContain(`signing key ${kid} cannot be decrypted with the configured master key`);
    expect(log.text()).not.toContain(firstKey);
    expect(log.text()).not.toContain(otherKey);
    const listed = await app.inject({ method: 'GET', url: '/v1/users/bob/sessions', headers: { 'x-api-key': ADMIN_KEY } });
    expect(listed.json()).toMatchObject({ sessions: [] });
    await app.close();
    await owner.close();
  });

  it('logs the store failure behind a 503, with the failing call, once per request', async () => {
    const store = memoryStore();
    const log = capturedLogger();
    const app = await buildServer(config(randomBytes(32).toString('base64')), { store, logger: log.logger });
    await store.close();
    const res = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { 'x-api-key': ADMIN_KEY, 'x-request-id': 'req-down-1' }, payload: { userId: 'carol' } });
    expect(res.statusCode).toBe(503);
    const failed = log.lines().filter((l) => l.msg === 'request failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 50, reqId: 'req-down-1', status: 503, code: 'store_unavailable' });
    expect(String(failed[0]?.cause)).toMatch(/memory store is closed/);
    await app.close();
  });
});
