// DBSC wire formats and proofs (W3C DBSC draft, "DBSC Formats"): a test client that plays the
// browser (node:crypto keys, Chromium-style and draft-style proofs) registers and refreshes against
// the verifier; every check refuses a proof that breaks it with `invalid_dbsc_proof` and names it.
import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import {
  DbscError, challengeHeader, hashDbscChallenge, newDbscChallenge, parseSfStringHeader, registrationHeader,
  sessionInstructions, verifyRefreshProof, verifyRegistrationProof, type BoundKey,
} from '../../src/tokens/dbsc.js';
import { DbscTestBrowser, parseChallenge, parseRegistrationOffer } from '../helpers/dbsc-browser.js';

const REGISTER = 'https://app.example/auth/dbsc/register';
const REFRESH = 'https://app.example/auth/dbsc/refresh';
const T0 = 1_800_000_000_000;

/** The server's side of challenges as the wiring keeps them: hashed, expiring, single-use. */
function challengeBook(ttlMs = 300_000) {
  const live = new Map<string, number>();
  let now = T0;
  return {
    issue(): string {
      const challenge = newDbscChallenge();
      live.set(hashDbscChallenge(challenge), now + ttlMs);
      return challenge;
    },
    consume(challenge: string): boolean {
      const key = hashDbscChallenge(challenge);
      const expiresAt = live.get(key);
      live.delete(key);
      return expiresAt !== undefined && expiresAt > now;
    },
    advance(ms: number): void { now += ms; },
    get now(): number { return now; },
  };
}

async function refused(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DbscError);
  expect([(err as DbscError).code, (err as DbscError).status]).toEqual(['invalid_dbsc_proof', 401]);
  return (err as DbscError).reason;
}

async function registered(browser: DbscTestBrowser, book = challengeBook()): Promise<{ bound: BoundKey; book: ReturnType<typeof challengeBook> }> {
  const offer = parseRegistrationOffer(registrationHeader({ path: '/auth/dbsc/register', challenge: book.issue() }));
  const proof = await browser.registrationProof(offer);
  const bound = await verifyRegistrationProof(proof, { audience: REGISTER, now: book.now, consumeChallenge: (c) => book.consume(c) });
  return { bound, book };
}

describe('DBSC headers and instructions', () => {
  it('offers registration with ES256 and RS256, the path and the challenge, as the draft spells it', () => {
    expect(registrationHeader({ path: '/auth/dbsc/register', challenge: 'cv' })).toBe('(ES256 RS256);path="/auth/dbsc/register";challenge="cv"');
    expect(registrationHeader({ path: 'reg', challenge: 'c"v', algorithms: ['ES256'], authorization: 'ac' })).toBe('(ES256);path="reg";challenge="c\\"v";authorization="ac"');
    expect(parseRegistrationOffer(registrationHeader({ path: '/r', challenge: 'c"\\v' }))).toEqual({ algorithms: ['ES256', 'RS256'], path: '/r', challenge: 'c"\\v' });
    expect(() => registrationHeader({ path: '/r', challenge: 'é' })).toThrow(TypeError);
    expect(() => registrationHeader({ path: '/r', challenge: 'c', algorithms: [] })).toThrow(TypeError);
  });

  it('formats Secure-Session-Challenge as an sf-string with the session id parameter', () => {
    expect(challengeHeader('new challenge')).toBe('"new challenge"');
    expect(challengeHeader('c', 'my session')).toBe('"c";id="my session"');
    expect(parseChallenge(challengeHeader('c"1', 's\\1'))).toEqual({ challenge: 'c"1', id: 's\\1' });
  });

  it('reads sf-string headers (Sec-Secure-Session-Id, Secure-Session-Response) and the bare value', () => {
    expect(parseSfStringHeader('"session-id"')).toBe('session-id');
    expect(parseSfStringHeader('"a\\"b";x=1')).toBe('a"b');
    expect(parseSfStringHeader('abc.def-ghi')).toBe('abc.def-ghi');
    expect(parseSfStringHeader(['"a"'])).toBe('a');
    for (const bad of ['"open', '"a"junk', '"\\x"', 'has space', ['"a"', '"b"'], undefined]) expect(parseSfStringHeader(bad)).toBeUndefined();
  });

  it('builds the session instructions JSON with the bound cookie serialised by the cookie package', () => {
    const json = sessionInstructions({
      sessionIdentifier: 'sid-1', refreshUrl: '/auth/dbsc/refresh', origin: 'https://app.example',
      cookie: { name: '__Host-skb', attributes: { path: '/', secure: true, httpOnly: true, sameSite: 'lax' } },
    });
    expect(json).toEqual({
      session_identifier: 'sid-1', refresh_url: '/auth/dbsc/refresh', continue: true,
      scope: { origin: 'https://app.example', include_site: false, scope_specification: [] },
      credentials: [{ type: 'cookie', name: '__Host-skb', attributes: 'Path=/; HttpOnly; Secure; SameSite=Lax' }],
    });
    expect(sessionInstructions({ sessionIdentifier: 's', refreshUrl: '/r', continue: false, cookie: { name: 'b', attributes: {} } }))
      .toMatchObject({ continue: false, credentials: [{ name: 'b', attributes: '' }] });
  });
});

describe('DBSC registration and refresh with a test browser', () => {
  it('registers a Chromium-style ES256 proof (key in the header jwk) and binds its public key', async () => {
    const browser = new DbscTestBrowser('ES256');
    const { bound } = await registered(browser);
    expect(bound.alg).toBe('ES256');
    expect(bound.jwk).toEqual({ kty: 'EC', crv: 'P-256', x: browser.publicJwk.x, y: browser.publicJwk.y });
    expect(bound.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('registers a draft-style RS256 proof (key in the payload, aud and a string iat)', async () => {
    const browser = new DbscTestBrowser('RS256');
    const book = challengeBook();
    const offer = parseRegistrationOffer(registrationHeader({ path: '/auth/dbsc/register', challenge: book.issue() }));
    const proof = await browser.registrationProof(offer, { style: 'draft', audience: REGISTER, iat: String(T0 / 1000) });
    const bound = await verifyRegistrationProof(proof, { audience: REGISTER, now: book.now, requireAudienceAndTime: true, consumeChallenge: (c) => book.consume(c) });
    expect(bound).toMatchObject({ alg: 'RS256', jwk: { kty: 'RSA', n: browser.publicJwk.n, e: 'AQAB' } });
  });

  it('refreshes with a proof signed by the bound key over a fresh challenge', async () => {
    const browser = new DbscTestBrowser();
    const { bound, book } = await registered(browser);
    const { challenge, id } = parseChallenge(challengeHeader(book.issue(), 'sid-1'));
    const proof = await browser.refreshProof(challenge, { style: 'draft', sessionIdentifier: id as string, audience: REFRESH, iat: T0 / 1000 });
    await expect(verifyRefreshProof(proof, { boundKey: bound, sessionIdentifier: 'sid-1', audience: REFRESH, now: book.now, consumeChallenge: (c) => book.consume(c) }))
      .resolves.toEqual({ challenge });
  });

  it('refuses a refresh proof signed by another key (a thief with the cookie but not the device key)', async () => {
    const { bound, book } = await registered(new DbscTestBrowser());
    const thief = new DbscTestBrowser();
    const proof = await thief.refreshProof(book.issue());
    expect(await refused(verifyRefreshProof(proof, { boundKey: bound, sessionIdentifier: 's', audience: REFRESH, now: book.now, consumeChallenge: (c) => book.consume(c) }))).toBe('signature');
  });

  it('refuses a replayed proof: each challenge answers once', async () => {
    const browser = new DbscTestBrowser();
    const { bound, book } = await registered(browser);
    const proof = await browser.refreshProof(book.issue());
    const options = { boundKey: bound, sessionIdentifier: 's', audience: REFRESH, now: book.now, consumeChallenge: (c: string) => book.consume(c) };
    await verifyRefreshProof(proof, options);
    expect(await refused(verifyRefreshProof(proof, options))).toBe('challenge');
  });

  it('refuses a registration proof for a replayed, expired or unknown challenge', async () => {
    const browser = new DbscTestBrowser();
    const book = challengeBook(60_000);
    const offer = parseRegistrationOffer(registrationHeader({ path: '/r', challenge: book.issue() }));
    const proof = await browser.registrationProof(offer);
    const options = { audience: REGISTER, now: book.now, consumeChallenge: (c: string) => book.consume(c) };
    await verifyRegistrationProof(proof, options);
    expect(await refused(verifyRegistrationProof(proof, options))).toBe('challenge');
    const late = await browser.registrationProof({ ...offer, challenge: book.issue() });
    book.advance(60_001);
    expect(await refused(verifyRegistrationProof(late, options))).toBe('challenge');
    expect(await refused(verifyRegistrationProof(await browser.registrationProof({ ...offer, challenge: 'made-up' }), options))).toBe('challenge');
  });

  it('does not consume the challenge when the signature is bad', async () => {
    const { bound, book } = await registered(new DbscTestBrowser());
    const challenge = book.issue();
    const forged = await new DbscTestBrowser().refreshProof(challenge);
    const options = { boundKey: bound, sessionIdentifier: 's', audience: REFRESH, now: book.now, consumeChallenge: (c: string) => book.consume(c) };
    expect(await refused(verifyRefreshProof(forged, options))).toBe('signature');
    expect(book.consume(challenge)).toBe(true);
  });

  it('refuses a proof for another endpoint, too old or from the future, or for another session', async () => {
    const browser = new DbscTestBrowser();
    const { bound, book } = await registered(browser);
    const options = { boundKey: bound, sessionIdentifier: 'sid-1', audience: REFRESH, now: book.now, consumeChallenge: (c: string) => book.consume(c) };
    const at = (extra: Record<string, unknown>) => browser.refreshProof(book.issue(), { style: 'draft', sessionIdentifier: 'sid-1', audience: REFRESH, iat: T0 / 1000, ...extra });
    expect(await refused(verifyRefreshProof(await at({ audience: REGISTER }), options))).toBe('audience');
    expect(await refused(verifyRefreshProof(await at({ iat: T0 / 1000 - 301 }), options))).toBe('iat');
    expect(await refused(verifyRefreshProof(await at({ iat: T0 / 1000 + 301 }), options))).toBe('iat');
    expect(await refused(verifyRefreshProof(await at({ sessionIdentifier: 'sid-2' }), options))).toBe('subject');
    const chromeStyle = await browser.refreshProof(book.issue());
    expect(await refused(verifyRefreshProof(chromeStyle, { ...options, requireAudienceAndTime: true }))).toBe('audience');
  });

  it('refuses a missing, oversized or non-JWS proof, a wrong typ and an alg outside ES256/RS256', async () => {
    const book = challengeBook();
    const options = { audience: REGISTER, now: book.now, consumeChallenge: (c: string) => book.consume(c) };
    expect(await refused(verifyRegistrationProof(undefined, options))).toBe('missing');
    expect(await refused(verifyRegistrationProof(`"${'a'.repeat(9000)}"`, options))).toBe('too_long');
    expect(await refused(verifyRegistrationProof('"a.b"', options))).toBe('malformed');
    expect(await refused(verifyRegistrationProof('"e30.e30.AA"', options))).toBe('typ');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const jwt = await new SignJWT({ jti: book.issue() }).setProtectedHeader({ alg: 'ES256', typ: 'JWT', jwk } as never).sign(privateKey);
    expect(await refused(verifyRegistrationProof(jwt, options))).toBe('typ');
    const ps = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const psJwt = await new SignJWT({ jti: book.issue() })
      .setProtectedHeader({ alg: 'PS256', typ: 'dbsc+jwt', jwk: ps.publicKey.export({ format: 'jwk' }) } as never).sign(ps.privateKey);
    expect(await refused(verifyRegistrationProof(psJwt, options))).toBe('alg');
  });

  it('refuses a registration proof with no key, a private key, two different keys, or a key unfit for its alg', async () => {
    const book = challengeBook();
    const options = { audience: REGISTER, now: book.now, consumeChallenge: (c: string) => book.consume(c) };
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sign = (header: Record<string, unknown>, payload: Record<string, unknown> = {}) =>
      new SignJWT({ jti: book.issue(), ...payload }).setProtectedHeader({ alg: 'ES256', typ: 'dbsc+jwt', ...header } as never).sign(privateKey);
    expect(await refused(verifyRegistrationProof(await sign({}), options))).toBe('key');
    expect(await refused(verifyRegistrationProof(await sign({ jwk: privateKey.export({ format: 'jwk' }) }), options))).toBe('key_private');
    const other = new DbscTestBrowser();
    expect(await refused(verifyRegistrationProof(await sign({ jwk: publicKey.export({ format: 'jwk' }) }, { key: other.publicJwk }), options))).toBe('key_mismatch');
    expect(await refused(verifyRegistrationProof(await sign({ jwk: new DbscTestBrowser('RS256').publicJwk }), options))).toBe('key');
  });

  it('refuses a refresh proof in another alg than the bound key, or naming another key', async () => {
    const browser = new DbscTestBrowser();
    const { bound, book } = await registered(browser);
    const options = { boundKey: bound, sessionIdentifier: 's', audience: REFRESH, now: book.now, consumeChallenge: (c: string) => book.consume(c) };
    const rsa = new DbscTestBrowser('RS256');
    expect(await refused(verifyRefreshProof(await rsa.refreshProof(book.issue()), options))).toBe('alg');
    const named = await rsa.registrationProof({ algorithms: ['ES256'], path: '/', challenge: book.issue() });
    expect(await refused(verifyRefreshProof(named, { ...options, boundKey: { ...bound, alg: 'RS256' } }))).toBe('key_mismatch');
  });

  it('requires the proof to echo the registration authorization', async () => {
    const browser = new DbscTestBrowser();
    const book = challengeBook();
    const options = { audience: REGISTER, now: book.now, authorization: 'ac', consumeChallenge: (c: string) => book.consume(c) };
    const offer = (authorization?: string) => ({ algorithms: ['ES256'], path: '/', challenge: book.issue(), ...(authorization ? { authorization } : {}) });
    expect(await refused(verifyRegistrationProof(await browser.registrationProof(offer()), options))).toBe('authorization');
    expect(await refused(verifyRegistrationProof(await browser.registrationProof(offer('other')), options))).toBe('authorization');
    await expect(verifyRegistrationProof(await browser.registrationProof(offer('ac')), options)).resolves.toMatchObject({ alg: 'ES256' });
  });
});
