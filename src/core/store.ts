import type { AuditEvent, AuditQuery, StoredAuditEvent, StoredSession } from './types.js';

/** What a store can promise; the conformance suite skips only what a flag says is not held. */
export interface StoreCapabilities {
  /** Per-user session limits hold exactly under concurrent creates. */
  exactUserLimit: boolean;
  /** Audit events are persisted atomically with the change they describe and can be queried. */
  persistentAudit: boolean;
  /** Changes made by other processes are announced through `watch`. */
  crossProcessEvents: boolean;
  /**
   * Deleted API keys are announced through `watch` as `{ type: 'record' }`, so verified keys may
   * be cached (src/server/api-keys.ts). Stores without it are read on every API call.
   */
  recordChanges?: boolean;
}

export interface CreateOptions {
  now: number;
  /** Per-user limit: evict the oldest live sessions, or refuse with `session_limit_reached`. */
  limit?: { max: number; policy: 'evict-oldest' | 'reject' };
  /** A session (by id) this one replaces: revoked with reason `replaced` in the same step. */
  replaces?: string;
  /** Events persisted with the change (stores with `persistentAudit`). */
  events: AuditEvent[];
}

export interface CreateResult {
  /** Sessions revoked by this create (eviction or replacement), as they were before. */
  revoked: StoredSession[];
}

export interface RevokeOptions {
  reason: string;
  at: number;
  events: AuditEvent[];
}

export interface RevokeAllOptions {
  reason: string;
  at: number;
  except?: string;
  /** Template of the event written for each revoked session (sessionId and userId are filled in). */
  event: AuditEvent;
}

/** A change announced to other processes sharing the store. */
export type StoreChange =
  | { type: 'revoked'; sessionId: string; userId: string; at: number }
  | { type: 'keys'; at: number }
  /** A named record was deleted (only with `capabilities.recordChanges`; today: API keys). */
  | { type: 'record'; kind: string; id: string; at: number };

/**
 * The contract every session store implements: a few atomic operations on session records,
 * plus small named records (signing keys, API keys) and the audit trail.
 * Every method rejects (never resolves with a made-up answer) when the backend cannot answer.
 */
export interface SessionStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;

  /**
   * Optional: makes the id of a new session of `userId` (exactly 43 base64url characters, at least
   * 128 random bits). Stores that must place a user's sessions together (a Redis Cluster hash slot)
   * embed a user-derived tag; others leave it out and get 32 random bytes.
   */
  newSessionId?(userId: string, random: (size: number) => Buffer): string;
  /** One read: the record, or null. Must be one round trip. */
  get(id: string): Promise<StoredSession | null>;
  /** Inserts a new record, enforcing the per-user limit and the replacement atomically. */
  create(session: StoredSession, options: CreateOptions): Promise<CreateResult>;
  /**
   * Compare-and-swap: writes `next` (whose version is `expectedVersion + 1`) only if the stored
   * version is still `expectedVersion` and the record is not revoked. Resolves false otherwise.
   */
  replace(next: StoredSession, expectedVersion: number, events: AuditEvent[]): Promise<boolean>;
  /** The throttled sliding-expiry write: moves `lastSeenAt`/`idleExpiresAt` forward on a live record. */
  touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<void>;
  /** Marks the record revoked; resolves with the record as it was if it was live, else null. */
  revoke(id: string, options: RevokeOptions): Promise<StoredSession | null>;
  /** Revokes every live session of a user (but `except`); resolves with the revoked records. */
  revokeAllForUser(userId: string, options: RevokeAllOptions): Promise<StoredSession[]>;
  /** The user's sessions that are neither revoked nor expired at `now`, oldest first. */
  listForUser(userId: string, now: number): Promise<StoredSession[]>;
  /** Deletes up to `limit` records past their retention; resolves with those deleted. */
  sweepExpired(now: number, limit: number): Promise<StoredSession[]>;

  /** Appends events that accompany no state change (rejected attempts). */
  appendAudit(events: AuditEvent[]): Promise<void>;
  queryAudit(query: AuditQuery): Promise<StoredAuditEvent[]>;

  /** Small named records: signing keys, API keys, settings. */
  getRecord<T>(kind: string, id: string): Promise<T | null>;
  /** Writes a record; with `ifAbsent`, only when none exists (resolves false if one did). */
  putRecord<T>(kind: string, id: string, value: T, options?: { ifAbsent?: boolean }): Promise<boolean>;
  listRecords<T>(kind: string): Promise<T[]>;
  deleteRecord(kind: string, id: string): Promise<boolean>;

  /** Subscribes to changes made by any process on this store. */
  watch(listener: (change: StoreChange) => void): () => void;
  /** Resolves when the backend answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** When a record may be deleted: revoked records are kept until their absolute expiry. */
export function retentionOf(s: StoredSession): number {
  return s.revokedAt !== null ? s.absoluteExpiresAt : Math.min(s.idleExpiresAt, s.absoluteExpiresAt);
}

/** Whether a record counts as a live session at `now`. */
export function isLive(s: StoredSession, now: number): boolean {
  return s.revokedAt === null && now < s.idleExpiresAt && now < s.absoluteExpiresAt;
}
