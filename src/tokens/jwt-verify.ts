/**
 * A small, strict JWS compact parser and access-token verifier on node:crypto. It accepts exactly
 * what sessionkit issues (RFC 9068 access tokens: `alg`, `kid`, `typ: at+jwt` in the header) and
 * rejects everything else before or instead of guessing: `none`, algorithms outside the key's own,
 * unknown or oversized `kid`, any other header (`crit`, `jwk`, `jku`, `x5u`, `x5c`, ...; nothing is
 * ever fetched), padding or non-base64url characters, non-canonical signatures, and claims that do
 * not match (issuer, audience, `exp` required, `nbf`/`iat` in the future).
 *
 * It returns outcomes instead of throwing, so a flood of bad tokens costs no stack traces.
 */
import { isJwtAlgorithm, type JwtAlgorithm, type SignatureVerifier } from './jwt-algorithms.js';
import { MAX_TOKEN_LENGTH } from './opaque.js';

/** A key the verifier may use: looked up by `kid`, pinned to one algorithm. */
export interface VerificationKey {
  kid: string;
  alg: JwtAlgorithm;
  verify: SignatureVerifier;
  /** Exact length of a signature's base64url text for this key. */
  signatureChars: number;
  /** Epoch ms after which the key verifies nothing (it was retired); null while unbounded. */
  usableUntil: number | null;
}

/** The claims of a sessionkit access token. Times are NumericDate (seconds). */
export interface AccessTokenClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  nbf?: number;
  roles: string[];
  auth_time?: number;
  amr?: string[];
}

/** Why a token was refused; recorded as the audit event's `detail`. */
export type JwtRejectReason =
  | 'too_long' | 'shape' | 'header' | 'header_param' | 'alg' | 'kid' | 'typ' | 'unknown_kid'
  | 'alg_mismatch' | 'key_retired' | 'signature' | 'payload' | 'issuer' | 'audience' | 'expired'
  | 'not_yet_valid' | 'issued_in_future' | 'claims' | 'logout_token';

export type VerifyOutcome =
  | { ok: true; claims: AccessTokenClaims; kid: string }
  | { ok: false; reason: JwtRejectReason; kid?: string };

export interface AccessTokenVerifierOptions {
  issuer: string;
  audience: string;
  /** Milliseconds of clock skew allowed on `exp`, `nbf` and `iat`. */
  clockTolerance: number;
  /** The key ring's lookup. */
  key: (kid: string) => VerificationKey | undefined;
}

export interface AccessTokenVerifier {
  verify(token: string, now: number): VerifyOutcome;
  /** Forgets parsed headers (call when the key ring changes). */
  reset(): void;
}

/** A base64url segment: no padding, no spaces, nothing else. */
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const ALLOWED_HEADER = new Set(['alg', 'kid', 'typ']);
const MAX_KID_LENGTH = 64;
const HEADER_CACHE_SIZE = 64;
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether a value claims to be a compact JWT (`eyJ`, the base64 of `{"`, then a dot): a cheap test
 * that keeps opaque tokens (whose lowercase prefix never starts so) on their own fast path. A
 * token that passes it is judged as a JWT, so a truncated one is `token_invalid`, like any other.
 *
 * @example looksLikeJwt('eyJhbGciOi...') // true
 */
export function looksLikeJwt(token: unknown): token is string {
  return typeof token === 'string' && token.startsWith('eyJ') && token.indexOf('.') > 0;
}

/**
 * Builds the verifier. Verification order: size and shape, header (allowlist, `kid`, `typ`,
 * the key's own `alg`), signature, then claims, so nothing from an unsigned payload is trusted.
 *
 * @example
 * const verifier = createAccessTokenVerifier({ issuer, audience, clockTolerance: 5000, key: ring.key });
 * const outcome = verifier.verify(token, Date.now()); // { ok: true, claims } or { ok: false, reason }
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const { issuer, audience, clockTolerance, key } = options;
  // Header segments already proven well-formed map to their kid: most traffic carries a handful
  // of distinct headers (one per key), and parsing them again would be most of the work for HS256.
  const headers = new Map<string, { kid: string; alg: JwtAlgorithm }>();

  function parseHeader(segment: string): { kid: string; alg: JwtAlgorithm } | JwtRejectReason {
    const json = strictDecode(segment);
    if (json === null) return 'header';
    let header: unknown;
    try {
      header = JSON.parse(json);
    } catch {
      return 'header';
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return 'header';
    const h = header as Record<string, unknown>;
    for (const name of Object.keys(h)) if (!ALLOWED_HEADER.has(name)) return 'header_param';
    if (!isJwtAlgorithm(h.alg)) return 'alg';
    if (typeof h.kid !== 'string' || h.kid.length === 0 || h.kid.length > MAX_KID_LENGTH) return 'kid';
    const typ = typeof h.typ === 'string' ? h.typ.toLowerCase() : null;
    if (typ !== 'at+jwt' && typ !== 'application/at+jwt') return 'typ';
    return { kid: h.kid, alg: h.alg };
  }

  function checkClaims(value: unknown, now: number): AccessTokenClaims | JwtRejectReason {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'payload';
    const c = value as Record<string, unknown>;
    if (c.iss !== issuer) return 'issuer';
    const aud = c.aud;
    if (aud !== audience && !(Array.isArray(aud) && aud.includes(audience))) return 'audience';
    const exp = c.exp;
    const iat = c.iat;
    if (typeof exp !== 'number' || !Number.isFinite(exp) || typeof iat !== 'number' || !Number.isFinite(iat)) return 'claims';
    if (now >= exp * 1000 + clockTolerance) return 'expired';
    if (iat * 1000 > now + clockTolerance) return 'issued_in_future';
    if (c.nbf !== undefined && (typeof c.nbf !== 'number' || !Number.isFinite(c.nbf) || c.nbf * 1000 > now + clockTolerance)) return 'not_yet_valid';
    if (typeof c.sub !== 'string' || c.sub.length === 0 || typeof c.sid !== 'string' || c.sid.length === 0 || c.sid.length > 256 || typeof c.jti !== 'string') return 'claims';
    if (c.roles === undefined) c.roles = [];
    else if (!Array.isArray(c.roles) || !c.roles.every((r) => typeof r === 'string')) return 'claims';
    // An OpenID Connect logout token carries `events`: it is never an access token.
    if (c.events !== undefined) return 'logout_token';
    return c as unknown as AccessTokenClaims;
  }

  return {
    verify(token, now) {
      if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'too_long' };
      const dot1 = token.indexOf('.');
      const dot2 = token.lastIndexOf('.');
      if (dot1 <= 0 || dot2 === dot1) return { ok: false, reason: 'shape' };
      // The header is checked character by character (or is a known one); the payload needs no
      // such check: the signature covers its exact UTF-8 bytes, so any character the signer did
      // not write (padding, spaces, a fourth segment, non-ASCII) makes the signature fail.
      const headerSegment = token.slice(0, dot1);
      let header = headers.get(headerSegment);
      if (header === undefined) {
        const parsed = parseHeader(headerSegment);
        if (typeof parsed === 'string') return { ok: false, reason: parsed };
        header = parsed;
      }
      const k = key(header.kid);
      if (k === undefined) return { ok: false, reason: 'unknown_kid', kid: header.kid };
      if (k.alg !== header.alg) return { ok: false, reason: 'alg_mismatch', kid: header.kid };
      if (k.usableUntil !== null && now >= k.usableUntil) return { ok: false, reason: 'key_retired', kid: header.kid };
      if (headers.size < HEADER_CACHE_SIZE) headers.set(headerSegment, header);
      const signatureSegment = token.slice(dot2 + 1);
      if (signatureSegment.length !== k.signatureChars || !SEGMENT.test(signatureSegment) || !canonicalTail(signatureSegment)) return { ok: false, reason: 'signature', kid: k.kid };
      if (!k.verify(token.slice(0, dot2), Buffer.from(signatureSegment, 'base64url'))) return { ok: false, reason: 'signature', kid: k.kid };
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.from(token.slice(dot1 + 1, dot2), 'base64url').toString('utf8'));
      } catch {
        return { ok: false, reason: 'payload', kid: k.kid };
      }
      const claims = checkClaims(payload, now);
      if (typeof claims === 'string') return { ok: false, reason: claims, kid: k.kid };
      return { ok: true, claims, kid: k.kid };
    },
    reset() {
      headers.clear();
    },
  };
}

/**
 * Decodes a base64url segment only if it is the canonical encoding of its bytes: no padding, no
 * other characters, no impossible length, and zero unused bits in the last character.
 */
function strictDecode(segment: string): string | null {
  if (segment.length % 4 === 1 || !SEGMENT.test(segment) || !canonicalTail(segment)) return null;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('utf8');
}

/** The last character of a base64url text leaves 2 or 4 bits unused; they must be zero. */
function canonicalTail(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 0) return true;
  const value = B64URL.indexOf(segment[segment.length - 1] as string);
  if (value < 0) return false;
  return rest === 2 ? (value & 0x0f) === 0 : rest === 3 ? (value & 0x03) === 0 : false;
}
