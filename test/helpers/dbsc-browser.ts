// A protocol-level DBSC client that plays the browser: it keeps a session key made with
// node:crypto (ES256 by default, RS256 on request), reads the server's Secure-Session-Registration
// and Secure-Session-Challenge headers, and signs dbsc+jwt proofs the way Chromium does (key in
// the header `jwk`, payload `jti` only) or the way the W3C draft does (key in the payload `key`,
// with `aud` and `iat`).
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';

export type ProofStyle = 'chrome' | 'draft';

export interface RegistrationOffer {
  algorithms: string[];
  path: string;
  challenge: string;
  authorization?: string;
}

/** Parses one Secure-Session-Registration entry (inner list of algorithms + sf-string parameters). */
export function parseRegistrationOffer(value: string): RegistrationOffer {
  const match = /^\(([A-Za-z0-9 ]+)\)((?:;[a-z_]+="(?:[^"\\]|\\.)*")*)$/.exec(value.trim());
  if (!match) throw new Error(`not a Secure-Session-Registration value: ${value}`);
  const params = new Map<string, string>();
  for (const [, name, raw] of (match[2] ?? '').matchAll(/;([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) {
    params.set(name as string, (raw as string).replace(/\\(.)/g, '$1'));
  }
  const path = params.get('path');
  const challenge = params.get('challenge');
  if (path === undefined || challenge === undefined) throw new Error('registration offer without path or challenge');
  const authorization = params.get('authorization');
  return { algorithms: (match[1] ?? '').split(' ').filter(Boolean), path, challenge, ...(authorization === undefined ? {} : { authorization }) };
}

/** Parses a Secure-Session-Challenge value: `"challenge";id="session"`. */
export function parseChallenge(value: string): { challenge: string; id?: string } {
  const match = /^"((?:[^"\\]|\\.)*)"(?:;id="((?:[^"\\]|\\.)*)")?$/.exec(value.trim());
  if (!match) throw new Error(`not a Secure-Session-Challenge value: ${value}`);
  const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');
  return { challenge: unescape(match[1] ?? ''), ...(match[2] === undefined ? {} : { id: unescape(match[2]) }) };
}

export class DbscTestBrowser {
  readonly alg: 'ES256' | 'RS256';
  readonly publicJwk: JWK;
  private readonly privateKey: KeyObject;

  constructor(alg: 'ES256' | 'RS256' = 'ES256') {
    this.alg = alg;
    const pair = alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicJwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
  }

  /** The registration proof for an offer, as the value of Secure-Session-Response (an sf-string). */
  async registrationProof(offer: RegistrationOffer, options: { style?: ProofStyle; audience?: string; iat?: number | string } = {}): Promise<string> {
    const style = options.style ?? 'chrome';
    const payload: Record<string, unknown> = { jti: offer.challenge };
    if (offer.authorization !== undefined) payload.authorization = offer.authorization;
    if (style === 'draft') Object.assign(payload, { aud: options.audience, iat: options.iat, key: this.publicJwk });
    const header: Record<string, unknown> = { alg: this.alg, typ: 'dbsc+jwt' };
    if (style === 'chrome') header.jwk = this.publicJwk;
    return this.sign(header, payload);
  }

  /** The refresh proof answering a challenge. */
  async refreshProof(challenge: string, options: { style?: ProofStyle; sessionIdentifier?: string; audience?: string; iat?: number } = {}): Promise<string> {
    const payload: Record<string, unknown> = { jti: challenge };
    if (options.style === 'draft') Object.assign(payload, { aud: options.audience, iat: options.iat, sub: options.sessionIdentifier });
    return this.sign({ alg: this.alg, typ: 'dbsc+jwt' }, payload);
  }

  private async sign(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
    for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
    const jws = await new SignJWT(payload).setProtectedHeader(header as never).sign(this.privateKey);
    return `"${jws}"`;
  }
}
