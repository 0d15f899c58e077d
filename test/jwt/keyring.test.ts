// The key ring: rotation and retirement on a fake clock, encryption at rest with the master key,
// JWKS and list contents, scheduled rotation decided once across managers, import and retire.
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { memoryStore } from '../../src/stores/memory.js';
import type { StoredSigningKey } from '../../src/core/jwt/keyring.js';
import { AUDIENCE, ISSUER, decode, expectCode, setup } from './helpers.js';

const kidOf = (token: string): string => decode(token).header.kid as string;

describe('the key ring', () => {
  it('keeps an old key verifying until its tokens have expired, then retires it', async () => {
    const { sessions, clock, trail } = setup({ jwt: { issuer: ISSUER, audience: AUDIENCE, keyPropagation: 0 } });
    const before = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    const oldKid = kidOf(before.accessToken);
    const { kid } = await sessions.keys.rotate();
    expect(kid).not.toBe(oldKid);
    const after = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    expect(kidOf(after.accessToken)).toBe(kid);
    await sessions.validate(before.accessToken);
    const listed = await sessions.keys.list();
    expect(listed.map((k) => [k.kid, k.state])).toEqual([[kid, 'active'], [oldKid, 'verify-only']]);
    const retiresAt = listed[1]?.retiresAt?.getTime() as number;
    // Every token the old key signed is expired before it stops verifying.
    expect(retiresAt).toBeGreaterThanOrEqual(before.accessTokenExpiresAt.getTime() + 5000);
    clock.set(retiresAt);
    expect((await sessions.keys.list()).map((k) => [k.kid, k.state])).toEqual([[kid, 'active'], [oldKid, 'retired']]);
    expect((await sessions.keys.jwks()).keys.map((k) => k.kid)).toEqual([kid]);
    expect(trail.events.filter((e) => e.type === 'keys.rotated').map((e) => e.reason)).toEqual(['initial', 'manual']);
  });

  it('publishes a rotated-in key for keyPropagation before any token is signed with it (issue 17)', async () => {
    const store = memoryStore();
    const jwt = { issuer: ISSUER, audience: AUDIENCE, keyPropagation: '2m' };
    const a = setup({ store, jwt });
    const b = setup({ store, jwt });
    const first = await a.sessions.create({ userId: 'u', tokenType: 'jwt' });
    const oldKid = kidOf(first.accessToken);
    const rotatedAt = a.clock.now();
    const { kid, activatesAt } = await a.sessions.keys.rotate();
    expect(activatesAt.getTime()).toBe(rotatedAt + 120_000);
    // Published (and verifying) at once, on every instance; the old key still signs everywhere.
    for (const m of [a, b]) {
      expect((await m.sessions.keys.jwks()).keys.map((k) => k.kid)).toEqual([oldKid, kid]);
      expect(kidOf((await m.sessions.create({ userId: 'u', tokenType: 'jwt' })).accessToken)).toBe(oldKid);
    }
    expect((await b.sessions.keys.list()).map((k) => [k.kid, k.state])).toEqual([[kid, 'pending'], [oldKid, 'active']]);
    // One millisecond before its time it still waits; at its time every instance signs with it,
    // from the stored timestamp alone (b never heard of the rotation but through the store).
    for (const m of [a, b]) m.clock.set(activatesAt.getTime() - 1);
    expect(kidOf((await b.sessions.create({ userId: 'u', tokenType: 'jwt' })).accessToken)).toBe(oldKid);
    for (const m of [a, b]) m.clock.set(activatesAt.getTime());
    for (const m of [a, b]) expect(kidOf((await m.sessions.create({ userId: 'u', tokenType: 'jwt' })).accessToken)).toBe(kid);
    const listed = await a.sessions.keys.list();
    expect(listed.map((k) => [k.kid, k.state])).toEqual([[kid, 'active'], [oldKid, 'verify-only']]);
    // The old key stays published until the last token it signed (just before activatesAt) has expired.
    expect(listed[1]?.retiresAt?.getTime()).toBeGreaterThanOrEqual(activatesAt.getTime() + 300_000 + 5000);
    expect((await a.sessions.keys.jwks()).keys.map((k) => k.kid)).toEqual([kid, oldKid]);
    // No second scheduled or manual rotation sneaks in while one is pending.
    expect((await a.sessions.keys.list()).filter((k) => k.state === 'active')).toHaveLength(1);
  });

  it('creates and publishes the first key on the first JWKS request or keys.ensure(), before any token', async () => {
    const { sessions } = setup();
    const { keys } = await sessions.keys.jwks();
    expect(keys).toHaveLength(1);
    const { accessToken } = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    expect(kidOf(accessToken)).toBe(keys[0]?.kid);
    const other = setup();
    await other.sessions.keys.ensure();
    await other.sessions.keys.ensure();
    expect(await other.sessions.keys.list()).toHaveLength(1);
  });

  it('activates the pending key at once when the signing key is retired (a leaked key)', async () => {
    const { sessions } = setup();
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    const { kid } = await sessions.keys.rotate();
    expect(await sessions.keys.retire(kidOf(first.accessToken))).toBe(true);
    await expectCode(sessions.validate(first.accessToken), 'token_invalid');
    expect(kidOf((await sessions.create({ userId: 'u', tokenType: 'jwt' })).accessToken)).toBe(kid);
    expect((await sessions.keys.jwks()).keys.map((k) => k.kid)).toEqual([kid]);
  });

  it('refuses a keyPropagation that is negative, over a day, or not shorter than rotateEvery', () => {
    for (const keyPropagation of ['2d', -1, 'soon']) expect(() => setup({ jwt: { issuer: ISSUER, audience: AUDIENCE, keyPropagation } })).toThrow(/jwt.keyPropagation/);
    expect(() => setup({ jwt: { issuer: ISSUER, audience: AUDIENCE, rotateEvery: '1h', keyPropagation: '1h' } })).toThrow(/jwt.keyPropagation/);
  });

  it('encrypts private keys at rest with the master key (AES-256-GCM bound to the kid)', async () => {
    const { sessions, store } = setup();
    const { accessToken } = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    const [record] = await store.listRecords<StoredSigningKey>('signing-keys');
    expect(record?.privateKey).toMatchObject({ v: 1, iv: expect.any(String), tag: expect.any(String), data: expect.any(String) });
    expect(JSON.stringify(record)).not.toMatch(/"d":|PRIVATE KEY/);
    // Another manager with the same master key signs with the stored key...
    const same = setup({ store });
    const again = await same.sessions.create({ userId: 'v', tokenType: 'jwt' });
    expect(kidOf(again.accessToken)).toBe(kidOf(accessToken));
    // ...one with a different master key cannot, and says so instead of signing with something else.
    const other = setup({ store, masterKey: Buffer.alloc(32, 1) });
    await expectCode(other.sessions.create({ userId: 'w', tokenType: 'jwt' }), 'store_unavailable');
    await other.sessions.validate(accessToken);
    // A ciphertext moved onto another key record does not decrypt.
    await same.sessions.keys.rotate();
    const records = await store.listRecords<StoredSigningKey>('signing-keys');
    const [a, b] = records as [StoredSigningKey, StoredSigningKey];
    const active = a.state === 'active' ? a : b;
    const old = active === a ? b : a;
    await store.putRecord('signing-keys', active.kid, { ...active, privateKey: old.privateKey });
    const fresh = setup({ store });
    await expectCode(fresh.sessions.create({ userId: 'x', tokenType: 'jwt' }), 'store_unavailable');
  });

  it('derives the master key from the server secret when none is given, and accepts hex or base64', async () => {
    const store = memoryStore();
    const plain = setup({ store, masterKey: undefined });
    const { accessToken } = await plain.sessions.create({ userId: 'u', tokenType: 'jwt' });
    const again = setup({ store, masterKey: undefined });
    expect(kidOf((await again.sessions.create({ userId: 'u', tokenType: 'jwt' })).accessToken)).toBe(kidOf(accessToken));
    const key = Buffer.alloc(32, 3);
    for (const masterKey of [key.toString('hex'), key.toString('base64'), key.toString('base64url')]) {
      const s = setup({ masterKey });
      await s.sessions.validate((await s.sessions.create({ userId: 'u', tokenType: 'jwt' })).accessToken);
    }
  });

  it('rotates on schedule, once, whichever manager notices first, after the propagation window', async () => {
    const store = memoryStore();
    const a = setup({ store, jwt: { issuer: ISSUER, audience: AUDIENCE, rotateEvery: '1d' } });
    const b = setup({ store, jwt: { issuer: ISSUER, audience: AUDIENCE, rotateEvery: '1d' } });
    const first = await a.sessions.create({ userId: 'u', tokenType: 'jwt' });
    for (const m of [a, b]) m.clock.advance(86_400_000);
    // The due rotation adds a pending key; the old key signs through the propagation window.
    const [x, y] = await Promise.all([a.sessions.create({ userId: 'u', tokenType: 'jwt' }), b.sessions.create({ userId: 'u', tokenType: 'jwt' })]);
    expect([kidOf(x.accessToken), kidOf(y.accessToken)]).toEqual([kidOf(first.accessToken), kidOf(first.accessToken)]);
    expect((await a.sessions.keys.list()).map((k) => k.state)).toEqual(['pending', 'active']);
    for (const m of [a, b]) m.clock.advance(120_000);
    const z = await b.sessions.create({ userId: 'u', tokenType: 'jwt' });
    expect(kidOf(z.accessToken)).not.toBe(kidOf(first.accessToken));
    expect(kidOf((await a.sessions.create({ userId: 'u', tokenType: 'jwt' })).accessToken)).toBe(kidOf(z.accessToken));
    await b.sessions.validate(y.accessToken);
    expect((await a.sessions.keys.list()).filter((k) => k.state === 'active')).toHaveLength(1);
    expect(a.trail.events.concat(b.trail.events).filter((e) => e.type === 'keys.rotated' && e.reason === 'scheduled')).toHaveLength(1);
  });

  it('rotates to a newly configured algorithm', async () => {
    const store = memoryStore();
    const ed = setup({ store });
    const old = await ed.sessions.create({ userId: 'u', tokenType: 'jwt' });
    const es = setup({ store, jwt: { issuer: ISSUER, audience: AUDIENCE, algorithm: 'ES256', keyPropagation: 0 } });
    const fresh = await es.sessions.create({ userId: 'u', tokenType: 'jwt' });
    expect(decode(fresh.accessToken).header.alg).toBe('ES256');
    await es.sessions.validate(old.accessToken);
    expect((await es.sessions.keys.jwks()).keys.map((k) => k.alg)).toEqual(['ES256', 'EdDSA']);
  });

  it('publishes only public material in the JWKS and lists no key material', async () => {
    const { sessions } = setup({ jwt: { issuer: ISSUER, audience: AUDIENCE, algorithm: 'RS256' } });
    await sessions.create({ userId: 'u', tokenType: 'jwt' });
    const { keys } = await sessions.keys.jwks();
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0] as object).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    const listed = await sessions.keys.list();
    expect(Object.keys(listed[0] as object).sort()).toEqual(['alg', 'createdAt', 'kid', 'origin', 'retiresAt', 'state']);
  });

  it('imports a public key to verify with, and retires a key at once', async () => {
    const { sessions } = setup();
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { kid } = await sessions.keys.import({ alg: 'ES256', key: pair.publicKey.export({ format: 'pem', type: 'spki' }) as string, kid: 'partner' });
    expect(kid).toBe('partner');
    expect((await sessions.keys.list()).find((k) => k.kid === 'partner')).toMatchObject({ state: 'verify-only', retiresAt: null, origin: 'imported' });
    expect((await sessions.keys.jwks()).keys.map((k) => k.kid)).not.toContain('partner');
    const { accessToken } = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    expect(await sessions.keys.retire(kidOf(accessToken))).toBe(true);
    await expectCode(sessions.validate(accessToken), 'token_invalid');
    await expectCode(sessions.keys.import({ alg: 'EdDSA', key: pair.publicKey }), 'invalid_request');
    await expectCode(sessions.keys.import({ alg: 'ES256', key: pair.publicKey, activate: true }), 'invalid_request');
    await expectCode(sessions.keys.import({ alg: 'ES256', key: pair.publicKey, kid: '../x' }), 'invalid_request');
    await expectCode(sessions.keys.import({ alg: 'HS256', key: { kty: 'oct', k: 'c2hvcnQ' } }), 'invalid_request');
  });
});
