/**
 * The verified-token cache: an access token seen again costs one SHA-256 and one Map lookup
 * instead of a signature check. Keyed by the token's hash (the cache never holds a token), bounded
 * (base/bounded-map.ts: entries not used lately leave first), never answers past the token's `exp`, and is emptied whenever the
 * key ring changes. Revocation is checked on every hit by the caller, as on a miss.
 */
import { hash } from 'node:crypto';
import { boundedMap } from '../base/bounded-map.js';
import type { AccessTokenClaims } from './jwt-verify.js';

export interface CachedToken {
  claims: AccessTokenClaims;
  /** Epoch ms from which the token is expired (exp plus the clock tolerance). */
  expiresAt: number;
}

export type VerifiedTokenCache = ReturnType<typeof createVerifiedTokenCache>;

/**
 * @example
 * const cache = createVerifiedTokenCache(10_000);
 * const key = cache.keyOf(token);
 * const hit = cache.get(key, Date.now()) ?? verifyAndStore(key);
 */
export function createVerifiedTokenCache(maxEntries: number) {
  const entries = boundedMap<string, CachedToken>(Math.max(1, maxEntries));
  return {
    enabled: maxEntries > 0,
    /** The cache key of a token: its SHA-256, base64. */
    keyOf(token: string): string {
      return hash('sha256', token, 'base64');
    },
    get(key: string, now: number): CachedToken | undefined {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (now >= entry.expiresAt) {
        entries.delete(key);
        return undefined;
      }
      return entry;
    },
    set(key: string, entry: CachedToken): void {
      if (maxEntries <= 0) return;
      entries.set(key, entry);
    },
    delete(key: string): void {
      entries.delete(key);
    },
    clear(): void {
      entries.clear();
    },
    get size(): number {
      return entries.size;
    },
  };
}
