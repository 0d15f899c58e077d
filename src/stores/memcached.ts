/**
 * The Memcached store, on memcache-client (loaded on first use) with our own consistent-hash ring
 * over the servers. Memcached has no scripts and no multi-key transactions, so every change is a
 * `gets`/`cas` loop with bounded retries on one item: the session record, or the user's session
 * index (./memcached/user-index.ts), which is the authority on membership and revocation and lives
 * on the same server as the user's records (routing by the user tag in the session id), so
 * `get` stays one round trip. Memcached evicts, so the audit trail and the named records (signing
 * keys, API keys, settings) go to a durable store given as `audit`; without one the factory refuses.
 * Guarantees and their limits: docs/DESIGN.md ("Memcached store").
 */
import { createHmac, randomBytes } from 'node:crypto';
import { SessionError, storeFailure } from '../core/errors.js';
import type { AuditEvent, StoredSession } from '../core/types.js';
import { exptime, openNode, type CasValue, type MemcachedNode } from './memcached/client.js';
import { hashRing, type HashRing } from './memcached/ring.js';
import { bucketOf, sweepQueue } from './memcached/sweep.js';
import { parseMemcachedServers } from './memcached/url.js';
import { compact, decodeIndex, emptyIndex, encodeIndex, entriesOf, indexLifetimeEnd, isRevokedEntry, mergeEntry, revokedEntry, type IndexEntry, type UserIndex } from './memcached/user-index.js';
import { decodeRecord, encodeRecord } from './redis/codec.js';
import { isLive, retentionOf, type CreateOptions, type CreateResult, type RevokeAllOptions, type RevokeOptions, type SessionStore, type StoreChange } from './types.js';

export const name = 'memcached';

export interface MemcachedStoreOptions {
  /** `['host:port', …]`; keys are spread over them by consistent hashing. */
  servers?: readonly string[];
  /** Or the service's form: `memcached://h1:p1,h2:p2`. */
  url?: string | undefined;
  /**
   * Required: a durable store (SQLite or PostgreSQL) that keeps the audit trail and the named
   * records (signing keys, API keys, settings), which Memcached could evict.
   */
  audit: SessionStore;
  /** Prefix of every key (letters, digits, `: _ . - /`). Default `'sk:'`. */
  prefix?: string;
  /** A command that gets no answer within this many ms fails with `store_unavailable`. Default 2000. */
  commandTimeout?: number;
  /** Bound on `gets`/`cas` rounds of one change before it fails with `store_unavailable`. Default 100. */
  casAttempts?: number;
  /**
   * How long past its idle expiry a record stays in Memcached, so the sweeper can still find it and
   * report `session.expired` (never past the absolute lifetime). Default 5 minutes.
   */
  expiryGrace?: number;
  /** Salt of the user tags in session ids (at least 16 bytes). Default: generated once, kept in `audit`. */
  salt?: string | Uint8Array | undefined;
  /** Whether `close()` also closes `audit`. Default true. */
  closeAudit?: boolean;
}

/** A Memcached-backed `SessionStore`. */
export interface MemcachedSessionStore extends SessionStore {
  /** The servers, as `host:port`. */
  readonly servers: readonly string[];
  /** The durable store holding the audit trail and named records. */
  readonly audit: SessionStore;
  /** The server (`host:port`) that holds a session's record and its user's index. */
  serverOf(sessionId: string): string | null;
}

const DEFAULT_PREFIX = 'sk:';
const TAG_LENGTH = 11;
const ID = /^[A-Za-z0-9_-]{43}$/;
/** Beyond this many live sessions of one user the oldest are evicted, limit or not: the index is read on every validation. */
const MAX_LIVE_PER_USER = 1000;
/** Revoked entries beyond this many are dropped (their sessions then read as not found: still refused). */
const MAX_ENTRIES_PER_USER = 1500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Full-jitter backoff: spreads contending writers of one item apart. */
const backoff = (attempt: number): Promise<void> => sleep(Math.random() * Math.min(2 ** attempt, 32));

function checkedOptions(options: MemcachedStoreOptions): { servers: string[]; prefix: string; commandTimeout: number; casAttempts: number; expiryGrace: number; salt: Buffer | null } {
  if (typeof options !== 'object' || options === null) throw new SessionError('invalid_request', 'memcachedStore: expected { servers, audit }');
  const audit = options.audit as Partial<SessionStore> | undefined;
  if (!audit || typeof audit.appendAudit !== 'function' || typeof audit.putRecord !== 'function') {
    throw new SessionError('invalid_request', 'memcachedStore option audit: required, a durable store (sqliteStore or postgresStore) for the audit trail and the signing and API keys, which Memcached may evict');
  }
  if (audit.name === 'memcached' || audit.name === 'memory') {
    throw new SessionError('invalid_request', `memcachedStore option audit: a ${audit.name} store is not durable; use sqliteStore or postgresStore`);
  }
  if (options.servers === undefined && options.url === undefined) throw new SessionError('invalid_request', "memcachedStore: expected servers: ['host:port', …] or url: 'memcached://host:port,…'");
  const servers = parseMemcachedServers(options.servers ?? options.url as string);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9:_.\-/]{0,64}$/.test(prefix)) {
    throw new SessionError('invalid_request', 'memcachedStore option prefix: up to 64 letters, digits or : _ . - /');
  }
  const integer = (value: unknown, option: string, min: number, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || (value as number) < min) throw new SessionError('invalid_request', `memcachedStore option ${option}: expected an integer of at least ${min}`);
    return value as number;
  };
  let salt: Buffer | null = null;
  if (options.salt !== undefined) {
    salt = typeof options.salt === 'string' ? Buffer.from(options.salt, 'utf8') : Buffer.from(options.salt);
    if (salt.length < 16) throw new SessionError('invalid_request', 'memcachedStore option salt: at least 16 bytes');
  }
  return {
    servers, prefix, salt,
    commandTimeout: integer(options.commandTimeout, 'commandTimeout', 1, 2000),
    casAttempts: integer(options.casAttempts, 'casAttempts', 1, 100),
    expiryGrace: integer(options.expiryGrace, 'expiryGrace', 0, 300_000),
  };
}

/** The tag salt: configured, or generated once and kept in the durable store (so every process agrees). */
async function loadSalt(audit: SessionStore, prefix: string): Promise<Buffer> {
  const id = `memcached-tag-salt:${prefix}`;
  await audit.putRecord('settings', id, { salt: randomBytes(32).toString('base64url') }, { ifAbsent: true });
  const stored = await audit.getRecord<{ salt: string }>('settings', id);
  if (!stored || typeof stored.salt !== 'string') throw new SessionError('store_unavailable', 'memcachedStore: the tag salt could not be read back from the audit store');
  return Buffer.from(stored.salt, 'utf8');
}

/**
 * Creates a Memcached store. Resolves once the tag salt is known (it may read the audit store);
 * Memcached itself is first contacted by the first operation, and every failure to answer then
 * rejects with `store_unavailable` within `commandTimeout`.
 *
 * @example
 * const store = await memcachedStore({ servers: ['10.0.0.1:11211', '10.0.0.2:11211'],
 *   audit: sqliteStore({ path: 'data/audit.db' }) });
 * const sessions = createSessionManager({ store });
 */
export async function memcachedStore(options: MemcachedStoreOptions): Promise<MemcachedSessionStore> {
  const { servers, prefix, commandTimeout, casAttempts, expiryGrace, salt: configuredSalt } = checkedOptions(options);
  const audit = options.audit;
  const closeAudit = options.closeAudit !== false;
  const salt = configuredSalt ?? await loadSalt(audit, prefix);
  const nodes = await Promise.all(servers.map((s) => openNode(s, commandTimeout)));
  const ring: HashRing<MemcachedNode> = hashRing(nodes, (n) => n.address);
  let closed = false;

  const tagOf = (userId: string): string => createHmac('sha256', salt).update(userId, 'utf8').digest().subarray(0, 8).toString('base64url');
  const recordKey = (id: string): string => `${prefix}s:${id}`;
  const indexKey = (tag: string): string => `${prefix}u:${tag}`;
  const split = (id: unknown): { tag: string; rest: string } | null => (typeof id === 'string' && ID.test(id) ? { tag: id.slice(0, TAG_LENGTH), rest: id.slice(TAG_LENGTH) } : null);
  const idOf = (id: string): { tag: string; rest: string } => {
    const parts = split(id);
    if (!parts) throw new SessionError('invalid_request', 'memcached store: not a session id of this store');
    return parts;
  };

  /** Any failure of Memcached, as the `store_unavailable` the manager and callers expect. */
  const guard = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    if (closed) throw new SessionError('store_unavailable', 'memcached store is closed');
    try {
      return await work();
    } catch (err) {
      throw storeFailure(err, `memcached ${what}`);
    }
  };
  const contended = (what: string): SessionError => new SessionError('store_unavailable',
    `memcached ${what}: the item kept changing under ${casAttempts} compare-and-swap attempts (heavy contention)`);

  /**
   * Index changes of one user tag from this process run one after another: CAS settles races
   * between processes, and queuing here keeps a burst inside one process from burning its attempts.
   */
  const queues = new Map<string, Promise<unknown>>();
  const serial = <T>(tag: string, work: () => Promise<T>): Promise<T> => {
    const run = (queues.get(tag) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => {});
    queues.set(tag, tail);
    void tail.then(() => {
      if (queues.get(tag) === tail) queues.delete(tag);
    });
    return run;
  };

  /** Memcached's expiry for a record: idle expiry plus the grace, never past the absolute lifetime. */
  const recordExptime = (s: StoredSession, now: number): number =>
    exptime((s.revokedAt !== null ? s.absoluteExpiresAt : Math.min(retentionOf(s) + expiryGrace, s.absoluteExpiresAt)) - now);
  const indexExptime = (index: UserIndex, now: number): number => exptime(indexLifetimeEnd(index) - now);

  const queue = sweepQueue({
    prefix, grace: expiryGrace, decode: decodeRecord,
    nodeOfKey: (key) => ring.pick(key),
    recordOf: (id) => ({ node: ring.pick(id.slice(0, TAG_LENGTH)), key: recordKey(id) }),
  });

  const listeners = new Set<(change: StoreChange) => void>();
  let unwatchAudit: (() => void) | null = null;
  const announce = (change: StoreChange): void => {
    for (const l of listeners) {
      try {
        l(change);
      } catch {
        // one failing listener must not starve the others
      }
    }
  };

  /** Events are written to the durable store after the change: an acknowledged change has its events. */
  const record = async (events: AuditEvent[]): Promise<void> => {
    if (events.length === 0) return;
    try {
      await audit.appendAudit(events);
    } catch (err) {
      throw new SessionError('store_unavailable', `memcached store: the change was applied but its audit events could not be written (${err instanceof Error ? err.message : String(err)})`, {}, { cause: err });
    }
  };
  const revokedEvents = (sessions: StoredSession[], template: AuditEvent | undefined, reasonOf: (s: StoredSession) => string): AuditEvent[] => (template
    ? sessions.map((s) => ({ ...template, type: 'session.revoked' as const, sessionId: s.id, userId: s.userId, reason: reasonOf(s) }))
    : []);

  /**
   * Writes the revocation into the record too (the index already says it): the record then keeps
   * its answer until the absolute expiry. Best effort: if this fails the index still refuses it.
   */
  const markRecordRevoked = async (id: string, at: number, reason: string): Promise<void> => {
    const node = ring.pick(id.slice(0, TAG_LENGTH));
    for (let attempt = 0; attempt < casAttempts; attempt += 1) {
      if (attempt > 0) await backoff(attempt);
      const item = (await node.gets([recordKey(id)])).get(recordKey(id));
      if (!item) return;
      const r = decodeRecord(id, item.value);
      if (r.revokedAt !== null) return;
      r.revokedAt = at;
      r.revokeReason = reason;
      r.version += 1;
      if (await node.cas(recordKey(id), encodeRecord(r), item.cas, recordExptime(r, at))) return;
    }
  };
  const markAll = (sessions: StoredSession[], at: number, reasonOf: (s: StoredSession) => string): Promise<unknown> =>
    Promise.all(sessions.map((s) => markRecordRevoked(s.id, at, reasonOf(s)).catch(() => {})));

  /** Reads a user index item and the records of the user's entries (two round trips on one server). */
  const loadUser = async (node: MemcachedNode, tag: string, userId: string): Promise<{ item: CasValue | undefined; index: UserIndex; entries: IndexEntry[]; records: Map<string, string> }> => {
    const item = (await node.gets([indexKey(tag)])).get(indexKey(tag));
    const index = decodeIndex(item?.value) ?? emptyIndex();
    const entries = entriesOf(index, userId);
    const records = await node.get(entries.map((e) => recordKey(tag + e[0])));
    return { item, index, entries, records };
  };
  /** Writes an index back: `cas` over the item read, or `add` when there was none. */
  const writeIndex = (node: MemcachedNode, tag: string, item: CasValue | undefined, index: UserIndex, now: number): Promise<boolean> => {
    const value = encodeIndex(compact(index));
    return item ? node.cas(indexKey(tag), value, item.cas, indexExptime(index, now)) : node.add(indexKey(tag), value, indexExptime(index, now));
  };

  /** The index step of `create`: prune, replace, enforce the limit, add the entry; one `cas`. */
  const commitCreate = async (node: MemcachedNode, session: StoredSession, tag: string, rest: string, opts: CreateOptions): Promise<{ revoked: StoredSession[]; reasons: Map<string, string> }> => {
    const now = opts.now;
    const sameIndexReplace = opts.replaces && split(opts.replaces)?.tag === tag ? opts.replaces : null;
    for (let attempt = 0; attempt < casAttempts; attempt += 1) {
      if (attempt > 0) await backoff(attempt);
      const { item, index, entries, records } = await loadUser(node, tag, session.userId);
      const kept: IndexEntry[] = [];
      const live: { entry: number; record: StoredSession }[] = [];
      const revoked: StoredSession[] = [];
      const reasons = new Map<string, string>();
      for (const e of entries) {
        const raw = records.get(recordKey(tag + e[0]));
        // Gone from Memcached (expired, swept or evicted), or past its absolute lifetime: forget it.
        if (raw === undefined || now >= e[2] || e[0] === rest) continue;
        const r = mergeEntry(decodeRecord(tag + e[0], raw), e) as StoredSession;
        kept.push(e);
        if (r.id === sameIndexReplace && r.revokedAt === null) {
          kept[kept.length - 1] = revokedEntry(e, now, 'replaced');
          revoked.unshift(r);
          reasons.set(r.id, 'replaced');
        } else if (isLive(r, now)) {
          live.push({ entry: kept.length - 1, record: r });
        }
      }
      const max = Math.min(opts.limit?.max ?? MAX_LIVE_PER_USER, MAX_LIVE_PER_USER);
      const excess = live.length + 1 - max;
      if (excess > 0) {
        if (opts.limit && opts.limit.max <= MAX_LIVE_PER_USER && opts.limit.policy === 'reject') {
          throw new SessionError('session_limit_reached', `the user already has ${live.length} sessions (limit ${opts.limit.max})`);
        }
        live.sort((a, b) => a.record.createdAt - b.record.createdAt || (a.record.id < b.record.id ? -1 : 1));
        for (const { entry, record: r } of live.slice(0, excess)) {
          kept[entry] = revokedEntry(kept[entry] as IndexEntry, now, 'evicted');
          revoked.push(r);
          reasons.set(r.id, 'evicted');
        }
      }
      // Oldest revoked entries go first when the list grows too long (their sessions stay refused).
      for (let i = 0; kept.length >= MAX_ENTRIES_PER_USER && i < kept.length;) {
        if (isRevokedEntry(kept[i] as IndexEntry)) kept.splice(i, 1);
        else i += 1;
      }
      kept.push([rest, session.createdAt, session.absoluteExpiresAt]);
      entries.splice(0, entries.length, ...kept);
      if (await writeIndex(node, tag, item, index, now)) return { revoked, reasons };
    }
    throw contended('create');
  };

  const store: MemcachedSessionStore = {
    name,
    servers,
    audit,
    // The limit is decided by one `cas` on the user's index (exact); audit events are written
    // after the change, not with it; there is no pub/sub, so other processes learn by reading.
    capabilities: { exactUserLimit: true, persistentAudit: false, crossProcessEvents: false },

    serverOf(sessionId) {
      const parts = split(sessionId);
      return parts ? ring.pick(parts.tag).address : null;
    },

    newSessionId(userId, random) {
      return tagOf(userId) + random(24).toString('base64url');
    },

    async get(id) {
      const parts = split(id);
      if (!parts) return null;
      const node = ring.pick(parts.tag);
      const found = await guard('get', () => node.get([recordKey(id), indexKey(parts.tag)]));
      const raw = found.get(recordKey(id));
      if (raw === undefined) return null;
      const r = decodeRecord(id, raw);
      const list = decodeIndex(found.get(indexKey(parts.tag)))?.[r.userId];
      return mergeEntry(r, Array.isArray(list) ? list.find((e) => e[0] === parts.rest) : undefined);
    },

    async create(session: StoredSession, opts: CreateOptions): Promise<CreateResult> {
      const { tag, rest } = idOf(session.id);
      if (tag !== tagOf(session.userId)) {
        throw new SessionError('invalid_request', "memcached store: the session id was not made by this store's newSessionId for this user");
      }
      const node = ring.pick(tag);
      // The record goes in first; it is not a session until the index lists it.
      if (!await guard('create', () => node.add(recordKey(session.id), encodeRecord(session), recordExptime(session, opts.now)))) {
        throw new SessionError('invalid_request', 'a session with this id exists');
      }
      let committed: { revoked: StoredSession[]; reasons: Map<string, string> };
      try {
        committed = await serial(tag, () => guard('create', () => commitCreate(node, session, tag, rest, opts)));
      } catch (err) {
        await node.delete(recordKey(session.id)).catch(() => {});
        throw err;
      }
      const { revoked, reasons } = committed;
      const remote = opts.replaces && split(opts.replaces) && split(opts.replaces)?.tag !== tag ? opts.replaces : null;
      await Promise.all([
        markAll(revoked, opts.now, (s) => reasons.get(s.id) ?? 'evicted'),
        queue.enqueue(session.id, retentionOf(session), opts.now).catch(() => {}),
      ]);
      if (remote) {
        // Another user's session (another index, maybe another server): a second step.
        const old = await store.revoke(remote, { reason: 'replaced', at: opts.now, events: [] });
        if (old) {
          revoked.unshift(old);
          reasons.set(old.id, 'replaced');
        }
      }
      for (const s of revoked) announce({ type: 'revoked', sessionId: s.id, userId: s.userId, at: opts.now });
      await record([...opts.events, ...revokedEvents(revoked, opts.events[0], (s) => reasons.get(s.id) ?? 'evicted')]);
      return { revoked };
    },

    async replace(next, expectedVersion, events) {
      const { tag, rest } = idOf(next.id);
      const node = ring.pick(tag);
      const now = events[0]?.at ?? next.lastSeenAt;
      for (let attempt = 0; attempt < casAttempts; attempt += 1) {
        if (attempt > 0) await backoff(attempt);
        const found = await guard('replace', () => node.gets([recordKey(next.id), indexKey(tag)]));
        const item = found.get(recordKey(next.id));
        if (!item) return false;
        const before = decodeRecord(next.id, item.value);
        const list = decodeIndex(found.get(indexKey(tag))?.value)?.[before.userId];
        const current = mergeEntry(decodeRecord(next.id, item.value), Array.isArray(list) ? list.find((e) => e[0] === rest) : undefined);
        if (!current || current.version !== expectedVersion || current.revokedAt !== null) return false;
        // A revocation of the index racing this write still wins: `get` merges the index entry.
        if (await guard('replace', () => node.cas(recordKey(next.id), encodeRecord(next), item.cas, recordExptime(next, now)))) {
          if (bucketOf(retentionOf(next)) < bucketOf(retentionOf(before))) await queue.enqueue(next.id, retentionOf(next), now).catch(() => {});
          await record(events);
          return true;
        }
      }
      throw contended('replace');
    },

    async touch(id, lastSeenAt, idleExpiresAt) {
      const { tag } = idOf(id);
      const node = ring.pick(tag);
      // A touch is a hint: after a few lost races with other writers it gives up quietly.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        if (attempt > 0) await backoff(attempt);
        const item = (await guard('touch', () => node.gets([recordKey(id)]))).get(recordKey(id));
        if (!item) return;
        const r = decodeRecord(id, item.value);
        if (r.revokedAt !== null || lastSeenAt <= r.lastSeenAt) return;
        r.lastSeenAt = lastSeenAt;
        r.idleExpiresAt = idleExpiresAt;
        if (await guard('touch', () => node.cas(recordKey(id), encodeRecord(r), item.cas, recordExptime(r, lastSeenAt)))) return;
      }
    },

    async revoke(id, opts: RevokeOptions) {
      const parts = split(id);
      if (!parts) return null;
      const node = ring.pick(parts.tag);
      const before = await serial(parts.tag, async () => {
        for (let attempt = 0; ; attempt += 1) {
          if (attempt >= casAttempts) throw contended('revoke');
          if (attempt > 0) await backoff(attempt);
          const found = await guard('revoke', () => node.gets([recordKey(id), indexKey(parts.tag)]));
          const raw = found.get(recordKey(id));
          const item = found.get(indexKey(parts.tag));
          if (!raw || !item) return null;
          const r = decodeRecord(id, raw.value);
          const index = decodeIndex(item.value);
          const list = index?.[r.userId];
          const at = Array.isArray(list) ? list.findIndex((e) => e[0] === parts.rest) : -1;
          if (!index || !list || at < 0 || r.revokedAt !== null || isRevokedEntry(list[at] as IndexEntry)) return null;
          list[at] = revokedEntry(list[at] as IndexEntry, opts.at, opts.reason);
          if (await guard('revoke', () => writeIndex(node, parts.tag, item, index, opts.at))) return r;
        }
      });
      if (!before) return null;
      await markRecordRevoked(id, opts.at, opts.reason).catch(() => {});
      announce({ type: 'revoked', sessionId: id, userId: before.userId, at: opts.at });
      await record(opts.events);
      return before;
    },

    async revokeAllForUser(userId, opts: RevokeAllOptions) {
      const tag = tagOf(userId);
      const node = ring.pick(tag);
      const revoked = await serial(tag, async () => {
        for (let attempt = 0; ; attempt += 1) {
          if (attempt >= casAttempts) throw contended('revokeAllForUser');
          if (attempt > 0) await backoff(attempt);
          const { item, index, entries, records } = await guard('revokeAllForUser', () => loadUser(node, tag, userId));
          const found: StoredSession[] = [];
          entries.forEach((e, i) => {
            const raw = records.get(recordKey(tag + e[0]));
            if (raw === undefined || isRevokedEntry(e) || tag + e[0] === opts.except) return;
            const r = decodeRecord(tag + e[0], raw);
            if (r.revokedAt !== null) return;
            found.push(r);
            entries[i] = revokedEntry(e, opts.at, opts.reason);
          });
          if (found.length === 0) return found;
          if (await guard('revokeAllForUser', () => writeIndex(node, tag, item, index, opts.at))) return found;
        }
      });
      if (revoked.length === 0) return [];
      await markAll(revoked, opts.at, () => opts.reason);
      for (const s of revoked) announce({ type: 'revoked', sessionId: s.id, userId: s.userId, at: opts.at });
      await record(revoked.map((s) => ({ ...opts.event, sessionId: s.id, userId: s.userId })));
      return revoked;
    },

    async listForUser(userId, now) {
      const tag = tagOf(userId);
      const { entries, records } = await guard('listForUser', () => loadUser(ring.pick(tag), tag, userId));
      const out: StoredSession[] = [];
      for (const e of entries) {
        const raw = records.get(recordKey(tag + e[0]));
        if (raw === undefined) continue;
        const r = mergeEntry(decodeRecord(tag + e[0], raw), e) as StoredSession;
        if (r.userId === userId && isLive(r, now)) out.push(r);
      }
      return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    },

    async sweepExpired(now, limit) {
      return guard('sweepExpired', () => queue.sweep(now, limit));
    },

    // The audit trail and the named records live in the durable store (Memcached may evict them).
    appendAudit: (events) => audit.appendAudit(events),
    queryAudit: (query) => audit.queryAudit(query),
    getRecord: (kind, id) => audit.getRecord(kind, id),
    putRecord: (kind, id, value, opts) => audit.putRecord(kind, id, value, opts),
    listRecords: (kind) => audit.listRecords(kind),
    deleteRecord: (kind, id) => audit.deleteRecord(kind, id),

    watch(listener) {
      listeners.add(listener);
      // Signing-key changes come from the durable store's feed. Only those: its heartbeats (if it
      // sends any) say nothing about revocations made in Memcached, so they must not pass.
      unwatchAudit ??= audit.watch((change) => {
        if (change.type === 'keys') announce(change);
      });
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && unwatchAudit) {
          unwatchAudit();
          unwatchAudit = null;
        }
      };
    },

    async ping() {
      await guard('ping', () => Promise.all(nodes.map((n) => n.version())));
      await audit.ping();
    },

    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      unwatchAudit?.();
      unwatchAudit = null;
      for (const n of nodes) n.close();
      if (closeAudit) await audit.close();
    },
  };
  return store;
}

export default memcachedStore;
