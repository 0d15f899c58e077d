/**
 * The per-user session index: one Memcached item per user tag holding, for each user id under
 * that tag, the sessions as `[rest, createdAt, absoluteExpiresAt]`, plus `revokedAt, reason` once
 * revoked. It is the authority on membership and revocation: `get` reads it with the record (same
 * server, one round trip) and a record without a live entry is not a session. So an evicted index
 * makes that user's sessions read as not found, never valid; and a revoke-all, an eviction at the
 * per-user limit or a replacement is one `cas` on this item, atomic for the user.
 *
 * @example const index = decodeIndex(raw); entriesOf(index, 'u1').push([rest, createdAt, absoluteExpiresAt])
 */
import type { StoredSession } from '../../core/types.js';

/** `[rest, createdAt, absoluteExpiresAt]` while live; `[…, revokedAt, reason]` once revoked. */
export type IndexEntry = [string, number, number] | [string, number, number, number, string];
export type UserIndex = Record<string, IndexEntry[]>;

/** Reads an index item; anything unreadable counts as absent (its sessions read as not found). */
export function decodeIndex(raw: string | undefined): UserIndex | null {
  if (raw === undefined) return null;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    // Keyed by user ids (user-controlled): no prototype, so `__proto__` or `constructor` are
    // users like any other, not Object.prototype's members.
    return Object.assign(emptyIndex(), parsed) as UserIndex;
  } catch {
    return null;
  }
}

/** An index of nobody (without a prototype: its keys are user ids). */
export function emptyIndex(): UserIndex {
  return Object.create(null) as UserIndex;
}

export function encodeIndex(index: UserIndex): string {
  return JSON.stringify(index);
}

/** The user's entries (created empty when missing). */
export function entriesOf(index: UserIndex, userId: string): IndexEntry[] {
  let list = index[userId];
  if (!Array.isArray(list)) {
    list = [];
    index[userId] = list;
  }
  return list;
}

export function isRevokedEntry(e: IndexEntry): e is [string, number, number, number, string] {
  return e.length >= 5;
}

export function revokedEntry(e: IndexEntry, at: number, reason: string): IndexEntry {
  return [e[0], e[1], e[2], at, reason];
}

/** The latest absolute expiry in the index: the item must live at least that long. */
export function indexLifetimeEnd(index: UserIndex): number {
  let end = 0;
  for (const list of Object.values(index)) for (const e of list) end = Math.max(end, e[2]);
  return end;
}

/** Drops the users whose lists became empty (so an index of nobody can be deleted). */
export function compact(index: UserIndex): UserIndex {
  for (const [user, list] of Object.entries(index)) if (list.length === 0) delete index[user];
  return index;
}

/**
 * The record as the store reports it: revoked if either the record or its index entry says so.
 * Null when the entry is missing (the session was never committed, or the index was evicted).
 */
export function mergeEntry(record: StoredSession, entry: IndexEntry | undefined): StoredSession | null {
  if (!entry) return null;
  if (record.revokedAt === null && isRevokedEntry(entry)) {
    record.revokedAt = entry[3];
    record.revokeReason = entry[4];
  }
  return record;
}
