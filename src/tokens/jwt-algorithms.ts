/**
 * The four JWS algorithms sessionkit signs and verifies with, on node:crypto KeyObjects. Each key
 * is pinned to exactly one of them: a verifier is built per key, so the `alg` a token claims can
 * only select the key's own algorithm, never another (no algorithm confusion).
 */
import { createHmac, createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, randomBytes, sign, timingSafeEqual, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SessionError } from '../base/errors.js';

export type JwtAlgorithm = 'EdDSA' | 'ES256' | 'RS256' | 'HS256';

/** The allowlist: every other `alg` (none, HS384, PS256, Ed25519, ...) is rejected. */
export const JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256'];

export function isJwtAlgorithm(value: unknown): value is JwtAlgorithm {
  return value === 'EdDSA' || value === 'ES256' || value === 'RS256' || value === 'HS256';
}

/** A key's signing half: the private key, or the shared secret for HS256. */
export type Signer = (signingInput: string) => Buffer;
/** Checks a decoded signature over a signing input (its UTF-8 bytes, so no character can alias another). */
export type SignatureVerifier = (signingInput: string, signature: Buffer) => boolean;

const HS256_SECRET_BYTES = 32;
const RSA_MIN_BITS = 2048;

/**
 * Checks that `key` fits `alg` (type, curve, size) and throws `invalid_request` otherwise, so a
 * key can never be registered under an algorithm it was not made for.
 *
 * @example assertKeyFits('EdDSA', publicKey)
 */
export function assertKeyFits(alg: JwtAlgorithm, key: KeyObject): void {
  const fail = (why: string): never => {
    throw new SessionError('invalid_request', `a ${alg} key must be ${why}`);
  };
  if (alg === 'HS256') {
    if (key.type !== 'secret') fail('a secret key');
    if ((key.symmetricKeySize ?? 0) < HS256_SECRET_BYTES) fail(`at least ${HS256_SECRET_BYTES} bytes`);
    return;
  }
  if (key.type === 'secret') fail('an asymmetric key');
  if (alg === 'EdDSA' && key.asymmetricKeyType !== 'ed25519') fail('an Ed25519 key');
  if (alg === 'ES256' && (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')) fail('a P-256 EC key');
  if (alg === 'RS256' && (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < RSA_MIN_BITS)) fail(`an RSA key of at least ${RSA_MIN_BITS} bits`);
}

/** Length in bytes of every signature `key` makes under `alg`; anything else is rejected unread. */
export function signatureLength(alg: JwtAlgorithm, key: KeyObject): number {
  if (alg === 'HS256') return 32;
  if (alg === 'RS256') return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 2048) / 8);
  return 64; // Ed25519, and P-256 in the JOSE (IEEE P1363 r||s) encoding
}

/** A fresh key for `alg`: an Ed25519 / P-256 / RSA-2048 key pair, or 32 random bytes for HS256. */
export function generateSigningKey(alg: JwtAlgorithm): { privateKey: KeyObject; publicKey: KeyObject | null } {
  switch (alg) {
    case 'EdDSA': return generateKeyPairSync('ed25519');
    case 'ES256': return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'RS256': return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'HS256': return { privateKey: createSecretKey(randomBytes(HS256_SECRET_BYTES)), publicKey: null };
  }
}

/**
 * The signing function of a key. Signing inputs are the ASCII `header.payload` string.
 *
 * @example const s = makeSigner('EdDSA', privateKey); s('eyJ...eyJ...')
 */
export function makeSigner(alg: JwtAlgorithm, key: KeyObject): Signer {
  switch (alg) {
    case 'EdDSA': return (input) => sign(null, Buffer.from(input, 'utf8'), key);
    case 'ES256': return (input) => sign('sha256', Buffer.from(input, 'utf8'), { key, dsaEncoding: 'ieee-p1363' });
    case 'RS256': return (input) => sign('sha256', Buffer.from(input, 'utf8'), key);
    case 'HS256': return (input) => createHmac('sha256', key).update(input, 'utf8').digest();
  }
}

/**
 * The verification function of a key, bound to its one algorithm. The signing input is
 * hashed as UTF-8, so a character the signer did not write cannot alias one it did (as it could
 * under latin1); the caller has checked that the signature has `signatureLength` bytes.
 *
 * @example makeVerifier('EdDSA', publicKey)(signingInput, signatureBytes) // true or false
 */
export function makeVerifier(alg: JwtAlgorithm, key: KeyObject): SignatureVerifier {
  switch (alg) {
    case 'EdDSA': return (input, signature) => verify(null, Buffer.from(input, 'utf8'), key, signature);
    case 'ES256': return (input, signature) => verify('sha256', Buffer.from(input, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, signature);
    case 'RS256': return (input, signature) => verify('sha256', Buffer.from(input, 'utf8'), key, signature);
    case 'HS256': return (input, signature) => timingSafeEqual(createHmac('sha256', key).update(input, 'utf8').digest(), signature);
  }
}

/** The public JWK of an asymmetric key, with `kid`, `alg` and `use: 'sig'`. */
export function publicJwk(alg: JwtAlgorithm, kid: string, publicKey: KeyObject): JsonWebKey {
  const jwk = publicKey.export({ format: 'jwk' });
  return { ...jwk, kid, alg, use: 'sig' };
}

/** Serialises a private key (PKCS#8 DER) or secret (raw bytes) for encryption at rest. */
export function exportPrivate(key: KeyObject): Buffer {
  return key.type === 'secret' ? key.export() : key.export({ format: 'der', type: 'pkcs8' });
}

/** The inverse of `exportPrivate`. */
export function importPrivate(alg: JwtAlgorithm, bytes: Buffer): KeyObject {
  return alg === 'HS256' ? createSecretKey(bytes) : createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' });
}

/** The public key of a stored public JWK. */
export function importPublicJwk(jwk: JsonWebKey): KeyObject {
  const { kid: _kid, alg: _alg, use: _use, key_ops: _ops, ...material } = jwk as JsonWebKey & { kid?: string; use?: string; key_ops?: string[] };
  return createPublicKey({ key: material, format: 'jwk' });
}
