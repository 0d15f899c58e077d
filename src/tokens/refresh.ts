/**
 * Refresh tokens: opaque `<prefix>r_<sessionId>.<secret>`, single use, rotated on every refresh.
 * The session record is the token family: `secretHash` is the live refresh token,
 * `previousSecretHash` its predecessor (accepted for `refreshGrace`, answered with the same
 * successor), and `usedSecretHashes` the older ones, kept so that presenting one is recognised as
 * reuse (theft) rather than as an unknown token.
 */
import type { StoredSession } from '../core/types.js';
import { hashesEqual, MAX_TOKEN_LENGTH, type ParsedOpaqueToken } from './opaque.js';

/** How many superseded refresh-token hashes a session keeps for reuse detection. */
export const MAX_USED_SECRET_HASHES = 16;

const PART = '[A-Za-z0-9_-]{43}';

/**
 * A parser for `<prefix>r_<id>.<secret>`. The `r` keeps a refresh token from ever parsing as an
 * opaque session token (`<prefix>_`) or a JWT (`eyJ`).
 *
 * @example refreshTokenParser('sk')('skr_<id>.<secret>') // { id, secret }
 */
export function refreshTokenParser(prefix: string): (token: unknown) => ParsedOpaqueToken | null {
  const pattern = new RegExp(`^${prefix}r_(${PART})\\.(${PART})$`);
  return (token) => {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
    const match = pattern.exec(token);
    return match ? { id: match[1] as string, secret: match[2] as string } : null;
  };
}

export function formatRefreshToken(prefix: string, id: string, secret: string): string {
  return `${prefix}r_${id}.${secret}`;
}

/** How a presented refresh token relates to its family at time `t`. */
export type RefreshMatch = 'current' | 'previous' | 'reused' | 'unknown';

/**
 * Classifies a presented refresh token by its hash: the live one, the predecessor inside the
 * grace window, an already-used one (the predecessor after the window counts as used), or none.
 *
 * @example matchRefreshSecret(record, hashSecret(secret), now) // 'current'
 */
export function matchRefreshSecret(record: StoredSession, presentedHash: string, t: number): RefreshMatch {
  if (hashesEqual(presentedHash, record.secretHash)) return 'current';
  if (record.previousSecretHash !== null && hashesEqual(presentedHash, record.previousSecretHash)) {
    return record.previousSecretExpiresAt !== null && t < record.previousSecretExpiresAt ? 'previous' : 'reused';
  }
  for (const used of record.usedSecretHashes) if (hashesEqual(presentedHash, used)) return 'reused';
  return 'unknown';
}

/**
 * The record after one rotation: the successor becomes current, the current one the predecessor
 * (for `grace` ms), the old predecessor joins the bounded used list, the idle expiry slides (never
 * past the absolute one) and the version moves on for the compare-and-swap.
 */
export function rotatedRecord(record: StoredSession, successorHash: string, t: number, grace: number): StoredSession {
  const used = record.previousSecretHash === null ? record.usedSecretHashes : [...record.usedSecretHashes, record.previousSecretHash];
  return {
    ...record,
    secretHash: successorHash,
    previousSecretHash: record.secretHash,
    previousSecretExpiresAt: t + grace,
    usedSecretHashes: used.slice(-MAX_USED_SECRET_HASHES),
    generation: record.generation + 1,
    lastSeenAt: t,
    idleExpiresAt: Math.min(t + record.idleTimeout, record.absoluteExpiresAt),
    version: record.version + 1,
  };
}
