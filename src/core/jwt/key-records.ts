/**
 * Signing keys as the store keeps them (`signing-keys` records) and as callers see them, with the
 * pure helpers of the key ring: reading an imported key, the JWKS, the listing, verification keys.
 */
import { createPrivateKey, createPublicKey, createSecretKey, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { assertKeyFits, isJwtAlgorithm, makeVerifier, signatureLength, type JwtAlgorithm } from '../../tokens/jwt-algorithms.js';
import type { VerificationKey } from '../../tokens/jwt-verify.js';
import type { EncryptedBlob } from '../../tokens/key-encryption.js';
import { SessionError } from '../errors.js';

/** The record kind of signing keys in the store. */
export const SIGNING_KEYS = 'signing-keys';
const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `pending`: published in the JWKS and verifying, not yet signing (a rotation's propagation window,
 * until `activatesAt`); `active`: signs; `verify-only`: verifies until `retireAt`; `retired`: neither.
 */
export type KeyState = 'pending' | 'active' | 'verify-only' | 'retired';

/** What the store holds for one key. */
export interface StoredSigningKey {
  kid: string;
  alg: JwtAlgorithm;
  state: KeyState;
  createdAt: number;
  /** When a pending key starts signing (absent in records written before pending keys existed). */
  activatesAt?: number | null;
  /** When a verify-only key stops verifying (its last token has expired); null: no end set. */
  retireAt: number | null;
  publicJwk: JsonWebKey | null;
  /** PKCS#8 DER (or the HS256 secret), AES-256-GCM under the master key; null once retired. */
  privateKey: EncryptedBlob | null;
  origin: 'generated' | 'imported';
}

/** A key as `sessions.keys.list()` shows it: no key material. */
export interface SigningKeyInfo {
  kid: string;
  alg: JwtAlgorithm;
  state: KeyState;
  createdAt: Date;
  retiresAt: Date | null;
  origin: 'generated' | 'imported';
}

/** A key to add with `sessions.keys.import()`. */
export interface ImportKeyInput {
  alg: JwtAlgorithm;
  /** A KeyObject, a JWK, or PEM text: private (can sign) or public (verifies only). */
  key: KeyObject | JsonWebKey | string;
  kid?: string;
  /** Make it the signing key (needs a private key). Default false: it verifies only. */
  activate?: boolean;
}

/** A stored key as the verifier uses it; `key` is its public half (or the HS256 secret). */
export function verificationKey(k: StoredSigningKey, key: KeyObject): VerificationKey {
  return {
    kid: k.kid, alg: k.alg, verify: makeVerifier(k.alg, key),
    signatureChars: Math.ceil((signatureLength(k.alg, key) * 4) / 3),
    usableUntil: k.state === 'verify-only' ? k.retireAt : null,
  };
}

/** The public keys that still verify at `t` (pending, active and verify-only), the signer first: the JWKS. */
export function publishedKeys(records: StoredSigningKey[], signerKid: string | null, t: number): JsonWebKey[] {
  return records
    .filter((k) => k.publicJwk !== null && k.privateKey !== null && (k.state === 'active' || k.state === 'pending' || (k.state === 'verify-only' && (k.retireAt === null || t < k.retireAt))))
    .sort((a, b) => (a.kid === signerKid ? -1 : b.kid === signerKid ? 1 : b.createdAt - a.createdAt))
    .map((k) => ({ ...(k.publicJwk as JsonWebKey) }));
}

/** Every key with its state, newest first; never key material. */
export function keyInfos(records: StoredSigningKey[]): SigningKeyInfo[] {
  return records
    .map((k) => ({ kid: k.kid, alg: k.alg, state: k.state, createdAt: new Date(k.createdAt), retiresAt: k.retireAt === null ? null : new Date(k.retireAt), origin: k.origin }))
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
}

/**
 * Checks the input of `keys.import` and reads its key; throws `invalid_request` saying what is wrong.
 *
 * @example const { kid, privateKey, publicKey } = checkedImport({ alg: 'ES256', key: pem });
 */
export function checkedImport(input: ImportKeyInput): { kid: string; privateKey: KeyObject | null; publicKey: KeyObject | null } {
  if (typeof input !== 'object' || input === null || !isJwtAlgorithm(input.alg)) {
    throw new SessionError('invalid_request', "keys.import: expected { alg: 'EdDSA' | 'ES256' | 'RS256' | 'HS256', key, kid?, activate? }");
  }
  const kid = input.kid ?? randomBytes(12).toString('base64url');
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) throw new SessionError('invalid_request', 'keys.import: kid must be 1 to 64 base64url characters');
  const { privateKey, publicKey } = toKeyObjects(input.alg, input.key);
  assertKeyFits(input.alg, privateKey ?? (publicKey as KeyObject));
  if (input.activate && !privateKey) throw new SessionError('invalid_request', 'keys.import: activate needs a private key');
  return { kid, privateKey, publicKey };
}

function toKeyObjects(alg: JwtAlgorithm, key: ImportKeyInput['key']): { privateKey: KeyObject | null; publicKey: KeyObject | null } {
  try {
    let object: KeyObject;
    if (typeof key === 'object' && key !== null && 'type' in key && typeof (key as KeyObject).export === 'function') object = key as KeyObject;
    else if (typeof key === 'string') object = /PRIVATE KEY/.test(key) ? createPrivateKey(key) : createPublicKey(key);
    else if (typeof key === 'object' && key !== null) {
      const jwk = key as JsonWebKey;
      object = jwk.kty === 'oct' ? createSecretKey(Buffer.from(String(jwk.k), 'base64url')) : jwk.d !== undefined ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
    } else throw new Error('unsupported key');
    if (object.type === 'secret') return { privateKey: object, publicKey: null };
    if (object.type === 'private') return { privateKey: object, publicKey: alg === 'HS256' ? null : createPublicKey(object) };
    return { privateKey: null, publicKey: object };
  } catch (err) {
    if (err instanceof SessionError) throw err;
    throw new SessionError('invalid_request', `keys.import: the key could not be read as a ${alg} key (KeyObject, JWK or PEM)`);
  }
}
