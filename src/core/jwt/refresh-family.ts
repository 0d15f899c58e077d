/**
 * A refresh-token family over its session record: `secretHash` is the live refresh token,
 * `previousSecretHash` its predecessor (accepted for `refreshGrace`, answered with the same
 * successor), and `usedSecretHashes` the older ones, kept so that presenting one is recognised as
 * reuse (theft) rather than as an unknown token. The token format is src/tokens/refresh.ts.
 */
import { hashesEqual } from '../../tokens/opaque.js';
import type { StoredSession } from '../types.js';

/** How many superseded refresh-token hashes a session keeps for reuse detection. */
export const MAX_USED_SECRET_HASHES = 16;

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
