// JWT key rotation seen by verifiers that cache the JWKS (issue 17.3): jose's createRemoteJWKSet and
// PyJWT's PyJWKClient (Debian's python3-jwt), both unmodified, against the built service over HTTP.
// Each verifier's cache is warmed before the first token and again right before a rotation, as in a
// running API; every token issued at start-up, right after the rotation and after the propagation
// window must verify. The window is short here (4 s) and jose's refetch cooldown scaled with it
// (2 s; the defaults are a 2 min window and a 30 s cooldown): a verifier must be able to refetch
// within the window, which is what the default's margin over the JWKS max-age (60 s) provides.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface, type Interface } from 'node:readline';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startService, type RunningService } from './service.js';

const ADMIN_KEY = `jwks-rotation-${randomBytes(24).toString('base64url')}`;
const PROPAGATION_MS = 4000;
const JOSE_COOLDOWN_MS = 2000;

let service: RunningService;
let python: ChildProcessWithoutNullStreams;
let lines: Interface;
const answers: Array<(line: string) => void> = [];

beforeAll(async () => {
  service = await startService({
    SESSIONKIT_STORE: 'memory:', SESSIONKIT_ADMIN_KEY: ADMIN_KEY, SESSIONKIT_LOG_LEVEL: 'warn',
    SESSIONKIT_KEY_PROPAGATION: `${PROPAGATION_MS}ms`,
  });
  python = spawn('/usr/bin/python3', ['test/clients/jwks_verifier.py', `${service.url}/.well-known/jwks.json`, 'sessionkit', 'sessionkit'], { cwd: root });
  lines = createInterface({ input: python.stdout });
  lines.on('line', (line) => answers.shift()?.(line));
}, 60_000);

afterAll(async () => {
  python?.stdin.end();
  await service?.stop();
});

/** One request to the PyJWKClient process. */
function pyjwt(request: Record<string, unknown>): Promise<{ ok: boolean; error?: string; kids?: string[] }> {
  return new Promise((resolve) => {
    answers.push((line) => resolve(JSON.parse(line)));
    python.stdin.write(`${JSON.stringify(request)}\n`);
  });
}

/** A new JWT session's access token (the service signs with its current key). */
async function freshToken(userId: string): Promise<string> {
  const res = await fetch(`${service.url}/v1/sessions`, {
    method: 'POST', headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ userId, tokenType: 'jwt' }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid;

/** Both verifiers must accept every token: jose's error code or PyJWT's message otherwise. */
async function verifyEverywhere(jwks: ReturnType<typeof createRemoteJWKSet>, tokens: string[]): Promise<string[]> {
  const failures: string[] = [];
  for (const token of tokens) {
    try {
      await jwtVerify(token, jwks, { issuer: 'sessionkit', audience: 'sessionkit' });
    } catch (err) {
      failures.push(`jose ${kidOf(token)}: ${(err as { code?: string }).code ?? (err as Error).message}`);
    }
    const py = await pyjwt({ token });
    if (!py.ok) failures.push(`PyJWT ${kidOf(token)}: ${py.error}`);
  }
  return failures;
}

describe('JWKS-caching verifiers across a key rotation', () => {
  it('publishes the first key at start-up, so verifiers warmed before the first login accept its tokens', async () => {
    const jwks = createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`), { cooldownDuration: JOSE_COOLDOWN_MS });
    await jwks.reload();
    expect(jwks.jwks()?.keys.length).toBe(1);
    expect((await pyjwt({ warm: true })).ok).toBe(true);
    const tokens = [await freshToken('first-a'), await freshToken('first-b')];
    expect(await verifyEverywhere(jwks, tokens)).toEqual([]);
  });

  it('verifies every token issued right after POST /v1/keys/rotate and after the propagation window', async () => {
    const before = await freshToken('before');
    const jwks = createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`), { cooldownDuration: JOSE_COOLDOWN_MS });
    // Warm both caches, then rotate at once (within jose's cooldown, as a busy API would be).
    await jwks.reload();
    expect((await pyjwt({ warm: true })).ok).toBe(true);
    const rotated = await fetch(`${service.url}/v1/keys/rotate`, { method: 'POST', headers: { 'x-api-key': ADMIN_KEY } });
    expect(rotated.status).toBe(200);
    const { kid, activatesAt } = (await rotated.json()) as { kid: string; activatesAt: string };
    const right = await Promise.all(['r1', 'r2', 'r3'].map(freshToken));
    expect(await verifyEverywhere(jwks, [before, ...right])).toEqual([]);
    expect(Date.parse(activatesAt)).toBeGreaterThan(Date.now());
    // The new key was published by the rotation; after the window it signs, and verifiers that
    // refetch on an unknown kid (allowed again: their cooldown is shorter than the window) have it.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(activatesAt) - Date.now()) + 100));
    const later = await Promise.all(['l1', 'l2', 'l3'].map(freshToken));
    expect(later.map(kidOf)).toEqual([kid, kid, kid]);
    expect(await verifyEverywhere(jwks, [...later, ...right])).toEqual([]);
  }, 30_000);
});
