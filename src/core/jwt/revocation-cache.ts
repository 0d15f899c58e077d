/**
 * The local revocation knowledge behind `checkRevocation: 'cached'`. It answers one question for a
 * verified access token: may this process say the session is not revoked without asking the store?
 *
 * - Revoked session ids (from this process's own revocations, from `store.watch` events and from
 *   store lookups) are kept until every access token issued before the revocation has expired.
 * - A session is trusted without a lookup only if the store confirmed it live less than
 *   `staleness` ago (a lease), or if the watch stream has been proven healthy without a gap
 *   since that confirmation. Otherwise the caller looks the record up: fail closed.
 *
 * Proof of a healthy stream is a `{ type: 'sync', at }` heartbeat: a store may send one after each
 * poll (or ping) to say that every change committed before it has been delivered. A store that
 * sends none is never considered healthy, and every session costs one lookup per `staleness`
 * window. Either way a revocation made anywhere is honoured within `staleness`.
 */
import { boundedMap } from '../bounded-map.js';

export interface RevocationCacheOptions {
  now: () => number;
  /** The staleness bound, ms. */
  staleness: number;
  /** How long a revoked id must be remembered: the longest access-token lifetime plus tolerance. */
  retain: number;
  /** Bound on remembered ids of each kind. Default 100,000. */
  maxEntries?: number;
}

/** A change as the cache reads it: a store change, or a heartbeat. */
export type RevocationSignal =
  | { type: 'revoked'; sessionId: string; at: number }
  | { type: 'sync'; at: number }
  | { type: string };

export type RevocationCache = ReturnType<typeof createRevocationCache>;

/**
 * @example
 * const cache = createRevocationCache({ now: Date.now, staleness: 1000, retain: 305_000 });
 * store.watch((change) => cache.signal(change));
 * if (cache.isRevoked(sid)) reject(); else if (!cache.isTrusted(sid)) await lookUp(sid);
 */
export function createRevocationCache(options: RevocationCacheOptions) {
  const { now, staleness, retain } = options;
  const maxEntries = options.maxEntries ?? 100_000;
  /** session id → when it may be forgotten. */
  const revoked = new Map<string, number>();
  /** session id → when the store last confirmed it live (bounded: core/bounded-map.ts). */
  const confirmed = boundedMap<string, number>(maxEntries);
  let lastSync = Number.NEGATIVE_INFINITY;
  /** Start of the current unbroken run of heartbeats; confirmations before it prove nothing. */
  let healthySince = Number.POSITIVE_INFINITY;

  const healthy = (t: number): boolean => t - lastSync < staleness;

  function markRevoked(sessionId: string, at = now()): void {
    confirmed.delete(sessionId);
    revoked.set(sessionId, Math.max(at, now()) + retain);
    if (revoked.size > maxEntries) {
      const t = now();
      for (const [id, until] of revoked) if (until <= t) revoked.delete(id);
      if (revoked.size > maxEntries) {
        // Too many to remember: forget the oldest, and with them every trust that could rest on
        // them, so each session is looked up again (fail closed).
        for (const id of revoked.keys()) {
          revoked.delete(id);
          if (revoked.size <= maxEntries / 2) break;
        }
        confirmed.clear();
        healthySince = Number.POSITIVE_INFINITY;
      }
    }
  }

  return {
    /** Whether this process knows the session was revoked. */
    isRevoked(sessionId: string): boolean {
      const until = revoked.get(sessionId);
      if (until === undefined) return false;
      if (until > now()) return true;
      revoked.delete(sessionId);
      return false;
    },
    /** Whether the session may be taken as not revoked without a store lookup right now. */
    isTrusted(sessionId: string): boolean {
      const at = confirmed.get(sessionId);
      if (at === undefined) return false;
      const t = now();
      return t - at < staleness || (healthy(t) && at >= healthySince);
    },
    /** Records that the store said the session was live at `at` (take the time before the read). */
    confirm(sessionId: string, at: number): void {
      if (revoked.has(sessionId)) return;
      confirmed.set(sessionId, at);
    },
    markRevoked,
    /** Feeds a `store.watch` change or heartbeat. */
    signal(change: RevocationSignal): void {
      if (change.type === 'revoked' && 'sessionId' in change) markRevoked(change.sessionId, change.at);
      else if (change.type === 'sync') {
        const t = now();
        if (!healthy(t)) healthySince = t;
        lastSync = t;
      }
    },
    /** Forgets all trust (the watch stream was lost): every session is looked up again. */
    distrust(): void {
      confirmed.clear();
      lastSync = Number.NEGATIVE_INFINITY;
      healthySince = Number.POSITIVE_INFINITY;
    },
    get size(): { revoked: number; confirmed: number } {
      return { revoked: revoked.size, confirmed: confirmed.size };
    },
  };
}
