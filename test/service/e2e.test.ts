// End-to-end: the real service process (`sessionkit serve`) on a free port, one per store, walked
// through every route over HTTP with fetch; two processes sharing Redis and PostgreSQL.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, openStore } from '../../src/config/index.js';
import { createApiKey } from '../../src/server/api-keys.js';
import { describeIfAvailable, tcpReachable } from '../helpers/availability.js';
import { DATABASE_URL, describePg, dropSchema, closeAdminPool } from '../helpers/pg-env.js';
import { fetchSend, serviceClient } from './client.js';
import { ensureBuilt, startService, type ServiceProcess } from './process.js';
import { runScenario } from './scenario.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_KEY = `e2e-admin-${randomBytes(12).toString('hex')}`;
const MASTER_KEY = randomBytes(32).toString('base64');
const COMMON = ['--trust-proxy', 'true', '--insecure-cookies', '--rate-limit', '6/1m', '--log-level', 'warn', '--refresh-grace', '0'];
const describeRedis = describeIfAvailable(await tcpReachable(REDIS_URL), 'Redis', 'REDIS_URL', REDIS_URL);

beforeAll(() => ensureBuilt(), 120_000);

/** A sessions-scope key made straight in the store, as `sessionkit keys create` would. */
async function sessionsKeyIn(args: string[]): Promise<string> {
  const store = await openStore(loadConfig({ env: {}, argv: args }));
  try {
    return (await createApiKey(store, { name: 'e2e app', scopes: ['sessions'] })).key;
  } finally {
    await store.close();
  }
}

async function scenario(service: ServiceProcess, adminKey: string, sessionsKey?: string): Promise<void> {
  const client = await serviceClient(fetchSend(service.url));
  await runScenario(client, {
    adminKey, rateLimit: 6, cookieName: 'sessionkit', origin: service.url, user: `e2e-${randomBytes(4).toString('hex')}`,
    ...(sessionsKey ? { sessionsKey } : {}),
  });
}

/** Two instances on one store: what one does, the other sees on the next request. */
async function crossInstance(a: ServiceProcess, b: ServiceProcess, sharedLimit: boolean): Promise<void> {
  const admin = { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' };
  const created = await fetch(`${a.url}/v1/sessions`, { method: 'POST', headers: admin, body: JSON.stringify({ userId: `scale-${randomBytes(4).toString('hex')}` }) });
  expect(created.status).toBe(201);
  const { token, session } = await created.json() as { token: string; session: { id: string } };
  const viaB = await fetch(`${b.url}/v1/sessions/current`, { headers: { authorization: `Bearer ${token}` } });
  expect(viaB.status).toBe(200);
  expect(((await viaB.json()) as { session: { id: string } }).session.id).toBe(session.id);
  const renewed = await fetch(`${b.url}/v1/sessions/current/renew`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const next = ((await renewed.json()) as { token: string }).token;
  expect((await fetch(`${a.url}/v1/sessions/current`, { headers: { authorization: `Bearer ${next}` } })).status).toBe(200);
  expect((await fetch(`${a.url}/v1/sessions/${session.id}`, { method: 'DELETE', headers: { 'x-api-key': ADMIN_KEY } })).status).toBe(204);
  const refused = await fetch(`${b.url}/v1/sessions/current`, { headers: { authorization: `Bearer ${next}` } });
  expect(refused.status).toBe(401);
  expect(await refused.json()).toMatchObject({ error: 'session_revoked' });
  // JWT: a revocation through one instance reaches the other within the revocation bound (1s),
  // and a key rotated on one is in the other's JWKS within the key-change broadcast.
  const jwtCreated = await fetch(`${a.url}/v1/sessions`, { method: 'POST', headers: admin, body: JSON.stringify({ userId: `scale-jwt-${randomBytes(4).toString('hex')}`, tokenType: 'jwt' }) });
  const jwt = await jwtCreated.json() as { accessToken: string; session: { id: string } };
  expect((await fetch(`${b.url}/v1/sessions/current`, { headers: { authorization: `Bearer ${jwt.accessToken}` } })).status).toBe(200);
  expect((await fetch(`${a.url}/v1/sessions/${jwt.session.id}`, { method: 'DELETE', headers: { 'x-api-key': ADMIN_KEY } })).status).toBe(204);
  expect(await eventually(async () => (await fetch(`${b.url}/v1/sessions/current`, { headers: { authorization: `Bearer ${jwt.accessToken}` } })).status === 401)).toBe(true);
  const rotated = await fetch(`${a.url}/v1/keys/rotate`, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY } });
  const { kid } = await rotated.json() as { kid: string };
  expect(await eventually(async () => {
    const jwks = await (await fetch(`${b.url}/.well-known/jwks.json`)).json() as { keys: { kid: string }[] };
    return jwks.keys.some((k) => k.kid === kid);
  })).toBe(true);
  if (sharedLimit) {
    // Failed attempts counted by one instance block the IP on the other.
    const ip = `198.18.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;
    for (let i = 0; i < 6; i += 1) {
      const res = await fetch(`${a.url}/v1/sessions/current`, { headers: { authorization: 'Bearer bogus', 'x-forwarded-for': ip } });
      expect(res.status).toBe(401);
    }
    const blocked = await fetch(`${b.url}/v1/sessions/current`, { headers: { authorization: 'Bearer bogus', 'x-forwarded-for': ip } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  }
}

/** Polls `check` until it holds or the deadline (well past the 1 s revocation bound) passes. */
async function eventually(check: () => Promise<boolean>, deadlineMs = 5000): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the service process on the memory store', () => {
  it('serves every route over HTTP and exits 0 on SIGTERM', async () => {
    const service = await startService(['--store', 'memory:', ...COMMON], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY });
    try {
      expect(service.printedAdminKey).toBeNull();
      await scenario(service, ADMIN_KEY);
    } finally {
      expect(await service.stop('SIGTERM')).toBe(0);
    }
  });

  it('stops at a bad option with one line naming it (exit 2)', async () => {
    await expect(startService(['--store', 'memory:', '--idle-timeout', 'soon'])).rejects.toThrow(/exited with 2[\s\S]*invalid option idleTimeout \(--idle-timeout\)/);
    await expect(startService(['--store', 'mongodb://x'])).rejects.toThrow(/exited with 2[\s\S]*invalid option store/);
  });
});

describe('the service process on the SQLite store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-e2e-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints an admin key once on a fresh store, serves every route, exits 0 on SIGINT and restarts on the same data', async () => {
    const args = ['--store', `sqlite:${join(dir, 'data', 'sessions.db')}`];
    const first = await startService([...args, ...COMMON], {}, { expectAdminKey: true });
    let adminKey: string;
    try {
      expect(first.printedAdminKey).toMatch(/^ska_/);
      // The master key that encrypts signing keys was generated beside the database, readable by its owner only.
      expect(statSync(join(dir, 'data', 'master.key')).mode & 0o777).toBe(0o600);
      adminKey = first.printedAdminKey!;
      await scenario(first, adminKey, await sessionsKeyIn(args));
    } finally {
      expect(await first.stop('SIGINT')).toBe(0);
    }
    const second = await startService([...args, ...COMMON]);
    try {
      expect(second.printedAdminKey).toBeNull();
      expect(second.stdout()).not.toContain('admin API key (shown once');
      const res = await fetch(`${second.url}/v1/audit?type=session.created&limit=1`, { headers: { 'x-api-key': adminKey } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { events: unknown[] }).events).toHaveLength(1);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});

describeRedis('the service processes on a shared Redis store', () => {
  const prefix = `e2e${randomBytes(5).toString('hex')}`;
  const args = ['--store', REDIS_URL, '--store-prefix', prefix, '--master-key', MASTER_KEY];
  let a: ServiceProcess;
  let b: ServiceProcess;
  beforeAll(async () => {
    [a, b] = await Promise.all([
      startService([...args, ...COMMON], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY }),
      startService([...args, ...COMMON], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY }),
    ]);
  });
  afterAll(async () => {
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    const redis = new Redis(REDIS_URL);
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    for (const key of keys) await redis.del(key);
    await redis.quit();
    expect(codes).toEqual([0, 0]);
  });

  it('serves every route over HTTP', async () => {
    await scenario(a, ADMIN_KEY, await sessionsKeyIn(args));
  });

  it('validates on one instance what the other created, refuses what the other revoked, and shares the attempt limit', async () => {
    await crossInstance(a, b, true);
  });
});

describePg('the service processes on a shared PostgreSQL store', () => {
  const schema = `sk_e2e_${randomBytes(5).toString('hex')}`;
  const args = ['--store', DATABASE_URL, '--store-prefix', schema, '--master-key', MASTER_KEY];
  let a: ServiceProcess;
  let b: ServiceProcess;
  beforeAll(async () => {
    a = await startService([...args, ...COMMON], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY });
    b = await startService([...args, ...COMMON], { SESSIONKIT_ADMIN_KEY: ADMIN_KEY });
  });
  afterAll(async () => {
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await dropSchema(schema);
    await closeAdminPool();
    expect(codes).toEqual([0, 0]);
  });

  it('serves every route over HTTP', async () => {
    await scenario(a, ADMIN_KEY, await sessionsKeyIn(args));
  });

  it('validates on one instance what the other created and refuses what the other revoked', async () => {
    await crossInstance(a, b, false);
  });
});
