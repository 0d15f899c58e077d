// DPoP proof verification (RFC 9449 §4.3): proofs from an independent client (panva's `dpop`,
// unmodified) verify for every algorithm; a hand-made proof failing each check is refused with
// `invalid_dpop_proof` (or `use_dpop_nonce`) and names the check.
import { describe, expect, it } from 'vitest';
import { calculateThumbprint, generateKeyPair as dpopKeyPair, generateProof, type JWSAlgorithm } from 'dpop';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  DpopError, accessTokenHash, dpopChallenge, normaliseHtu, verifyDpopProof, type VerifyDpopProofOptions,
} from '../../src/tokens/dpop.js';

const URL_ = 'https://api.example.com/v1/resource';
const NOW = 1_800_000_000_000;

/** A hand-made proof: jose signs exactly the header and claims we give it. */
async function handMade(
  edit: { header?: Record<string, unknown>; claims?: Record<string, unknown>; signWith?: CryptoKey } = {},
): Promise<{ proof: string; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const claims = { jti: 'proof-1', htm: 'GET', htu: URL_, iat: NOW / 1000, ...edit.claims };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete (claims as Record<string, unknown>)[k];
  const proof = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...edit.header } as never)
    .sign(edit.signWith ?? privateKey);
  return { proof, jwk };
}

const base: VerifyDpopProofOptions = { method: 'GET', url: URL_, now: NOW };

async function reason(header: string | string[] | undefined, options: Partial<VerifyDpopProofOptions> = {}): Promise<string> {
  const err = await verifyDpopProof(header, { ...base, ...options }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DpopError);
  const dpop = err as DpopError;
  expect([dpop.status, dpop.code === 'invalid_dpop_proof' || dpop.code === 'use_dpop_nonce']).toEqual([401, true]);
  return dpop.reason;
}

describe('DPoP proofs from panva/dpop', () => {
  for (const alg of ['ES256', 'Ed25519', 'RS256', 'PS256'] as JWSAlgorithm[]) {
    it(`accepts a ${alg} proof bound to an access token and returns its key's RFC 7638 thumbprint`, async () => {
      const keys = await dpopKeyPair(alg);
      const proof = await generateProof(keys, URL_, 'POST', undefined, 'the-access-token');
      const verified = await verifyDpopProof(proof, { method: 'post', url: URL_, now: Date.now(), accessToken: 'the-access-token' });
      expect(verified.jkt).toBe(await calculateThumbprint(keys.publicKey));
    });
  }

  it('accepts the proof when the token is bound to the same key and refuses it for another key', async () => {
    const keys = await dpopKeyPair('ES256');
    const other = await dpopKeyPair('ES256');
    const proof = await generateProof(keys, URL_, 'GET', undefined, 'tok');
    const options = { ...base, now: Date.now(), accessToken: 'tok' };
    await expect(verifyDpopProof(proof, { ...options, expectedJkt: await calculateThumbprint(keys.publicKey) })).resolves.toBeDefined();
    expect(await reason(proof, { ...options, expectedJkt: await calculateThumbprint(other.publicKey) })).toBe('jkt');
  });

  it('asks for the server nonce with use_dpop_nonce and accepts a proof that carries it', async () => {
    const keys = await dpopKeyPair('ES256');
    const nonces = { isValid: (n: string) => n === 'n-2', current: () => 'n-2' };
    const without = await generateProof(keys, URL_, 'GET');
    const err = (await verifyDpopProof(without, { ...base, now: Date.now(), nonces }).then(() => undefined, (e: unknown) => e)) as DpopError;
    expect([err.code, err.nonce, err.wwwAuthenticate]).toEqual(['use_dpop_nonce', 'n-2', expect.stringMatching(/^DPoP error="use_dpop_nonce"/)]);
    const withStale = await generateProof(keys, URL_, 'GET', 'n-1');
    expect(await reason(withStale, { now: Date.now(), nonces })).toBe('nonce');
    const withNonce = await generateProof(keys, URL_, 'GET', 'n-2');
    await expect(verifyDpopProof(withNonce, { ...base, now: Date.now(), nonces })).resolves.toBeDefined();
  });

  it('refuses a proof used twice when the replay callback has seen it', async () => {
    const keys = await dpopKeyPair('ES256');
    const proof = await generateProof(keys, URL_, 'GET');
    const seen = new Map<string, number>();
    const useOnce = (key: string, until: number): boolean => !seen.has(key) && seen.set(key, until) !== undefined;
    const first = await verifyDpopProof(proof, { ...base, now: Date.now(), useOnce });
    expect(seen.get(first.replayKey)).toBe(first.replayExpiresAt);
    expect(await reason(proof, { now: Date.now(), useOnce })).toBe('replay');
  });
});

describe('hand-made DPoP proofs', () => {
  it('accepts a correct hand-made proof (the baseline the bad ones differ from)', async () => {
    const { proof } = await handMade();
    await expect(verifyDpopProof(proof, base)).resolves.toMatchObject({ jti: 'proof-1', iat: NOW / 1000 });
  });

  it('refuses a missing header, two headers, a joined header, an oversized or non-JWS value', async () => {
    const { proof } = await handMade();
    expect(await reason(undefined)).toBe('missing');
    expect(await reason('')).toBe('missing');
    expect(await reason([proof, proof])).toBe('multiple');
    expect(await reason(`${proof}, ${proof}`)).toBe('multiple');
    expect(await reason(`${proof}${'A'.repeat(9000)}`)).toBe('too_long');
    expect(await reason('not a jwt')).toBe('malformed');
    expect(await reason('e30.e30')).toBe('malformed');
    expect(await reason(`${Buffer.from('[').toString('base64url')}.e30.AA`)).toBe('malformed');
  });

  it('refuses a wrong typ, a symmetric or none alg, and a missing jwk', async () => {
    expect(await reason((await handMade({ header: { typ: 'JWT' } })).proof)).toBe('typ');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'dpop+jwt' })).toString('base64url')}.e30.AA`;
    expect(await reason(none)).toBe('alg');
    const hs = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'AA' } })).toString('base64url')}.e30.AA`;
    expect(await reason(hs)).toBe('alg');
    expect(await reason((await handMade({ header: { jwk: undefined } })).proof)).toBe('jwk');
    const rsa = await exportJWK((await generateKeyPair('RS256')).publicKey);
    expect(await reason((await handMade({ header: { jwk: rsa } })).proof)).toBe('jwk');
  });

  it('refuses a jwk carrying a private member', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    expect(await reason((await handMade({ header: { jwk: privateJwk }, signWith: privateKey })).proof)).toBe('jwk_private');
  });

  it('refuses a proof signed by another key than its jwk, and a tampered payload', async () => {
    const other = await generateKeyPair('ES256');
    expect(await reason((await handMade({ signWith: other.privateKey })).proof)).toBe('signature');
    const { proof } = await handMade();
    const [h, , s] = proof.split('.');
    const forged = Buffer.from(JSON.stringify({ jti: 'x', htm: 'GET', htu: URL_, iat: NOW / 1000 })).toString('base64url');
    expect(await reason(`${h}.${forged}.${s}`)).toBe('signature');
  });

  it('refuses a missing, empty or oversized jti', async () => {
    expect(await reason((await handMade({ claims: { jti: undefined } })).proof)).toBe('jti');
    expect(await reason((await handMade({ claims: { jti: '' } })).proof)).toBe('jti');
    expect(await reason((await handMade({ claims: { jti: 'j'.repeat(129) } })).proof)).toBe('jti');
  });

  it('refuses a proof for another method or another URI, and ignores query and fragment', async () => {
    expect(await reason((await handMade({ claims: { htm: 'POST' } })).proof)).toBe('htm');
    expect(await reason((await handMade({ claims: { htu: 'https://api.example.com/v1/other' } })).proof)).toBe('htu');
    expect(await reason((await handMade({ claims: { htu: 'https://evil.example/v1/resource' } })).proof)).toBe('htu');
    expect(await reason((await handMade({ claims: { htu: 42 } })).proof)).toBe('htu');
    const { proof } = await handMade({ claims: { htu: 'HTTPS://API.Example.COM:443/v1/resource?x=1#f' } });
    await expect(verifyDpopProof(proof, { ...base, url: `${URL_}?page=2` })).resolves.toBeDefined();
  });

  it('refuses a proof issued too long ago or in the future, and one without iat', async () => {
    expect(await reason((await handMade({ claims: { iat: NOW / 1000 - 61 } })).proof)).toBe('iat');
    expect(await reason((await handMade({ claims: { iat: NOW / 1000 + 6 } })).proof)).toBe('iat');
    expect(await reason((await handMade({ claims: { iat: undefined } })).proof)).toBe('iat');
    const { proof } = await handMade({ claims: { iat: NOW / 1000 - 100 } });
    await expect(verifyDpopProof(proof, { ...base, maxAgeSeconds: 120 })).resolves.toBeDefined();
  });

  it('refuses a missing or wrong ath when an access token is presented', async () => {
    expect(await reason((await handMade()).proof, { accessToken: 'tok' })).toBe('ath');
    expect(await reason((await handMade({ claims: { ath: accessTokenHash('other') } })).proof, { accessToken: 'tok' })).toBe('ath');
    const { proof } = await handMade({ claims: { ath: accessTokenHash('tok') } });
    await expect(verifyDpopProof(proof, { ...base, accessToken: 'tok' })).resolves.toBeDefined();
  });

  it('refuses, with a typed error, a request URL that is not absolute http(s)', async () => {
    expect(await reason((await handMade()).proof, { url: '/relative' })).toBe('htu');
  });
});

describe('DPoP helpers', () => {
  it('normalises htu per RFC 9449 §4.3: no query or fragment, lowercase scheme and host, no default port', () => {
    expect(normaliseHtu('HTTPS://Api.Example.com:443/a/./b/../c?x#y')).toBe('https://api.example.com/a/c');
    expect(normaliseHtu('http://h:80/')).toBe('http://h/');
    expect(normaliseHtu('http://h:8080/')).toBe('http://h:8080/');
    expect(normaliseHtu('ftp://h/')).toBeUndefined();
    expect(normaliseHtu('not a url')).toBeUndefined();
  });

  it('computes ath as base64url SHA-256 (RFC 9449 §7.1 example)', () => {
    expect(accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
  });

  it('formats the WWW-Authenticate challenge with the accepted algorithms', () => {
    expect(dpopChallenge()).toBe('DPoP algs="ES256 EdDSA Ed25519 RS256 PS256"');
    expect(dpopChallenge('invalid_dpop_proof', 'bad "proof"')).toBe('DPoP error="invalid_dpop_proof", error_description="bad proof", algs="ES256 EdDSA Ed25519 RS256 PS256"');
  });
});
