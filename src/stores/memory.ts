import { GENESIS_HASH, linkEvents, matchesQuery } from '../audit/chain.js';
import { SessionError } from '../core/errors.js';
import type { AuditEvent, AuditQuery, StoredAuditEvent, StoredSession } from '../core/types.js';
import { isLive, retentionOf, type CreateOptions, type CreateResult, type RevokeAllOptions, type RevokeOptions, type SessionStore, type StoreChange } from './types.js';

export const name = 'memory';

export interface MemoryStoreOptions {
  /** Keep at most this many audit events in memory (oldest dropped). Default 10,000. */
  auditLimit?: number;
}

/**
 * A store in the process's memory: for tests and single-process apps. Records are copied in and
 * out, so callers never share mutable state with the store; swept sessions free their memory.
 *
 * @example createSessionManager({ store: memoryStore() })
 */
export function memoryStore(options: MemoryStoreOptions = {}): SessionStore {
  const auditLimit = options.auditLimit ?? 10_000;
  const sessions = new Map<string, StoredSession>();
  const byUser = new Map<string, Set<string>>();
  const records = new Map<string, Map<string, string>>();
  const audit: StoredAuditEvent[] = [];
  let lastSeq = 0;
  let lastHash = GENESIS_HASH;
  const listeners = new Set<(c: StoreChange) => void>();
  let closed = false;

  const open = (): void => {
    if (closed) throw new SessionError('store_unavailable', 'memory store is closed');
  };
  const copy = (s: StoredSession): StoredSession => structuredClone(s);
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
  const index = (s: StoredSession): void => {
    let ids = byUser.get(s.userId);
    if (!ids) byUser.set(s.userId, (ids = new Set()));
    ids.add(s.id);
  };
  const remove = (s: StoredSession): void => {
    sessions.delete(s.id);
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
    s.revokedAt = at;
    s.revokeReason = reason;
    s.version += 1;
    announce({ type: 'revoked', sessionId: s.id, userId: s.userId, at });
  };

  const store: SessionStore = {
    name,
    capabilities: { exactUserLimit: true, persistentAudit: true, crossProcessEvents: true },
    async get(id) {
      open();
      const s = sessions.get(id);
      return s ? copy(s) : null;
    },
    async create(session: StoredSession, opts: CreateOptions): Promise<CreateResult> {
      open();
      if (sessions.has(session.id)) throw new SessionError('invalid_request', 'a session with this id exists');
      const revoked: StoredSession[] = [];
      const events = [...opts.events];
      if (opts.replaces) {
        const old = sessions.get(opts.replaces);
        if (old && old.revokedAt === null) {
          revoked.push(copy(old));
          events.push({ ...opts.events[0] as AuditEvent, type: 'session.revoked', sessionId: old.id, userId: old.userId, reason: 'replaced' });
        }
      }
      if (opts.limit) {
        const live = liveOf(session.userId, opts.now).filter((s) => s.id !== opts.replaces);
        const excess = live.length + 1 - opts.limit.max;
        if (excess > 0) {
          if (opts.limit.policy === 'reject') throw new SessionError('session_limit_reached', `the user already has ${live.length} sessions (limit ${opts.limit.max})`);
          for (const s of live.slice(0, excess)) {
            revoked.push(copy(s));
            events.push({ ...opts.events[0] as AuditEvent, type: 'session.revoked', sessionId: s.id, userId: s.userId, reason: 'evicted' });
          }
        }
      }
      for (const r of revoked) markRevoked(sessions.get(r.id) as StoredSession, r.id === opts.replaces ? 'replaced' : 'evicted', opts.now);
      sessions.set(session.id, copy(session));
      index(session);
      appendEvents(events);
      return { revoked };
    },
    async replace(next, expectedVersion, events) {
      open();
      const current = sessions.get(next.id);
      if (!current || current.version !== expectedVersion || current.revokedAt !== null) return false;
      sessions.set(next.id, copy(next));
      appendEvents(events);
      return true;
    },
    async touch(id, lastSeenAt, idleExpiresAt) {
      open();
      const s = sessions.get(id);
      if (s && s.revokedAt === null && lastSeenAt > s.lastSeenAt) {
        s.lastSeenAt = lastSeenAt;
        s.idleExpiresAt = idleExpiresAt;
      }
    },
    async revoke(id, opts: RevokeOptions) {
      open();
      const s = sessions.get(id);
      if (!s || s.revokedAt !== null) return null;
      const before = copy(s);
      markRevoked(s, opts.reason, opts.at);
      appendEvents(opts.events);
      return before;
    },
    async revokeAllForUser(userId, opts: RevokeAllOptions) {
      open();
      const revoked: StoredSession[] = [];
      for (const id of byUser.get(userId) ?? []) {
        const s = sessions.get(id);
        if (!s || s.revokedAt !== null || id === opts.except) continue;
        revoked.push(copy(s));
        markRevoked(s, opts.reason, opts.at);
      }
      appendEvents(revoked.map((s) => ({ ...opts.event, sessionId: s.id, userId: s.userId })));
      return revoked;
    },
    async listForUser(userId, now) {
      open();
      return liveOf(userId, now).map(copy);
    },
    async sweepExpired(now, limit) {
      open();
      const swept: StoredSession[] = [];
      for (const s of sessions.values()) {
        if (swept.length >= limit) break;
        if (retentionOf(s) <= now) swept.push(s);
      }
      for (const s of swept) remove(s);
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
      return records.get(kind)?.delete(id) ?? false;
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
