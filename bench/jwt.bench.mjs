// JWT access-token verification: sessionkit's strict verifier next to raw node:crypto (the floor:
// the signature check alone, on a pre-split signing input and pre-decoded signature) and jose 6's
// jwtVerify (WebCrypto), for EdDSA (Ed25519) and HS256, uncached and through the verified-token cache.
//
// Rows per algorithm:
//   raw node:crypto       crypto.verify (Ed25519) / createHmac + timingSafeEqual (HS256), nothing else
//   raw, from the token   the same check starting from the token string, as any verifier must: the
//                         signing input sliced off and hashed as UTF-8, the signature decoded
//                         (reference row: the target stays against the row above)
//   sessionkit verifier   createAccessTokenVerifier().verify(token): shape, header, kid, signature, JSON, claims
//   sessionkit validate uncached  sessions.validate(token), verifiedTokenCache: 0, checkRevocation 'never'
//   sessionkit validate cached    sessions.validate(token), default cache, checkRevocation 'cached'
//   jose jwtVerify        jwtVerify(token, key, { issuer, audience, algorithms })
// Targets (issue 3, point 3): verifier uncached ≥ 0.85x raw node:crypto for the same algorithm;
// validate cached ≥ 400,000/s.
import { createHmac, createPublicKey, createSecretKey, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { collectGarbage, measureAll, printTable, printTargets } from './lib.mjs';

const dist = new URL('../dist/', import.meta.url);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = 3;
const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'https://api.example.com';

export async function run({ log }) {
  const { createSessionManager, createAccessTokenVerifier } = await import(new URL('index.js', dist).href);
  const { memoryStore } = await import(new URL('stores/memory.js', dist).href);
  const { makeVerifier } = await import(new URL('tokens/jwt-algorithms.js', dist).href);
  const jose = await import('jose');
  log(`verifications per second; ${SECONDS} s per row in ${ROUNDS} alternating rounds (best round kept); sync rows run one at a time, validate rows with 1 call in flight`);

  let missed = 0;
  const cachedRates = [];
  for (const alg of ['EdDSA', 'HS256']) {
    const secret = Buffer.alloc(32, 0x5a);
    const make = (extra) => {
      const sessions = createSessionManager({
        store: memoryStore(), secret: 'bench-secret-0123456789abcdef0123456789', masterKey: Buffer.alloc(32, 1),
        jwt: { issuer: ISSUER, audience: AUDIENCE, algorithm: alg, ...extra.jwt }, ...extra.options,
      });
      return sessions;
    };
    const cached = make({ options: { checkRevocation: 'cached' }, jwt: {} });
    if (alg === 'HS256') await cached.keys.import({ alg, key: { kty: 'oct', k: secret.toString('base64url') }, kid: 'bench-hs', activate: true });
    const { accessToken: token, session } = await cached.create({ userId: 'user-123', roles: ['user', 'admin'], tokenType: 'jwt' });
    const kid = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid;
    // The same ring, seen by a manager without the cache and without revocation checks.
    const uncached = createSessionManager({
      store: cached.store, secret: 'bench-secret-0123456789abcdef0123456789', masterKey: Buffer.alloc(32, 1),
      jwt: { issuer: ISSUER, audience: AUDIENCE, algorithm: alg, verifiedTokenCache: 0 }, checkRevocation: 'never',
    });
    const keyObject = alg === 'HS256' ? createSecretKey(secret) : createPublicKey({ key: (await cached.keys.jwks()).keys.find((k) => k.kid === kid), format: 'jwk' });

    const dot = token.lastIndexOf('.');
    const input = Buffer.from(token.slice(0, dot));
    const signature = Buffer.from(token.slice(dot + 1), 'base64url');
    const raw = alg === 'HS256'
      ? () => timingSafeEqual(createHmac('sha256', keyObject).update(input).digest(), signature)
      : () => cryptoVerify(null, input, keyObject, signature);
    const rawFromToken = alg === 'HS256'
      ? () => timingSafeEqual(createHmac('sha256', keyObject).update(token.slice(0, dot), 'utf8').digest(), Buffer.from(token.slice(dot + 1), 'base64url'))
      : () => cryptoVerify(null, Buffer.from(token.slice(0, dot), 'utf8'), keyObject, Buffer.from(token.slice(dot + 1), 'base64url'));
    const verifier = createAccessTokenVerifier({
      issuer: ISSUER, audience: AUDIENCE, clockTolerance: 5000,
      key: (k) => (k === kid ? { kid, alg, verify: makeVerifier(alg, keyObject), signatureChars: token.length - dot - 1, usableUntil: null } : undefined),
    });
    const now = Date.now();
    const ours = () => verifier.verify(token, now);
    if (!ours().ok || !raw() || !rawFromToken()) throw new Error(`${alg}: the token does not verify`);
    if ((await uncached.validate(token)).id !== session.id || (await cached.validate(token)).id !== session.id) throw new Error(`${alg}: validate failed`);
    const joseOptions = { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] };
    await jose.jwtVerify(token, keyObject, joseOptions);
    collectGarbage();

    const rows = await measureAll([
      { name: `${alg} raw node:crypto verify`, fn: raw },
      { name: `${alg} raw node:crypto, from the token string`, fn: rawFromToken },
      { name: `${alg} sessionkit verifier (uncached)`, fn: ours },
      { name: `${alg} sessionkit validate (uncached, no revocation check)`, fn: () => uncached.validate(token) },
      { name: `${alg} sessionkit validate (cached, 'cached' revocation)`, fn: () => cached.validate(token) },
      { name: `${alg} jose jwtVerify`, fn: () => jose.jwtVerify(token, keyObject, joseOptions) },
    ], { rounds: ROUNDS, seconds: SECONDS, between: collectGarbage });
    const [rawRow, rawFromTokenRow, oursRow, uncachedRow, cachedRow, joseRow] = rows;
    printTable(log, rows, { title: `${alg} (token of ${token.length} bytes)`, baseline: rawRow.name });
    missed += printTargets(log, [
      { label: `${alg} verifier uncached / raw node:crypto`, value: oursRow.opsPerSec / rawRow.opsPerSec, min: 0.85 },
      { label: `${alg} verifier uncached / raw from the token string (reference)`, value: oursRow.opsPerSec / rawFromTokenRow.opsPerSec },
      { label: `${alg} validate uncached / raw node:crypto`, value: uncachedRow.opsPerSec / rawRow.opsPerSec },
      { label: `${alg} verifier uncached / jose jwtVerify`, value: oursRow.opsPerSec / joseRow.opsPerSec },
    ]);
    cachedRates.push({ alg, rate: cachedRow.opsPerSec });
    cached.close();
    uncached.close();
  }
  log('\n### verified-token cache\n');
  for (const { alg, rate } of cachedRates) {
    const met = rate >= 400_000;
    if (!met) missed += 1;
    log(`- ${alg} validate (cached): ${Math.round(rate).toLocaleString('en-US')}/s, target ≥ 400,000/s: ${met ? 'yes' : 'NO'}`);
  }
  log(`\n${missed === 0 ? 'all targets met' : `${missed} target(s) missed`}`);
}
