/**
 * DPoP proof verification (RFC 9449, "OAuth 2.0 Demonstrating Proof of Possession"). A pure
 * function: no store, no manager. It runs the checks of RFC 9449 §4.3 in order and throws a
 * `DpopError` naming the first that fails:
 *
 *  1. exactly one `DPoP` header holding one compact JWS, at most 8 KiB;
 *  2. header `typ` is `dpop+jwt` (§4.2), `alg` is on the allow-list (asymmetric only, never
 *     `none`), `jwk` is a public key with no private members (§4.3 step 7);
 *  3. the signature verifies with that `jwk` (jose does the JWS work, we never parse signatures);
 *  4. `jti` is a string of at most 128 characters, `htm` equals the request method, `htu` equals
 *     the request URI, both normalised per §4.3 step 9 (query and fragment dropped, scheme and host
 *     lowercased, default port removed: RFC 3986 §6.2.2 and §6.2.3, as the WHATWG URL parser does);
 *  5. `iat` lies in the acceptance window (§4.3 step 11; §11.1 on why the window is short);
 *  6. when the proof goes with an access token: `ath` is base64url(SHA-256(token)) (§4.2) and the
 *     key's RFC 7638 thumbprint equals the token's `cnf.jkt` (§6.1);
 *  7. when the server asks for nonces: `nonce` is one it accepts, else `use_dpop_nonce` (§8, §9).
 *
 * Single use of `jti` (§11.1) needs shared state, so it is a callback the caller wires to its store.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import { SessionError } from '../base/errors.js';

/** The JWS algorithms a DPoP proof may use. `Ed25519` is the fully-specified name of `EdDSA` (RFC 9864). */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256'] as const;
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/** The longest proof we parse: an RS256 proof with a 4096-bit key is about 1.5 KiB. */
export const MAX_DPOP_PROOF_LENGTH = 8192;
/** The longest `jti` we accept; bounds what the replay cache stores. */
export const MAX_DPOP_JTI_LENGTH = 128;

/** Which check failed; stable, recorded in `details.reason` and in audit events. */
export type DpopRejectReason =
  | 'missing' | 'multiple' | 'too_long' | 'malformed' | 'typ' | 'alg' | 'jwk' | 'jwk_private'
  | 'signature' | 'claims' | 'jti' | 'htm' | 'htu' | 'iat' | 'ath' | 'jkt' | 'replay' | 'nonce';

/** Members that only a private (or symmetric) JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * A failed DPoP check. `code` is `invalid_dpop_proof` or `use_dpop_nonce` (RFC 9449 §7.1, §9),
 * `details.reason` names the check, `wwwAuthenticate` is the header value to answer with and
 * `nonce` (for `use_dpop_nonce`) the value for the `DPoP-Nonce` response header.
 *
 * @example
 * catch (err) { if (err instanceof DpopError) res.set('WWW-Authenticate', err.wwwAuthenticate) }
 */
export class DpopError extends SessionError {
  readonly reason: DpopRejectReason;
  readonly nonce: string | undefined;

  constructor(code: 'invalid_dpop_proof' | 'use_dpop_nonce', reason: DpopRejectReason, message: string, nonce?: string) {
    super(code, message, { reason });
    this.name = 'DpopError';
    this.reason = reason;
    this.nonce = nonce;
  }

  /** The `WWW-Authenticate` value of RFC 9449 §7.1: scheme DPoP, the error and the accepted algorithms. */
  get wwwAuthenticate(): string {
    return dpopChallenge(this.code === 'use_dpop_nonce' ? 'use_dpop_nonce' : 'invalid_dpop_proof', this.message);
  }
}

/**
 * Formats a `WWW-Authenticate: DPoP` challenge (RFC 9449 §7.1). The description is our own text,
 * never user input, and loses any quote or backslash so the quoted-string stays well-formed.
 *
 * @example res.set('WWW-Authenticate', dpopChallenge('invalid_token', 'the token expired'))
 */
export function dpopChallenge(error?: string, description?: string): string {
  const params = [`algs="${DPOP_ALGORITHMS.join(' ')}"`];
  if (error !== undefined) params.unshift(`error="${error}"`, ...(description ? [`error_description="${description.replace(/["\\]/g, '')}"`] : []));
  return `DPoP ${params.join(', ')}`;
}

/** Server nonces (RFC 9449 §8/§9): which nonces are acceptable now, and the one to hand out. */
export interface DpopNonceSource {
  isValid(nonce: string): boolean | Promise<boolean>;
  current(): string | Promise<string>;
}

export interface VerifyDpopProofOptions {
  /** The request's method, for `htm`. */
  method: string;
  /** The request's full URL as the client addressed it, for `htu`. */
  url: string;
  /** Epoch milliseconds; inject a fake clock in tests. */
  now: number;
  /** How old (seconds) a proof's `iat` may be. Default 60. */
  maxAgeSeconds?: number;
  /** How far (seconds) in the future `iat` may be, for clock skew. Default 5. */
  clockSkewSeconds?: number;
  /** The access token sent with the proof: `ath` is then required and checked. */
  accessToken?: string;
  /** The thumbprint the access or refresh token is bound to (`cnf.jkt`): the proof's key must match. */
  expectedJkt?: string;
  /** When set, a proof must carry a nonce this source accepts. */
  nonces?: DpopNonceSource;
  /**
   * Records a proof as used; resolves false if `key` was already recorded (a replay). Keep the
   * record until `expiresAt` (epoch ms), when the proof's `iat` leaves the window anyway.
   */
  useOnce?: (key: string, expiresAt: number) => boolean | Promise<boolean>;
}

/** What a valid proof established. */
export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key, base64url: what `cnf.jkt` holds. */
  jkt: string;
  jti: string;
  /** Epoch seconds. */
  iat: number;
  /** The proof's public key. */
  jwk: JWK;
  /** The replay-cache key (hash of jkt and jti) and until when it must be remembered. */
  replayKey: string;
  replayExpiresAt: number;
}

const reject = (reason: DpopRejectReason, message: string): DpopError => new DpopError('invalid_dpop_proof', reason, message);

/**
 * Normalises a URI for `htu` comparison per RFC 9449 §4.3 step 9: drops query and fragment,
 * lowercases scheme and host, removes the default port and resolves dot segments. Returns
 * undefined for anything that is not an absolute http(s) URL.
 *
 * @example normaliseHtu('HTTPS://Api.Example.com:443/a?b#c') // 'https://api.example.com/a'
 */
export function normaliseHtu(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  url.search = '';
  url.hash = '';
  url.username = '';
  url.password = '';
  return url.href;
}

/**
 * The `ath` claim for an access token (RFC 9449 §4.2): base64url of SHA-256 of its ASCII text.
 *
 * @example accessTokenHash('eyJ...') // 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo'
 */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: the value of `cnf.jkt`.
 *
 * @example const jkt = await jwkThumbprint(publicJwk)
 */
export async function jwkThumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Step 1: exactly one header value holding one compact JWS of bounded size. */
function singleProof(header: string | string[] | undefined): string {
  if (header === undefined || header === '' || (Array.isArray(header) && header.length === 0)) throw reject('missing', 'a DPoP proof is required');
  if (Array.isArray(header) && header.length > 1) throw reject('multiple', 'exactly one DPoP header is allowed');
  const proof = (Array.isArray(header) ? header[0] : header) ?? '';
  // Node joins repeated headers with ", "; a JWS never contains a comma or a space.
  if (proof.includes(',')) throw reject('multiple', 'exactly one DPoP header is allowed');
  if (proof.length > MAX_DPOP_PROOF_LENGTH) throw reject('too_long', 'the DPoP proof is too long');
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof)) throw reject('malformed', 'the DPoP proof is not a compact JWS');
  return proof;
}

/** Step 2, before any signature work: the protected header's typ, alg and jwk. */
function checkHeader(proof: string): JWK {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(proof.slice(0, proof.indexOf('.')), 'base64url').toString('utf8'));
  } catch {
    throw reject('malformed', 'the DPoP proof header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw reject('malformed', 'the DPoP proof header is not a JSON object');
  const { typ, alg, jwk } = header as { typ?: unknown; alg?: unknown; jwk?: unknown };
  if (typ !== 'dpop+jwt') throw reject('typ', 'the DPoP proof typ must be dpop+jwt');
  if (typeof alg !== 'string' || !(DPOP_ALGORITHMS as readonly string[]).includes(alg)) throw reject('alg', 'the DPoP proof alg is not accepted');
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw reject('jwk', 'the DPoP proof header must carry a jwk');
  if (PRIVATE_JWK_MEMBERS.some((member) => Object.hasOwn(jwk, member))) throw reject('jwk_private', 'the DPoP proof jwk must be a public key');
  return jwk as JWK;
}

/**
 * Verifies the DPoP proof of one request (RFC 9449 §4.3) and returns its key's thumbprint. Throws
 * `DpopError` (`invalid_dpop_proof`, or `use_dpop_nonce` with the nonce to send) on any failure.
 *
 * @example
 * const { jkt } = await verifyDpopProof(req.headers.dpop, { method: 'GET', url, now: Date.now(),
 *   accessToken, expectedJkt: claims.cnf.jkt, useOnce: (k, until) => replay.add(k, until) })
 */
export async function verifyDpopProof(header: string | string[] | undefined, options: VerifyDpopProofOptions): Promise<VerifiedDpopProof> {
  const proof = singleProof(header);
  const jwk = checkHeader(proof);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...DPOP_ALGORITHMS],
      currentDate: new Date(options.now),
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw reject('signature', 'the DPoP proof signature does not verify with its jwk');
    if (err instanceof joseErrors.JWTExpired || err instanceof joseErrors.JWTClaimValidationFailed) throw reject('claims', 'the DPoP proof claims are invalid');
    if (err instanceof joseErrors.JOSENotSupported || err instanceof joseErrors.JWKInvalid) throw reject('jwk', 'the DPoP proof jwk is not a usable key for its alg');
    throw reject('malformed', 'the DPoP proof is not a valid JWS');
  }
  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_DPOP_JTI_LENGTH) throw reject('jti', `the DPoP proof needs a jti of 1 to ${MAX_DPOP_JTI_LENGTH} characters`);
  if (typeof htm !== 'string' || htm !== options.method.toUpperCase()) throw reject('htm', 'the DPoP proof htm does not match the request method');
  const expectedHtu = normaliseHtu(options.url);
  if (expectedHtu === undefined) throw reject('htu', 'the request URL is not an absolute http(s) URL');
  if (typeof htu !== 'string' || normaliseHtu(htu) !== expectedHtu) throw reject('htu', 'the DPoP proof htu does not match the request URI');
  const maxAge = options.maxAgeSeconds ?? 60;
  const skew = options.clockSkewSeconds ?? 5;
  const nowSeconds = options.now / 1000;
  if (typeof iat !== 'number' || !Number.isFinite(iat) || iat < nowSeconds - maxAge || iat > nowSeconds + skew) throw reject('iat', 'the DPoP proof iat is outside the acceptance window');
  if (options.accessToken !== undefined) {
    if (typeof ath !== 'string' || !sameText(ath, accessTokenHash(options.accessToken))) throw reject('ath', 'the DPoP proof ath does not match the access token');
  }
  const jkt = await jwkThumbprint(jwk);
  if (options.expectedJkt !== undefined && !sameText(jkt, options.expectedJkt)) throw reject('jkt', 'the DPoP proof key is not the key the token is bound to');
  if (options.nonces !== undefined) {
    if (typeof nonce !== 'string' || !(await options.nonces.isValid(nonce))) {
      throw new DpopError('use_dpop_nonce', 'nonce', 'the DPoP proof must carry the server nonce', await options.nonces.current());
    }
  }
  const replayKey = createHash('sha256').update(`${jkt}.${jti}`).digest('base64url');
  const replayExpiresAt = (iat + maxAge) * 1000 + 1000;
  if (options.useOnce !== undefined && !(await options.useOnce(replayKey, replayExpiresAt))) throw reject('replay', 'the DPoP proof was already used');
  return { jkt, jti, iat, jwk, replayKey, replayExpiresAt };
}
