// Refresh tokens: single use, rotated on every refresh, idempotent inside the grace window, theft
// (reuse after it) revokes the session, and a refresh never outlives the session's limits.
import { describe, expect, it } from 'vitest';
import { decode, expectCode, setup } from './helpers.js';
import { hashSecret } from '../../src/tokens/opaque.js';

describe('refresh tokens', () => {
  it('rotates the refresh token and issues a new access token', async () => {
    const { sessions, clock, trail } = setup();
    const first = await sessions.create({ userId: 'alice', tokenType: 'jwt' });
    clock.advance(60_000);
    const next = await sessions.refresh(first.refreshToken, { ip: '203.0.113.5' });
    expect(next.refreshToken).not.toBe(first.refreshToken);
    expect(next.accessToken).not.toBe(first.accessToken);
    expect(next.session.id).toBe(first.session.id);
    expect(decode(next.accessToken).payload.iat).toBe(clock.now() / 1000);
    expect(next.expiresAt.getTime()).toBe(clock.now() + 30 * 60_000);
    await sessions.validate(next.accessToken);
    expect(trail.events.filter((e) => e.type === 'session.refreshed')).toHaveLength(1);
    expect(trail.events.find((e) => e.type === 'session.refreshed')?.ip).toBe('203.0.113.5');
  });

  it('stores only hashes of refresh tokens', async () => {
    const { sessions, store } = setup();
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    const next = await sessions.refresh(first.refreshToken);
    const raw = JSON.stringify(await store.get(first.session.id));
    for (const token of [first.refreshToken, next.refreshToken]) {
      const secret = token.split('.')[1] as string;
      expect(raw).not.toContain(secret);
      expect(raw).toContain(hashSecret(secret));
    }
  });

  it('returns the same new pair for the previous token inside the grace window', async () => {
    const { sessions, clock, trail } = setup({ refreshGrace: '10s' });
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    const a = await sessions.refresh(first.refreshToken);
    clock.advance(9_999);
    const b = await sessions.refresh(first.refreshToken);
    expect(b.refreshToken).toBe(a.refreshToken);
    expect(b.accessToken).toBe(a.accessToken);
    expect(trail.events.filter((e) => e.type === 'session.refreshed')).toHaveLength(1);
    // The chain goes on from the one successor.
    const c = await sessions.refresh(a.refreshToken);
    await sessions.validate(c.accessToken);
  });

  it('gives the same claims to a repeated refresh with ES256 (whose signatures are randomised)', async () => {
    const { sessions } = setup({ jwt: { issuer: 'https://auth.example.test', audience: 'https://api.example.test', algorithm: 'ES256' } });
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    const a = await sessions.refresh(first.refreshToken);
    const b = await sessions.refresh(first.refreshToken);
    expect(b.refreshToken).toBe(a.refreshToken);
    expect(decode(b.accessToken)).toEqual(decode(a.accessToken));
  });

  it('treats the previous token after the grace window as theft: revokes the session and audits it', async () => {
    const { sessions, clock, trail, store } = setup({ refreshGrace: '10s' });
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    const next = await sessions.refresh(first.refreshToken);
    clock.advance(10_000);
    await expectCode(sessions.refresh(first.refreshToken, { ip: '198.51.100.66' }), 'refresh_reused');
    const detected = trail.events.find((e) => e.type === 'session.refresh_reuse_detected');
    expect(detected).toMatchObject({ sessionId: first.session.id, userId: 'u', ip: '198.51.100.66', reason: 'refresh_reuse' });
    expect(detected?.tokenFingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(JSON.stringify(trail.events)).not.toContain(first.refreshToken.split('.')[1]);
    const revoked = await expectCode(sessions.refresh(next.refreshToken), 'session_revoked');
    expect(revoked.details.reason).toBe('refresh_reuse');
    await expectCode(sessions.validate(next.accessToken), 'session_revoked');
    expect((await store.queryAudit({ sessionId: first.session.id, type: 'session.refresh_reuse_detected' }))).toHaveLength(1);
  });

  it('detects reuse of a token several generations old', async () => {
    const { sessions, clock } = setup({ refreshGrace: 0 });
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    let current = first.refreshToken;
    for (let i = 0; i < 5; i += 1) {
      clock.advance(1000);
      current = (await sessions.refresh(current)).refreshToken;
    }
    await expectCode(sessions.refresh(first.refreshToken), 'refresh_reused');
    await expectCode(sessions.refresh(current), 'session_revoked');
  });

  it('rejects an unknown refresh secret without revoking anything', async () => {
    const { sessions } = setup();
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    await expectCode(sessions.refresh(`${first.refreshToken.split('.')[0]}.${'A'.repeat(43)}`), 'token_invalid');
    await expectCode(sessions.refresh(`skr_${'B'.repeat(43)}.${'A'.repeat(43)}`), 'session_not_found');
    await sessions.refresh(first.refreshToken);
  });

  it('re-checks the idle timeout and slides it', async () => {
    const { sessions, clock } = setup({ idleTimeout: '10m' });
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    clock.advance(9 * 60_000);
    const a = await sessions.refresh(first.refreshToken);
    clock.advance(9 * 60_000);
    const b = await sessions.refresh(a.refreshToken);
    clock.advance(10 * 60_000);
    const err = await expectCode(sessions.refresh(b.refreshToken), 'session_expired');
    expect(err.details.expiry).toBe('idle');
  });

  it('never extends a session past its absolute lifetime', async () => {
    const { sessions, clock } = setup({ idleTimeout: '30m', absoluteTimeout: '1h' });
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    const end = first.session.absoluteExpiresAt.getTime();
    let token = first.refreshToken;
    for (let i = 0; i < 3; i += 1) {
      clock.advance(19 * 60_000);
      const r = await sessions.refresh(token);
      expect(r.expiresAt.getTime()).toBeLessThanOrEqual(end);
      expect(r.accessTokenExpiresAt.getTime()).toBeLessThanOrEqual(end);
      token = r.refreshToken;
    }
    clock.set(end - 60_000);
    const last = await sessions.refresh(token);
    expect(last.accessTokenExpiresAt.getTime()).toBe(end);
    clock.set(end);
    const err = await expectCode(sessions.refresh(last.refreshToken), 'session_expired');
    expect(err.details.expiry).toBe('absolute');
  });

  it('stops refreshing after logout', async () => {
    const { sessions } = setup();
    const first = await sessions.create({ userId: 'u', tokenType: 'jwt' });
    await sessions.revoke(first.session.id, { reason: 'logout' });
    const err = await expectCode(sessions.refresh(first.refreshToken), 'session_revoked');
    expect(err.details.reason).toBe('logout');
  });
});
