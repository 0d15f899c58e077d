/**
 * Device Bound Session Credentials (W3C WebAppSec DBSC editor's draft, w3c/webappsec-dbsc
 * spec.bs, section "DBSC Formats"): the server side's wire formats and proof checks, as pure
 * functions (no store, no manager).
 *
 * What we followed, and where the draft and Chrome differ:
 * - `Secure-Session-Registration` is an sf-list of inner lists of algorithm tokens (ES256, RS256)
 *   with sf-string parameters `path`, `challenge` and optional `authorization` (draft §"
 *   Secure-Session-Registration HTTP header field").
 * - `Secure-Session-Challenge` is an sf-string with an optional `id` parameter naming the session;
 *   answered with 403 it asks for a freshly signed proof at once (draft §"Secure-Session-Challenge").
 * - `Secure-Session-Response` (the proof) and `Sec-Secure-Session-Id` are sf-strings; we also take
 *   the bare value, which some Chrome builds send.
 * - The proof is a JWS with `typ: dbsc+jwt`, `alg` ES256 or RS256 and `jti` = the challenge. The
 *   draft puts the public key in the payload claim `key` and requires `aud` and `iat`; Chromium's
 *   net/device_bound_sessions/session_binding_utils.cc (the code shipping in Chrome) puts it in the
 *   header `jwk` and sends only `jti` (+ `authorization`). We take the key from either place (both
 *   present: they must be equal), and check `aud`, `iat` and `sub` whenever they are present;
 *   `requireAudienceAndTime` makes the first two mandatory. Freshness never rests on `iat` alone:
 *   the challenge is single-use and expires (the caller's `consumeChallenge`).
 * - The session instructions JSON: `session_identifier`, `refresh_url`, `scope` (`origin`,
 *   `include_site`, `scope_specification`), `credentials` (`type: cookie`, `name`, `attributes`),
 *   optional `continue` and `allowed_refresh_initiators` (draft §"JSON Session Instruction Format").
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { stringifySetCookie, type SerializeOptions } from 'cookie';
import { calculateJwkThumbprint, compactVerify, decodeJwt, decodeProtectedHeader, errors as joseErrors, importJWK, type JWK } from 'jose';
import { SessionError } from '../base/errors.js';

/** The algorithms the draft allows for session keys. */
export const DBSC_ALGORITHMS = ['ES256', 'RS256'] as const;
export type DbscAlgorithm = (typeof DBSC_ALGORITHMS)[number];

export const DBSC_HEADERS = {
  registration: 'Secure-Session-Registration',
  response: 'Secure-Session-Response',
  sessionId: 'Sec-Secure-Session-Id',
  challenge: 'Secure-Session-Challenge',
} as const;

/** The longest proof we parse: an RS256 registration proof with a 4096-bit key is under 2 KiB. */
export const MAX_DBSC_PROOF_LENGTH = 8192;

/** Which check failed; stable, recorded in `details.reason` and in audit events. */
export type DbscRejectReason =
  | 'missing' | 'too_long' | 'malformed' | 'typ' | 'alg' | 'key' | 'key_private' | 'key_mismatch'
  | 'signature' | 'audience' | 'iat' | 'subject' | 'challenge' | 'authorization';

/**
 * A DBSC proof that failed a check: code `invalid_dbsc_proof` (401), `reason` names the check.
 *
 * @example catch (err) { if (err instanceof DbscError) audit('session.binding_failed', err.reason) }
 */
export class DbscError extends SessionError {
  readonly reason: DbscRejectReason;

  constructor(reason: DbscRejectReason, message: string) {
    super('invalid_dbsc_proof', message, { reason });
    this.name = 'DbscError';
    this.reason = reason;
  }
}

const reject = (reason: DbscRejectReason, message: string): DbscError => new DbscError(reason, message);

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Serialises an sf-string (RFC 9651 §4.1.6): printable ASCII only, `"` and `\` escaped. */
function sfString(value: string, what: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new TypeError(`${what} must be printable ASCII`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Reads a header that carries one sf-string (parameters ignored, as the draft says) or, as some
 * Chrome builds send, the bare value. Returns undefined for anything else.
 *
 * @example parseSfStringHeader('"abc";x=1') // 'abc'
 */
export function parseSfStringHeader(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.length === 1 ? parseSfStringHeader(value[0]) : undefined;
  if (value === undefined) return undefined;
  const text = value.trim();
  if (!text.startsWith('"')) return /^[A-Za-z0-9._~+/=-]+$/.test(text) ? text : undefined;
  let out = '';
  for (let i = 1; i < text.length; i += 1) {
    const c = text[i] as string;
    if (c === '\\') {
      const next = text[i + 1];
      if (next !== '"' && next !== '\\') return undefined;
      out += next;
      i += 1;
    } else if (c === '"') {
      const rest = text.slice(i + 1);
      return rest === '' || rest.startsWith(';') ? out : undefined;
    } else if (c < ' ' || c > '~') {
      return undefined;
    } else {
      out += c;
    }
  }
  return undefined;
}

/**
 * A fresh registration or refresh challenge: 32 random bytes, base64url.
 *
 * @example const challenge = newDbscChallenge()
 */
export function newDbscChallenge(): string {
  return randomBytes(32).toString('base64url');
}

/** A hash of a challenge, to store instead of the challenge itself. */
export function hashDbscChallenge(challenge: string): string {
  return createHash('sha256').update(challenge).digest('base64url');
}

export interface RegistrationHeaderOptions {
  /** The registration endpoint, relative to the response's URL or absolute. */
  path: string;
  challenge: string;
  /** Default ES256 then RS256, in order of preference. */
  algorithms?: readonly DbscAlgorithm[];
  /** Copied by the browser into the proof's `authorization` claim. */
  authorization?: string;
}

/**
 * The `Secure-Session-Registration` header value that offers the browser to bind the session.
 *
 * @example registrationHeader({ path: '/auth/dbsc/register', challenge })
 * // '(ES256 RS256);path="/auth/dbsc/register";challenge="..."'
 */
export function registrationHeader(options: RegistrationHeaderOptions): string {
  const algorithms = options.algorithms ?? DBSC_ALGORITHMS;
  if (algorithms.length === 0 || algorithms.some((a) => !(DBSC_ALGORITHMS as readonly string[]).includes(a))) {
    throw new TypeError('registrationHeader: algorithms must be ES256 and/or RS256');
  }
  let value = `(${algorithms.join(' ')});path=${sfString(options.path, 'path')};challenge=${sfString(options.challenge, 'challenge')}`;
  if (options.authorization !== undefined) value += `;authorization=${sfString(options.authorization, 'authorization')}`;
  return value;
}

/**
 * The `Secure-Session-Challenge` header value: the challenge, and the session it is for.
 *
 * @example res.status(403).set('Secure-Session-Challenge', challengeHeader(challenge, sessionId))
 */
export function challengeHeader(challenge: string, sessionIdentifier?: string): string {
  const value = sfString(challenge, 'challenge');
  return sessionIdentifier === undefined ? value : `${value};id=${sfString(sessionIdentifier, 'session identifier')}`;
}

export interface SessionInstructionsOptions {
  sessionIdentifier: string;
  refreshUrl: string;
  /** The bound cookie: its name and the attributes of its `Set-Cookie` (Max-Age/Expires are left out). */
  cookie: { name: string; attributes: Omit<SerializeOptions, 'maxAge' | 'expires' | 'encode'> };
  /** Default: the origin serving the instructions. */
  origin?: string;
  /** Site-scoped (true) or origin-scoped (false, the default). */
  includeSite?: boolean;
  scopeSpecification?: { type: 'include' | 'exclude'; domain?: string; path?: string }[];
  allowedRefreshInitiators?: string[];
  /** False ends the browser's session (sent when the server session is gone). */
  continue?: boolean;
}

/** The JSON session instructions object (draft §"JSON Session Instruction Format"). */
export interface SessionInstructions {
  session_identifier: string;
  refresh_url: string;
  continue: boolean;
  scope: { origin?: string; include_site: boolean; scope_specification: { type: string; domain?: string; path?: string }[] };
  credentials: { type: 'cookie'; name: string; attributes: string }[];
  allowed_refresh_initiators?: string[];
}

/**
 * Builds the session instructions the registration (and refresh) endpoint answers with. The
 * cookie attributes are serialised by the `cookie` package, as the real `Set-Cookie` is.
 *
 * @example res.json(sessionInstructions({ sessionIdentifier: id, refreshUrl: '/auth/dbsc/refresh',
 *   cookie: { name: 'skb', attributes: { path: '/', secure: true, httpOnly: true, sameSite: 'lax' } } }))
 */
export function sessionInstructions(options: SessionInstructionsOptions): SessionInstructions {
  const setCookie = stringifySetCookie(options.cookie.name, 'x', options.cookie.attributes);
  const attributes = setCookie.slice(setCookie.indexOf(';') + 1).trim();
  const instructions: SessionInstructions = {
    session_identifier: options.sessionIdentifier,
    refresh_url: options.refreshUrl,
    continue: options.continue ?? true,
    scope: {
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      include_site: options.includeSite ?? false,
      scope_specification: options.scopeSpecification ?? [],
    },
    credentials: [{ type: 'cookie', name: options.cookie.name, attributes: setCookie.includes(';') ? attributes : '' }],
  };
  if (options.allowedRefreshInitiators !== undefined) instructions.allowed_refresh_initiators = options.allowedRefreshInitiators;
  return instructions;
}

export interface DbscProofOptions {
  /** The URL of the endpoint the proof was sent to: `aud` must equal it when present. */
  audience: string;
  /** Epoch milliseconds. */
  now: number;
  /** Acceptance window of `iat` when present, seconds. Default 300 (TPM signing is slow). */
  maxAgeSeconds?: number;
  /** Require `aud` and `iat` as the draft does (Chrome omits them). Default false. */
  requireAudienceAndTime?: boolean;
  /**
   * Called with the proof's `jti` once the signature verified: true if it is an unexpired challenge
   * of this session, now consumed (single use); false otherwise.
   */
  consumeChallenge: (challenge: string) => boolean | Promise<boolean>;
}

export interface RegistrationProofOptions extends DbscProofOptions {
  /** The `authorization` the registration header carried: the proof must echo it. */
  authorization?: string;
}

export interface RefreshProofOptions extends DbscProofOptions {
  /** The key bound at registration. */
  boundKey: BoundKey;
  /** The session identifier: `sub` must equal it when present. */
  sessionIdentifier: string;
}

/** The public key a session is bound to, as stored with the session. */
export interface BoundKey {
  alg: DbscAlgorithm;
  /** Public members only. */
  jwk: JWK;
  /** RFC 7638 SHA-256 thumbprint. */
  jkt: string;
}

function rawProof(proof: string | string[] | undefined): string {
  const text = parseSfStringHeader(proof);
  if (text === undefined || text === '') throw reject('missing', 'a Secure-Session-Response proof is required');
  if (text.length > MAX_DBSC_PROOF_LENGTH) throw reject('too_long', 'the DBSC proof is too long');
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text)) throw reject('malformed', 'the DBSC proof is not a compact JWS');
  return text;
}

function decoded(proof: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  try {
    return { header: decodeProtectedHeader(proof) as Record<string, unknown>, payload: decodeJwt(proof) as Record<string, unknown> };
  } catch {
    throw reject('malformed', 'the DBSC proof header or payload is not a JSON object');
  }
}

function checkHeader(header: Record<string, unknown>): DbscAlgorithm {
  if (header.typ !== 'dbsc+jwt') throw reject('typ', 'the DBSC proof typ must be dbsc+jwt');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(DBSC_ALGORITHMS as readonly string[]).includes(alg)) throw reject('alg', 'the DBSC proof alg must be ES256 or RS256');
  return alg as DbscAlgorithm;
}

function publicJwk(value: unknown): JWK {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw reject('key', 'the DBSC registration proof must carry its public key');
  if (PRIVATE_JWK_MEMBERS.some((m) => Object.hasOwn(value, m))) throw reject('key_private', 'the DBSC proof key must be a public key');
  const jwk = value as JWK;
  // Keep only the members that define the key, so what we store is exactly the public key.
  if (jwk.kty === 'EC') return { kty: 'EC', crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string };
  if (jwk.kty === 'RSA') return { kty: 'RSA', n: jwk.n as string, e: jwk.e as string };
  throw reject('key', 'the DBSC proof key must be an EC or RSA key');
}

const sameJson = (a: JWK, b: JWK): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The JWS check alone: the claims (the draft's string `iat` among them) are ours to check. */
async function verifySignature(proof: string, jwk: JWK, alg: DbscAlgorithm): Promise<void> {
  let key;
  try {
    key = await importJWK(jwk, alg);
  } catch {
    throw reject('key', 'the DBSC proof key is not a usable key for its alg');
  }
  try {
    await compactVerify(proof, key, { algorithms: [alg] });
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw reject('signature', 'the DBSC proof signature does not verify with the key');
    throw reject('malformed', 'the DBSC proof is not a valid JWS');
  }
}

/** `aud`, `iat`, then the single-use challenge: the checks both proofs share. */
async function checkClaims(payload: Record<string, unknown>, options: DbscProofOptions): Promise<string> {
  const { aud, iat, jti } = payload;
  if (aud !== undefined || options.requireAudienceAndTime) {
    if (typeof aud !== 'string' || aud !== options.audience) throw reject('audience', 'the DBSC proof aud is not this endpoint');
  }
  if (iat !== undefined || options.requireAudienceAndTime) {
    // The draft's example sends iat as a numeric string; its text says NumericDate. Accept both.
    const seconds = typeof iat === 'string' && /^\d{1,12}$/.test(iat) ? Number(iat) : iat;
    const maxAge = options.maxAgeSeconds ?? 300;
    const nowSeconds = options.now / 1000;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < nowSeconds - maxAge || seconds > nowSeconds + maxAge) {
      throw reject('iat', 'the DBSC proof iat is outside the acceptance window');
    }
  }
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256 || !(await options.consumeChallenge(jti))) {
    throw reject('challenge', 'the DBSC proof does not answer an unexpired challenge of this session');
  }
  return jti;
}

/**
 * Verifies a registration proof (`Secure-Session-Response` at the registration endpoint): signed by
 * the key it carries, `jti` a live challenge (consumed), `aud`/`iat` when present. Returns the key
 * to bind. Throws `DbscError`.
 *
 * @example const bound = await verifyRegistrationProof(req.get('Secure-Session-Response'), {
 *   audience: 'https://app.example/auth/dbsc/register', now: Date.now(), consumeChallenge })
 */
export async function verifyRegistrationProof(proof: string | string[] | undefined, options: RegistrationProofOptions): Promise<BoundKey & { challenge: string }> {
  const text = rawProof(proof);
  const { header, payload } = decoded(text);
  const alg = checkHeader(header);
  const fromHeader = header.jwk === undefined ? undefined : publicJwk(header.jwk);
  const fromPayload = payload.key === undefined ? undefined : publicJwk(payload.key);
  const jwk = fromHeader ?? fromPayload;
  if (jwk === undefined) throw reject('key', 'the DBSC registration proof must carry its public key');
  if (fromHeader !== undefined && fromPayload !== undefined && !sameJson(fromHeader, fromPayload)) {
    throw reject('key_mismatch', 'the DBSC proof carries two different keys');
  }
  if ((alg === 'ES256') !== (jwk.kty === 'EC' && jwk.crv === 'P-256')) throw reject('key', 'the DBSC proof key does not fit its alg');
  await verifySignature(text, jwk, alg);
  if (options.authorization !== undefined) {
    const echoed = payload.authorization;
    if (typeof echoed !== 'string' || !timingSafeEqual(Buffer.from(hashDbscChallenge(echoed)), Buffer.from(hashDbscChallenge(options.authorization)))) {
      throw reject('authorization', 'the DBSC proof does not echo the registration authorization');
    }
  }
  const challenge = await checkClaims(payload, options);
  return { alg, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256'), challenge };
}

/**
 * Verifies a refresh proof: signed by the session's bound key with the bound algorithm, `jti` a
 * live challenge (consumed), `sub` the session when present, `aud`/`iat` when present. Throws
 * `DbscError`.
 *
 * @example await verifyRefreshProof(req.get('Secure-Session-Response'), { boundKey, sessionIdentifier,
 *   audience: 'https://app.example/auth/dbsc/refresh', now: Date.now(), consumeChallenge })
 */
export async function verifyRefreshProof(proof: string | string[] | undefined, options: RefreshProofOptions): Promise<{ challenge: string }> {
  const text = rawProof(proof);
  const { header, payload } = decoded(text);
  const alg = checkHeader(header);
  if (alg !== options.boundKey.alg) throw reject('alg', 'the DBSC refresh proof alg is not the bound key\'s');
  if (header.jwk !== undefined && !sameJson(publicJwk(header.jwk), options.boundKey.jwk)) throw reject('key_mismatch', 'the DBSC refresh proof names another key');
  await verifySignature(text, options.boundKey.jwk, alg);
  if (payload.sub !== undefined && payload.sub !== options.sessionIdentifier) throw reject('subject', 'the DBSC refresh proof is for another session');
  return { challenge: await checkClaims(payload, options) };
}
