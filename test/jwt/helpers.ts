// Shared set-up for the JWT tests: a manager on a fake clock, a way to forge tokens with keys the
// test holds, and an assertion on SessionError codes.
import { createHmac, sign, type KeyObject } from 'node:crypto';
import { createSessionManager, type SessionManagerOptions } from '../../src/core/manager.js';
import { memoryStore } from '../../src/stores/memory.js';
import { expectCode, fakeClock } from '../../src/testing/index.js';
import { memoryAudit } from '../../src/audit/sink.js';
import type { SessionStore } from '../../src/stores/types.js';

export const ISSUER = 'https://auth.example.test';
export const AUDIENCE = 'https://api.example.test';
export const MASTER_KEY = Buffer.alloc(32, 9);

export function setup(opts: Partial<SessionManagerOptions> & { store?: SessionStore } = {}) {
  const clock = fakeClock();
  const trail = memoryAudit();
  const store = opts.store ?? memoryStore();
  const sessions = createSessionManager({
    store, now: clock.now, audit: [trail], secret: 'jwt-tests-secret-0123456789abcdef0123',
    masterKey: MASTER_KEY, ...opts,
    jwt: { issuer: ISSUER, audience: AUDIENCE, ...opts.jwt },
  });
  return { sessions, clock, trail, store };
}

export const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h as string, 'base64url').toString()), payload: JSON.parse(Buffer.from(p as string, 'base64url').toString()) };
}

/** A compact JWS with any header and payload, signed by `signer` (or with the given signature text). */
export function forge(header: unknown, payload: unknown, signer: ((input: string) => Buffer) | string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${typeof signer === 'string' ? signer : signer(input).toString('base64url')}`;
}

export const edSigner = (key: KeyObject) => (input: string): Buffer => sign(null, Buffer.from(input), key);
export const hmacSigner = (secret: Buffer | string, hash = 'sha256') => (input: string): Buffer => createHmac(hash, secret).update(input).digest();

export { expectCode };
