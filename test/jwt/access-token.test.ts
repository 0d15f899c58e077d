// Issuing and validating access tokens: header and claims, lifetimes and jitter, every algorithm,
// expiry, the verified-token cache, and what a JWT session's secrets must never be used as.
import { describe, expect, it } from 'vitest';
import { AUDIENCE, ISSUER, decode, expectCode, setup } from './helpers.js';
import { createSessionManager } from '../../src/core/manager.js';
import { memoryStore } from '../../src/stores/memory.js';
import type { JwtAlgorithm } from '../../src/tokens/jwt-algorithms.js';

describe('JWT access tokens', () => {
  it('issues an at+jwt token with the documented header and claims', async () => {
    const { sessions, clock } = setup();
    const issued = await sessions.create({ userId: 'alice', roles: ['user', 'editor'], authMethods: ['pwd'], tokenType: 'jwt' });
    expect(Object.keys(issued).sort()).toEqual(['accessToken', 'accessTokenExpiresAt', 'expiresAt', 'refreshToken', 'session']);
    const { header, payload } = decode(issued.accessToken);
    const kid = (await sessions.keys.list())[0]?.kid;
    expect(header).toEqual({ alg: 'EdDSA', kid, typ: 'at+jwt' });
    expect(payload).toMatchObject({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', sid: issued.session.id, roles: ['user', 'editor'], amr: ['pwd'], iat: clock.now() / 1000 });
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(issued.accessTokenExpiresAt.getTime()).toBe((payload.exp as number) * 1000);
    expect(issued.expiresAt.getTime()).toBe(issued.session.idleExpiresAt.getTime());
    expect(issued.refreshToken).toMatch(/^skr_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(issued.session.tokenType).toBe('jwt');
  });

  it('shortens each lifetime by a random jitter of at most 5 %', async () => {
    const { sessions, clock } = setup();
    const lifetimes = new Set<number>();
    for (let i = 0; i < 40; i += 1) {
      const { accessTokenExpiresAt } = await sessions.create({ userId: `u${i}`, tokenType: 'jwt' });
      const seconds = (accessTokenExpiresAt.getTime() - clock.now()) / 1000;
      expect(seconds).toBeGreaterThanOrEqual(285);
      expect(seconds).toBeLessThanOrEqual(300);
      lifetimes.add(seconds);
    }
    expect(lifetimes.size).toBeGreaterThan(5);
  });

  it('takes a configured lifetime, and never lets a token outlive its session', async () => {
    const short = setup({ jwt: { issuer: ISSUER, audience: AUDIENCE, accessTokenTtl: '1m' } });
    const a = await short.sessions.create({ userId: 'u', tokenType: 'jwt' });
    expect(a.accessTokenExpiresAt.getTime() - short.clock.now()).toBeLessThanOrEqual(60_000);
    expect(a.accessTokenExpiresAt.getTime() - short.clock.now()).toBeGreaterThanOrEqual(57_000);
    const capped = setup({ absoluteTimeout: '2m', idleTimeout: '2m' });
    const b = await capped.sessions.create({ userId: 'u', tokenType: 'jwt' });
    expect(b.accessTokenExpiresAt.getTime()).toBe(capped.clock.now() + 120_000);
  });

  for (const algorithm of ['EdDSA', 'ES256', 'RS256', 'HS256'] as JwtAlgorithm[]) {
    it(`signs and verifies with ${algorithm}`, async () => {
      const { sessions } = setup({ jwt: { issuer: ISSUER, audience: AUDIENCE, algorithm } });
      const { accessToken, session } = await sessions.create({ userId: 'alice', tokenType: 'jwt' });
      expect(decode(accessToken).header.alg).toBe(algorithm);
      expect((await sessions.validate(accessToken)).id).toBe(session.id);
      const jwks = await sessions.keys.jwks();
      expect(jwks.keys).toHaveLength(algorithm === 'HS256' ? 0 : 1);
    });
  }

  it('rejects an expired access token with session_expired, after the clock tolerance', async () => {
    const { sessions, clock, trail } = setup();
    const { accessToken, accessTokenExpiresAt } = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    clock.set(accessTokenExpiresAt.getTime() + 4_999);
    await sessions.validate(accessToken);
    clock.advance(1);
    const err = await expectCode(sessions.validate(accessToken), 'session_expired');
    expect(err.details.expiry).toBe('access_token');
    expect(trail.events.at(-1)).toMatchObject({ type: 'session.rejected', reason: 'expired', detail: 'access_token' });
  });

  it('honours a configured clock tolerance', async () => {
    const { sessions, clock } = setup({ jwt: { issuer: ISSUER, audience: AUDIENCE, clockTolerance: 0 } });
    const { accessToken, accessTokenExpiresAt } = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    clock.set(accessTokenExpiresAt.getTime() - 1);
    await sessions.validate(accessToken);
    clock.advance(1);
    await expectCode(sessions.validate(accessToken), 'session_expired');
  });

  it('returns the session the token describes, or the stored one with checkRevocation always', async () => {
    const device = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '203.0.113.9' };
    const stateless = setup();
    const a = await stateless.sessions.create({ userId: 'alice', roles: ['admin'], device, tokenType: 'jwt' });
    const view = await stateless.sessions.validate(a.accessToken);
    expect(view).toMatchObject({ id: a.session.id, userId: 'alice', roles: ['admin'], tokenType: 'jwt', data: {} });
    expect(view.device.type).toBe('unknown');
    const always = setup({ checkRevocation: 'always' });
    const b = await always.sessions.create({ userId: 'alice', device, data: { theme: 'dark' }, tokenType: 'jwt' });
    expect(await always.sessions.validate(b.accessToken)).toEqual(b.session);
  });

  it('answers a token seen again from the cache, but never past exp and never after revocation', async () => {
    const { sessions, clock } = setup();
    const { accessToken, accessTokenExpiresAt, session } = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    await sessions.validate(accessToken);
    await sessions.validate(accessToken);
    clock.set(accessTokenExpiresAt.getTime() + 5_000);
    await expectCode(sessions.validate(accessToken), 'session_expired');
    const again = await sessions.refresh((await sessions.create({ userId: 'v', tokenType: 'jwt' })).refreshToken);
    await sessions.validate(again.accessToken);
    await sessions.revoke(again.session.id);
    await expectCode(sessions.validate(again.accessToken), 'session_revoked');
    expect(session.id).not.toBe(again.session.id);
  });

  it('keeps opaque sessions working beside JWT sessions, and keeps their tokens apart', async () => {
    const { sessions } = setup();
    const opaque = await sessions.create({ userId: 'u' });
    const jwt = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    await sessions.validate(opaque.token);
    await sessions.validate(jwt.accessToken);
    // The refresh secret under the opaque prefix is not a session token.
    expect(jwt.refreshToken.startsWith('skr_')).toBe(true);
    const rest = jwt.refreshToken.slice('skr_'.length);
    await expectCode(sessions.validate(`sk_${rest}`), 'token_invalid');
    await expectCode(sessions.renew(`sk_${rest}`), 'token_invalid');
    // An opaque token under the refresh prefix is not a refresh token.
    await expectCode(sessions.refresh(opaque.token.replace('sk_', 'skr_')), 'token_invalid');
    await expectCode(sessions.refresh(opaque.token), 'token_invalid');
    await expectCode(sessions.refresh(jwt.accessToken), 'token_invalid');
    await expectCode(sessions.refresh('garbage'), 'token_malformed');
  });

  it('replaces the session of a refresh token or access token presented at login', async () => {
    const { sessions } = setup();
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    await sessions.create({ userId: 'u', tokenType: 'jwt', replaces: first.refreshToken });
    const err = await expectCode(sessions.refresh(first.refreshToken), 'session_revoked');
    expect(err.details.reason).toBe('replaced');
    await expectCode(sessions.validate(first.accessToken), 'session_revoked');
    const second = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    await sessions.create({ userId: 'u', replaces: second.accessToken });
    await expectCode(sessions.validate(second.accessToken), 'session_revoked');
  });

  it('refuses JWT sessions and bad options without the jwt option set up right', async () => {
    const plain = createSessionManager({ store: memoryStore() });
    await expectCode(plain.create({ userId: 'u', tokenType: 'jwt' }), 'invalid_request');
    await expectCode(plain.create({ userId: 'u', tokenType: 'paseto' as 'jwt' }), 'invalid_request');
    const bad = [
      { jwt: { issuer: '', audience: 'a' } }, { jwt: { issuer: 'i', audience: 'a', algorithm: 'HS512' } },
      { jwt: { issuer: 'i', audience: 'a', accessTokenTtl: '2d' } }, { jwt: { issuer: 'i', audience: 'a', rotateEvery: '1m' } },
      { refreshGrace: '301s' }, { checkRevocation: 'sometimes' }, { masterKey: 'too short' }, { masterKey: Buffer.alloc(16) },
    ];
    for (const opts of bad) {
      expect(() => createSessionManager({ store: memoryStore(), ...(opts as object) })).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    }
  });
});
