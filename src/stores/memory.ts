import { GENESIS_HASH, linkEvents, matchesQuery } from '../audit/chain.js';
import { SessionError } from '../core/errors.js';
import type { AuditEvent, AuditQuery, StoredAuditEvent, StoredSession } from '../core/types.js';
import { deepFreeze } from './freeze.js';
import { isLive, retentionOf, type CreateOptions, type CreateResult, type RevokeAllOptions, type RevokeOptions, type SessionStore, type StoreChange } from './types.js';

export const name = 'memory';

export interface MemoryStoreOptions {
  /** Keep at most this many audit events in memory (oldest dropped). Default 10,000. */
  auditLimit?: number;
}

/** How much the memory store holds: after everything expired and was swept, all but audit are 0. */
export interface MemoryStoreStats {
  sessions: number;
  users: number;
  /** Entries in the expiry heap, stale ones (left by touches) included. */
  expiryEntries: number;
  recordKinds: number;
  auditEvents: number;
}

/** The memory store, plus its sizes (for leak tests and monitoring). */
export interface MemorySessionStore extends SessionStore {
  stats(): MemoryStoreStats;
}

interface ExpiryEntry {
  at: number;
  id: string;
}

/**
 * A binary min-heap of (retention time, session id): the sweeper pops only what is due, so a sweep
 * costs O(expired · log n) instead of a walk over every session. Entries are never updated in
 * place; a record whose retention moved gets a new entry and the old one is skipped when popped.
 */
class ExpiryHeap {
  private items: ExpiryEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): ExpiryEntry | undefined {
    return this.items[0];
  }

  push(entry: ExpiryEntry): void {
    const items = this.items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as ExpiryEntry).at <= entry.at) break;
      items[i] = items[parent] as ExpiryEntry;
      i = parent;
    }
    items[i] = entry;
  }

  pop(): ExpiryEntry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as ExpiryEntry).at < (items[left] as ExpiryEntry).at ? right : left;
      if ((items[child] as ExpiryEntry).at >= last.at) break;
      items[i] = items[child] as ExpiryEntry;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Replaces the contents (dropping stale entries) in O(n). */
  rebuild(entries: ExpiryEntry[]): void {
    this.items = [];
    for (const e of entries.sort((a, b) => a.at - b.at)) this.items.push(e);
  }
}

/**
 * A store in the process's memory: for tests and single-process apps. Records are copied in and
 * deep-frozen; every write stores a new frozen record instead of changing one in place, so `get`
 * can hand out the stored record itself (no copy on the read that every validation makes) and a
 * caller still cannot change what the store holds (a write to a frozen record throws in strict
 * mode). Swept sessions free their memory.
 *
 * @example createSessionManager({ store: memoryStore() })
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemorySessionStore {
  const auditLimit = options.auditLimit ?? 10_000;
  const sessions = new Map<string, StoredSession>();
  const byUser = new Map<string, Set<string>>();
  /** The retention each session's live heap entry carries; any other entry for it is stale. */
  const retention = new Map<string, number>();
  const expiry = new ExpiryHeap();
  const records = new Map<string, Map<string, string>>();
  const audit: StoredAuditEvent[] = [];
  let lastSeq = 0;
  let lastHash = GENESIS_HASH;
  const listeners = new Set<(c: StoreChange) => void>();
  let closed = false;

  const open = (): void => {
    if (closed) throw new SessionError('store_unavailable', 'memory store is closed');
  };
  /** What a write stores: a private, deep-frozen copy of the caller's record. */
  const frozenCopy = (s: StoredSession): StoredSession => deepFreeze(structuredClone(s));
  /** The stored record with a few top-level fields changed: nested values are frozen already and shared. */
  const changed = (s: StoredSession, fields: Partial<StoredSession>): StoredSession => Object.freeze({ ...s, ...fields });
  const closedError = (): Promise<never> => Promise.reject(new SessionError('store_unavailable', 'memory store is closed'));
  const appendEvents = (events: AuditEvent[]): void => {
    if (events.length === 0) return;
    const linked = linkEvents(events, lastSeq, lastHash);
    const last = linked[linked.length - 1] as StoredAuditEvent;
    lastSeq = last.seq;
    lastHash = last.hash;
    audit.push(...linked);
    if (audit.length > auditLimit) audit.splice(0, audit.length - auditLimit);
  };
  const announce = (change: StoreChange): void => {
    for (const l of listeners) l(change);
  };
  /** Keeps the expiry heap in step with a record whose retention may have moved. */
  const scheduleExpiry = (s: StoredSession): void => {
    const at = retentionOf(s);
    if (retention.get(s.id) === at) return;
    retention.set(s.id, at);
    expiry.push({ at, id: s.id });
    // Touches leave stale entries behind; rebuilding when they outnumber live ones bounds memory.
    if (expiry.size > 2 * retention.size + 1024) expiry.rebuild([...retention].map(([id, t]) => ({ at: t, id })));
  };
  const index = (s: StoredSession): void => {
    let ids = byUser.get(s.userId);
    if (!ids) byUser.set(s.userId, (ids = new Set()));
    ids.add(s.id);
    scheduleExpiry(s);
  };
  const remove = (s: StoredSession): void => {
    sessions.delete(s.id);
    retention.delete(s.id);
    const ids = byUser.get(s.userId);
    if (ids) {
      ids.delete(s.id);
      if (ids.size === 0) byUser.delete(s.userId);
    }
  };
  const liveOf = (userId: string, now: number): StoredSession[] => {
    const out: StoredSession[] = [];
    for (const id of byUser.get(userId) ?? []) {
      const s = sessions.get(id);
      if (s && isLive(s, now)) out.push(s);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  };
  const markRevoked = (s: StoredSession, reason: string, at: number): void => {
    const revoked = changed(s, { revokedAt: at, revokeReason: reason, version: s.version + 1 });
    sessions.set(s.id, revoked);
    scheduleExpiry(revoked);
    announce({ type: 'revoked', sessionId: s.id, userId: s.userId, at });
  };

  const store: MemorySessionStore = {
    name,
    capabilities: { exactUserLimit: true, persistentAudit: true, crossProcessEvents: true },
    get(id) {
      // Every validation reads through here: no async function (one promise, not two) and no copy
      // (the record is frozen, see above).
      if (closed) return closedError();
      return Promise.resolve(sessions.get(id) ?? null);
    },
    async create(session: StoredSession, opts: CreateOptions): Promise<CreateResult> {
      open();
      if (sessions.has(session.id)) throw new SessionError('invalid_request', 'a session with this id exists');
      const revoked: StoredSession[] = [];
      const events = [...opts.events];
      const template: AuditEvent = opts.events[0] ?? { type: 'session.revoked', at: opts.now, sessionId: null, userId: null, ip: null, userAgent: null, reason: null, actor: null, requestId: null };
      if (opts.replaces) {
        const old = sessions.get(opts.replaces);
        if (old && old.revokedAt === null) {
          revoked.push(old);
          events.push({ ...template, type: 'session.revoked', sessionId: old.id, userId: old.userId, reason: 'replaced' });
        }
      }
      if (opts.limit) {
        const live = liveOf(session.userId, opts.now).filter((s) => s.id !== opts.replaces);
        const excess = live.length + 1 - opts.limit.max;
        if (excess > 0) {
          if (opts.limit.policy === 'reject') throw new SessionError('session_limit_reached', `the user already has ${live.length} sessions (limit ${opts.limit.max})`);
          for (const s of live.slice(0, excess)) {
            revoked.push(s);
            events.push({ ...template, type: 'session.revoked', sessionId: s.id, userId: s.userId, reason: 'evicted' });
          }
        }
      }
      for (const r of revoked) markRevoked(r, r.id === opts.replaces ? 'replaced' : 'evicted', opts.now);
      sessions.set(session.id, frozenCopy(session));
      index(session);
      appendEvents(events);
      return { revoked };
    },
    async replace(next, expectedVersion, events) {
      open();
      const current = sessions.get(next.id);
      if (!current || current.version !== expectedVersion || current.revokedAt !== null) return false;
      const stored = frozenCopy(next);
      sessions.set(next.id, stored);
      scheduleExpiry(stored);
      appendEvents(events);
      return true;
    },
    async touch(id, lastSeenAt, idleExpiresAt) {
      open();
      const s = sessions.get(id);
      if (s && s.revokedAt === null && lastSeenAt > s.lastSeenAt) {
        const touched = changed(s, { lastSeenAt, idleExpiresAt });
        sessions.set(id, touched);
        scheduleExpiry(touched);
      }
    },
    async revoke(id, opts: RevokeOptions) {
      open();
      const s = sessions.get(id);
      if (!s || s.revokedAt !== null) return null;
      markRevoked(s, opts.reason, opts.at);
      appendEvents(opts.events);
      // The record as it was: frozen, and no longer the stored one.
      return s;
    },
    async revokeAllForUser(userId, opts: RevokeAllOptions) {
      open();
      const revoked: StoredSession[] = [];
      for (const id of byUser.get(userId) ?? []) {
        const s = sessions.get(id);
        if (!s || s.revokedAt !== null || id === opts.except) continue;
        revoked.push(s);
        markRevoked(s, opts.reason, opts.at);
      }
      appendEvents(revoked.map((s) => ({ ...opts.event, sessionId: s.id, userId: s.userId })));
      return revoked;
    },
    async listForUser(userId, now) {
      open();
      return liveOf(userId, now);
    },
    async sweepExpired(now, limit) {
      open();
      const swept: StoredSession[] = [];
      for (let due = expiry.peek(); due !== undefined && due.at <= now && swept.length < limit; due = expiry.peek()) {
        expiry.pop();
        // Skip entries a later touch, renewal or revocation superseded (lazy deletion).
        if (retention.get(due.id) !== due.at) continue;
        const s = sessions.get(due.id) as StoredSession;
        remove(s);
        swept.push(s);
      }
      return swept;
    },
    async appendAudit(events) {
      open();
      appendEvents(events);
    },
    async queryAudit(q: AuditQuery) {
      open();
      const limit = q.limit ?? 100;
      const out: StoredAuditEvent[] = [];
      if (q.after !== undefined) {
        for (const e of audit) {
          if (matchesQuery(e, q)) out.push(e);
          if (out.length >= limit) break;
        }
      } else {
        for (let i = audit.length - 1; i >= 0 && out.length < limit; i -= 1) {
          const e = audit[i] as StoredAuditEvent;
          if (matchesQuery(e, q)) out.push(e);
        }
      }
      return out.map((e) => ({ ...e }));
    },
    async getRecord<T>(kind: string, id: string) {
      open();
      const raw = records.get(kind)?.get(id);
      return raw === undefined ? null : (JSON.parse(raw) as T);
    },
    async putRecord<T>(kind: string, id: string, value: T, opts: { ifAbsent?: boolean } = {}) {
      open();
      let table = records.get(kind);
      if (!table) records.set(kind, (table = new Map()));
      if (opts.ifAbsent && table.has(id)) return false;
      table.set(id, JSON.stringify(value));
      if (kind === 'signing-keys') announce({ type: 'keys', at: Date.now() });
      return true;
    },
    async listRecords<T>(kind: string) {
      open();
      return [...(records.get(kind)?.values() ?? [])].map((raw) => JSON.parse(raw) as T);
    },
    async deleteRecord(kind, id) {
      open();
      const table = records.get(kind);
      const deleted = table?.delete(id) ?? false;
      if (table && table.size === 0) records.delete(kind);
      return deleted;
    },
    stats() {
      return { sessions: sessions.size, users: byUser.size, expiryEntries: expiry.size, recordKinds: records.size, auditEvents: audit.length };
    },
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async ping() {
      open();
    },
    async close() {
      closed = true;
      listeners.clear();
    },
  };
  return store;
}

export default memoryStore;
