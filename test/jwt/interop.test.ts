// Interop with a third party (jose 6): our tokens verify with jwtVerify against our JWKS, before
// and after a rotation and for every algorithm; tokens jose signs with a key we import verify with ours.
import { describe, expect, it } from 'vitest';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import type { JwtAlgorithm } from '../../src/tokens/jwt-algorithms.js';
import { AUDIENCE, ISSUER, expectCode, setup } from './helpers.js';

describe('interop with jose', () => {
  it('verifies our tokens with jose against our JWKS, before and after a rotation', async () => {
    // jose checks exp/iat against the real clock, so this manager runs on it too; the new key
    // signs at once (no propagation window: the JWKS here is read after the rotation).
    const { sessions } = setup({ now: Date.now, jwt: { issuer: ISSUER, audience: AUDIENCE, keyPropagation: 0 } });
    const before = await sessions.create({ userId: 'alice', roles: ['user'], tokenType: 'jwt' });
    const options = { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['EdDSA'] };
    const first = await jwtVerify(before.accessToken, createLocalJWKSet(await sessions.keys.jwks()), options);
    expect(first.payload).toMatchObject({ sub: 'alice', sid: before.session.id, roles: ['user'] });
    expect(first.protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    await sessions.keys.rotate();
    const after = await sessions.refresh(before.refreshToken);
    const jwks = createLocalJWKSet(await sessions.keys.jwks());
    expect((await jwtVerify(after.accessToken, jwks, options)).protectedHeader.kid).not.toBe(first.protectedHeader.kid);
    // The old key is still published while its tokens live.
    expect((await jwtVerify(before.accessToken, jwks, options)).payload.sid).toBe(before.session.id);
  });

  for (const algorithm of ['ES256', 'RS256'] as JwtAlgorithm[]) {
    it(`verifies our ${algorithm} tokens with jose`, async () => {
      const { sessions } = setup({ now: Date.now, jwt: { issuer: ISSUER, audience: AUDIENCE, algorithm } });
      const { accessToken } = await sessions.create({ userId: 'bob', tokenType: 'jwt' });
      const { payload } = await jwtVerify(accessToken, createLocalJWKSet(await sessions.keys.jwks()), { issuer: ISSUER, audience: AUDIENCE, algorithms: [algorithm] });
      expect(payload.sub).toBe('bob');
    });
  }

  for (const alg of ['EdDSA', 'ES256', 'RS256'] as JwtAlgorithm[]) {
    it(`verifies tokens jose signs (${alg}) with a key we import`, async () => {
      const { sessions } = setup({ now: Date.now });
      const { session } = await sessions.create({ userId: 'carol', roles: ['user'], tokenType: 'jwt' });
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, crv: alg === 'EdDSA' ? 'Ed25519' : undefined });
      await sessions.keys.import({ alg, key: await exportJWK(publicKey), kid: `jose-${alg}` });
      const sign = (header: Record<string, unknown>) => new SignJWT({ sid: session.id, roles: ['user'] })
        .setProtectedHeader({ alg, kid: `jose-${alg}`, typ: 'at+jwt', ...header })
        .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('carol').setJti('jose-1').setIssuedAt().setExpirationTime('2m')
        .sign(privateKey);
      const seen = await sessions.validate(await sign({}));
      expect(seen).toMatchObject({ id: session.id, userId: 'carol', roles: ['user'] });
      // The same key under a header we do not accept is still refused.
      await expectCode(sessions.validate(await sign({ typ: 'JWT' })), 'token_invalid');
    });
  }

  it('verifies an HS256 token jose signs with a shared secret we import', async () => {
    const { sessions } = setup({ now: Date.now, jwt: { issuer: ISSUER, audience: AUDIENCE, algorithm: 'HS256' } });
    const { session } = await sessions.create({ userId: 'dave', tokenType: 'jwt' });
    const secret = new Uint8Array(32).fill(42);
    await sessions.keys.import({ alg: 'HS256', key: { kty: 'oct', k: Buffer.from(secret).toString('base64url') }, kid: 'shared' });
    const token = await new SignJWT({ sid: session.id }).setProtectedHeader({ alg: 'HS256', kid: 'shared', typ: 'at+jwt' })
      .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('dave').setJti('j').setIssuedAt().setExpirationTime('1m').sign(secret);
    expect((await sessions.validate(token)).userId).toBe('dave');
  });
});
