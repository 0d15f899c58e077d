// Strict verification: every malicious or malformed access token is refused with token_invalid,
// never accepted, never a different error type. The test holds the signing key (imported into the
// ring), so it can forge tokens that are validly signed but wrong in exactly one way.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { b64, decode, edSigner, expectCode, forge, hmacSigner, setup } from './helpers.js';

const KID = 'test-ed25519';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const attacker = generateKeyPairSync('ed25519');

let capture: Server;
let captured = 0;
let captureUrl = '';

beforeAll(async () => {
  // Anything fetched from here would be a verifier following a header it must ignore.
  capture = createServer((req, res) => {
    captured += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [{ ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker', alg: 'EdDSA' }] }));
  });
  await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
  captureUrl = `http://127.0.0.1:${(capture.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => capture.close(resolve));
});

describe('access-token verification', () => {
  let ctx: ReturnType<typeof setup>;
  let valid: string;
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  const ours = edSigner(privateKey);

  beforeEach(async () => {
    ctx = setup();
    await ctx.sessions.keys.import({ alg: 'EdDSA', key: privateKey, kid: KID, activate: true });
    const issued = await ctx.sessions.create({ userId: 'alice', roles: ['user'], tokenType: 'jwt' });
    valid = issued.accessToken;
    ({ header, payload: claims } = decode(valid));
    expect(header).toEqual({ alg: 'EdDSA', kid: KID, typ: 'at+jwt' });
  });

  const rejects = async (token: string, detail?: string) => {
    await expectCode(ctx.sessions.validate(token), 'token_invalid');
    const last = ctx.trail.events.at(-1);
    expect(last).toMatchObject({ type: 'session.rejected', reason: 'invalid' });
    if (detail) expect(last?.detail).toBe(detail);
  };

  it('accepts the untouched token and a forged copy signed by the same key (the baseline)', async () => {
    await ctx.sessions.validate(valid);
    const copy = forge(header, claims, ours);
    expect((await ctx.sessions.validate(copy)).userId).toBe('alice');
  });

  for (const alg of ['none', 'None', 'NONE']) {
    it(`rejects alg: ${alg} without a signature`, async () => {
      await rejects(forge({ alg, typ: 'at+jwt' }, claims, ''));
      await rejects(forge({ alg, kid: KID, typ: 'at+jwt' }, claims, ''));
    });
    it(`rejects alg: ${alg} with a signature`, async () => {
      await rejects(forge({ alg, kid: KID, typ: 'at+jwt' }, claims, ours));
      await rejects(forge({ alg, kid: KID, typ: 'at+jwt' }, claims, 'c2lnbmF0dXJl'));
    });
  }

  it('rejects HS256 signed with the public key as PEM (algorithm confusion)', async () => {
    const pem = publicKey.export({ format: 'pem', type: 'spki' });
    await rejects(forge({ ...header, alg: 'HS256' }, claims, hmacSigner(pem)), 'alg_mismatch');
  });

  it('rejects HS256 signed with the public key as DER (algorithm confusion)', async () => {
    const der = publicKey.export({ format: 'der', type: 'spki' });
    await rejects(forge({ ...header, alg: 'HS256' }, claims, hmacSigner(der)), 'alg_mismatch');
  });

  it('rejects HS256 signed with the public key as JWK bytes (algorithm confusion)', async () => {
    const jwks = await ctx.sessions.keys.jwks();
    const jwk = jwks.keys.find((k) => k.kid === KID);
    await rejects(forge({ ...header, alg: 'HS256' }, claims, hmacSigner(JSON.stringify(jwk))), 'alg_mismatch');
    await rejects(forge({ ...header, alg: 'HS256' }, claims, hmacSigner(Buffer.from(String(jwk?.x), 'base64url'))), 'alg_mismatch');
  });

  it('rejects a valid signature under an algorithm outside the allowlist', async () => {
    // Same Ed25519 signature, but announced as the fully-specified "Ed25519" (RFC 9864), and as EdDSA's cousins.
    await rejects(forge({ ...header, alg: 'Ed25519' }, claims, ours), 'alg');
    await rejects(forge({ ...header, alg: 'Ed448' }, claims, ours), 'alg');
    // A real HS512 signature by a key the ring holds as HS256.
    const hs = setup({ jwt: { issuer: 'x', audience: 'y', algorithm: 'HS256' } });
    const secret = Buffer.alloc(32, 7);
    await hs.sessions.keys.import({ alg: 'HS256', key: { kty: 'oct', k: secret.toString('base64url') }, kid: 'hs', activate: true });
    const { accessToken } = await hs.sessions.create({ userId: 'bob', tokenType: 'jwt' });
    const hsToken = decode(accessToken);
    expect((await hs.sessions.validate(forge(hsToken.header, hsToken.payload, hmacSigner(secret)))).userId).toBe('bob');
    for (const [alg, hash] of [['HS512', 'sha512'], ['HS384', 'sha384']] as const) {
      await expectCode(hs.sessions.validate(forge({ ...hsToken.header, alg }, hsToken.payload, hmacSigner(secret, hash))), 'token_invalid');
    }
  });

  it('rejects a tampered payload', async () => {
    const [h, , s] = valid.split('.');
    await rejects(`${h}.${b64({ ...claims, sub: 'mallory' })}.${s}`, 'signature');
    await rejects(`${h}.${b64({ ...claims, roles: ['admin'] })}.${s}`, 'signature');
    await rejects(`${h}.${b64({ ...claims, exp: (claims.exp as number) + 3600 })}.${s}`, 'signature');
  });

  it('rejects a stripped signature', async () => {
    const [h, p] = valid.split('.');
    await rejects(`${h}.${p}.`);
    await rejects(`${h}.${p}`);
    await rejects(`${h}.${p}.${'A'.repeat(86)}`, 'signature');
  });

  it('rejects an unknown kid', async () => {
    await rejects(forge({ ...header, kid: 'no-such-key' }, claims, ours), 'unknown_kid');
  });

  it('rejects a kid of ../../dev/null', async () => {
    await rejects(forge({ ...header, kid: '../../dev/null' }, claims, ours), 'unknown_kid');
  });

  it('rejects a kid holding SQL', async () => {
    await rejects(forge({ ...header, kid: "x' UNION SELECT key FROM keys; --" }, claims, ours), 'unknown_kid');
  });

  it('rejects a kid of 10 KB (and of 1 KB, inside the size limit)', async () => {
    await rejects(forge({ ...header, kid: 'k'.repeat(10_240) }, claims, ours), 'too_long');
    await rejects(forge({ ...header, kid: 'k'.repeat(1024) }, claims, ours), 'kid');
  });

  for (const name of ['jwk', 'jku', 'x5u', 'x5c'] as const) {
    it(`rejects a ${name} header and fetches nothing`, async () => {
      const before = captured;
      const value = name === 'jwk' ? { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker' }
        : name === 'x5c' ? [attacker.publicKey.export({ format: 'der', type: 'spki' }).toString('base64')]
          : `${captureUrl}/${name}.json`;
      // Signed by the attacker's key, as the header invites, and by ours with the header added.
      await rejects(forge({ alg: 'EdDSA', kid: 'attacker', typ: 'at+jwt', [name]: value }, claims, edSigner(attacker.privateKey)));
      await rejects(forge({ ...header, [name]: value }, claims, ours), 'header_param');
      expect(captured).toBe(before);
    });
  }

  it('proves the capture server would have seen a fetch', async () => {
    const res = await fetch(`${captureUrl}/probe`);
    expect(res.status).toBe(200);
    expect(captured).toBeGreaterThan(0);
    captured = 0;
  });

  it('rejects crit: ["x"]', async () => {
    await rejects(forge({ ...header, crit: ['x'], x: true }, claims, ours), 'header_param');
    await rejects(forge({ ...header, crit: ['exp'] }, claims, ours), 'header_param');
  });

  it('rejects a wrong aud, a missing aud and a wrong iss', async () => {
    await rejects(forge(header, { ...claims, aud: 'https://other.example.test' }, ours), 'audience');
    await rejects(forge(header, { ...claims, aud: ['https://other.example.test'] }, ours), 'audience');
    const { aud: _aud, ...noAud } = claims;
    await rejects(forge(header, noAud, ours), 'audience');
    await rejects(forge(header, { ...claims, iss: 'https://evil.example.test' }, ours), 'issuer');
    const { iss: _iss, ...noIss } = claims;
    await rejects(forge(header, noIss, ours), 'issuer');
  });

  it('rejects a missing exp, and nbf or iat in the future beyond the clock tolerance', async () => {
    const { exp: _exp, ...noExp } = claims;
    await rejects(forge(header, noExp, ours), 'claims');
    const now = ctx.clock.now() / 1000;
    await rejects(forge(header, { ...claims, nbf: now + 6 }, ours), 'not_yet_valid');
    await rejects(forge(header, { ...claims, iat: now + 6 }, ours), 'issued_in_future');
    await ctx.sessions.validate(forge(header, { ...claims, nbf: now + 4, iat: now + 4 }, ours));
  });

  it('rejects a wrong or missing typ', async () => {
    await rejects(forge({ ...header, typ: 'JWT' }, claims, ours), 'typ');
    const { typ: _typ, ...noTyp } = header;
    await rejects(forge(noTyp, claims, ours), 'typ');
  });

  it('judges a header of the same length as the one seen last on its own (the last header is remembered verbatim)', async () => {
    await ctx.sessions.validate(valid);
    await rejects(forge({ ...header, typ: 'at+jwX' }, claims, ours), 'typ');
    await rejects(forge({ ...header, kid: 'test-ed25518' }, claims, ours), 'unknown_kid');
    expect((await ctx.sessions.validate(valid)).userId).toBe('alice');
    await ctx.sessions.keys.retire(KID);
    await rejects(valid);
  });

  it('rejects a refresh token presented as an access token', async () => {
    const { refreshToken } = await ctx.sessions.create({ userId: 'alice', tokenType: 'jwt' });
    await rejects(refreshToken, 'refresh_token');
  });

  it('rejects a logout token presented as an access token', async () => {
    const logout = { iss: claims.iss, aud: claims.aud, iat: claims.iat, jti: 'l1', sid: claims.sid, sub: claims.sub,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} } };
    await rejects(forge({ ...header, typ: 'logout+jwt' }, logout, ours), 'typ');
    await rejects(forge(header, { ...logout, exp: claims.exp }, ours), 'logout_token');
  });

  it('rejects extra base64 padding in any segment', async () => {
    const [h, p, s] = valid.split('.');
    await rejects(`${h}=.${p}.${s}`, 'header');
    await rejects(`${h}.${p}==.${s}`, 'signature');
    await rejects(`${h}.${p}.${s}==`, 'signature');
    await rejects(`${h}.${p}.${s}=`, 'signature');
  });

  it('rejects a non-canonical signature encoding (unused bits set)', async () => {
    const [h, p, s] = valid.split('.') as [string, string, string];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.at(-1) as string);
    const twin = `${s.slice(0, -1)}${alphabet[last | 1]}`;
    expect(Buffer.from(twin, 'base64url').equals(Buffer.from(s, 'base64url'))).toBe(true);
    await rejects(`${h}.${p}.${twin}`, 'signature');
  });

  it('rejects other shapes: four segments, spaces, unicode, JSON that is not an object', async () => {
    const [h, p, s] = valid.split('.');
    await rejects(`${h}.${p}.${s}.${s}`);
    await rejects(`${h}.${p} .${s}`);
    await rejects(`${h}.${p}ł.${s}`);
    await rejects(forge('{"alg":"EdDSA","kid":"test-ed25519","typ":"at+jwt"', claims, ours), 'header');
    // A header that is not a JSON object does not even begin with `eyJ`: not a JWT, so malformed.
    await expectCode(ctx.sessions.validate(forge('[1,2]', claims, ours)), 'token_malformed');
    await rejects(forge(header, '"just a string"', ours), 'payload');
    await rejects(forge(header, '{not json', ours), 'payload');
    await rejects(`eyJ${'A'.repeat(20)}.x.y`);
  });

  it('rejects a token signed by another key that claims our kid', async () => {
    await rejects(forge(header, claims, edSigner(attacker.privateKey)), 'signature');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await rejects(forge({ ...header, alg: 'ES256' }, claims, (input) => sign('sha256', Buffer.from(input), { key: ec.privateKey as KeyObject, dsaEncoding: 'ieee-p1363' })), 'alg_mismatch');
  });

  it('never throws anything but a SessionError, whatever the bytes', async () => {
    const samples = ['eyJ.', 'eyJ..', 'eyJ...', `eyJ${'.'.repeat(50)}`, `${valid.split('.')[0]}.${'\u0000'}.x`, `eyJhbGciOiJFZERTQSJ9.e30.${'A'.repeat(86)}`,
      `${b64('{"alg":"EdDSA","kid":"test-ed25519","typ":"at+jwt","__proto__":{"x":1}}')}.${b64(claims)}.${'A'.repeat(86)}`];
    for (const token of samples) await expectCode(ctx.sessions.validate(token), 'token_invalid');
  });
});
