/**
 * The SQLite store (better-sqlite3 12): the embedded default. One file, shared safely by several
 * processes on one machine: WAL, `BEGIN IMMEDIATE` for every read-then-write, audit events and
 * change-feed rows written in the transaction of the change they describe.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { SessionError } from '../core/errors.js';
import type { AuditEvent, StoredSession } from '../core/types.js';
import { auditTrail } from './sqlite/audit.js';
import { changeFeed } from './sqlite/changes.js';
import { fromRow, rowReader, toParams, type SessionParams, type SessionRow } from './sqlite/rows.js';
import { migrate } from './sqlite/schema.js';
import { RECORD_SQL, SESSION_SQL } from './sqlite/statements.js';
import type { CreateOptions, CreateResult, RevokeAllOptions, RevokeOptions, SessionStore, StoreChange } from './types.js';

export const name = 'sqlite';

export interface SqliteStoreOptions {
  /** The database file; its folder is created if missing. `':memory:'` works for one handle only. */
  path: string;
  /**
   * `'full'` (default): an acknowledged change survives a process crash and an OS crash or power
   * loss (the WAL is fsynced at every commit). `'normal'`: it survives a process crash (SIGKILL)
   * but the last commits may roll back after an OS crash or power loss; writes are faster.
   */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another process's transaction, in ms. Default 5000. */
  busyTimeout?: number;
  /** How often `watch()` polls for other processes' changes while it has listeners, in ms. Default 250. */
  pollInterval?: number;
  /** How long change-feed rows are kept for slow pollers, in ms. Default 10 minutes. */
  changeRetention?: number;
  /**
   * How many decoded sessions the validation read keeps, so a session read again skips decoding
   * its JSON body when the row is unchanged (sqlite/rows.ts `rowReader`). Default 4096 (at most
   * about 6 MB); raise it when more sessions than that are active at once in one process, 0 turns
   * it off.
   */
  readCache?: number;
}

/** The SQLite store, plus what tests and tools may want beyond `SessionStore`. */
export interface SqliteSessionStore extends SessionStore {
  /** The absolute path of the file. */
  readonly path: string;
  /** Reads other processes' changes now (the timer does this every `pollInterval`); returns how many. */
  pollChanges(): number;
}

/**
 * Opens (creating and migrating as needed) a SQLite session store. Opening is synchronous, so a
 * locked, read-only or corrupt file fails here with `store_unavailable` naming the path.
 *
 * @example
 * import { sqliteStore } from 'sessionkit/stores/sqlite';
 * const sessions = createSessionManager({ store: sqliteStore({ path: 'data/sessions.db' }) });
 */
/**
 * Creates the database's folder (0700) and an empty file (0600) when they do not exist yet: the
 * database holds the server secret and every session. SQLite gives the `-wal` and `-shm` files
 * the permissions of the database file. Existing folders and files keep theirs (the operator's).
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

export function sqliteStore(options: SqliteStoreOptions): SqliteSessionStore {
  if (typeof options !== 'object' || options === null) throw new SessionError('invalid_request', 'sqliteStore: options { path } are required');
  const { path: given, synchronous = 'full', busyTimeout = 5000, pollInterval = 250, changeRetention = 600_000, readCache = 4096 } = options;
  if (typeof given !== 'string' || given.length === 0) throw new SessionError('invalid_request', 'option path: expected the path of the SQLite file');
  if (synchronous !== 'full' && synchronous !== 'normal') throw new SessionError('invalid_request', "option synchronous: expected 'full' or 'normal'");
  for (const [option, value] of [['busyTimeout', busyTimeout], ['pollInterval', pollInterval], ['changeRetention', changeRetention]] as const) {
    if (!Number.isInteger(value) || value < (option === 'busyTimeout' ? 0 : 1)) throw new SessionError('invalid_request', `option ${option}: expected a positive integer of milliseconds`);
  }
  if (!Number.isInteger(readCache) || readCache < 0) throw new SessionError('invalid_request', 'option readCache: expected a number of sessions (0 or more)');
  const inMemory = given === ':memory:';
  const path = inMemory ? given : resolve(given);
  const unavailable = (err: unknown): SessionError => {
    if (err instanceof SessionError) return err;
    const reason = err instanceof Error ? err.message : String(err);
    return new SessionError('store_unavailable', `sqlite store ${path}: ${reason}`, {}, { cause: err });
  };

  let db: Database.Database;
  try {
    if (!inMemory) createPrivately(path);
    db = new Database(path, { timeout: busyTimeout });
  } catch (err) {
    throw unavailable(err);
  }
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (!inMemory && mode !== 'wal') throw new Error(`cannot switch to WAL mode (journal_mode is ${String(mode)})`);
    db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    db.close();
    throw unavailable(err);
  }

  const sql = {
    get: db.prepare<[string], SessionRow>(SESSION_SQL.get),
    insert: db.prepare<SessionParams>(SESSION_SQL.insert),
    replace: db.prepare<SessionParams & { expected: number }>(SESSION_SQL.replace),
    touch: db.prepare<[number, number, string, number]>(SESSION_SQL.touch),
    revoke: db.prepare<[number, string, string]>(SESSION_SQL.revoke),
    live: db.prepare<[string, number, number], SessionRow>(SESSION_SQL.live),
    unrevoked: db.prepare<[string], SessionRow>(SESSION_SQL.unrevoked),
    sweep: db.prepare<[number, number], SessionRow>(SESSION_SQL.sweep),
    getRecord: db.prepare<[string, string], { value: string }>(RECORD_SQL.get),
    putRecord: db.prepare<[string, string, string]>(RECORD_SQL.put),
    addRecord: db.prepare<[string, string, string]>(RECORD_SQL.add),
    listRecords: db.prepare<[string], { value: string }>(RECORD_SQL.list),
    deleteRecord: db.prepare<[string, string]>(RECORD_SQL.delete),
    ping: db.prepare('SELECT 1'),
  };
  const trail = auditTrail(db);
  const readRow = readCache > 0 ? rowReader(readCache) : fromRow;
  const feed = changeFeed(db, { pollInterval, retention: changeRetention });
  let closed = false;

  /** Runs `work` as one BEGIN IMMEDIATE transaction, then tells local listeners what changed. */
  const write = <T>(work: (changes: StoreChange[]) => T): T => {
    const changes: StoreChange[] = [];
    const result = db.transaction(() => work(changes)).immediate();
    feed.announce(changes);
    return result;
  };
  const revokeRow = (s: StoredSession, reason: string, at: number, changes: StoreChange[]): void => {
    sql.revoke.run(at, reason, s.id);
    const change: StoreChange = { type: 'revoked', sessionId: s.id, userId: s.userId, at };
    feed.record(change);
    changes.push(change);
  };
  /** Every method: fail closed after close(), and any SQLite failure becomes store_unavailable. */
  const guarded = <A extends unknown[], R>(fn: (...args: A) => R) => async (...args: A): Promise<Awaited<R>> => {
    if (closed) throw new SessionError('store_unavailable', `sqlite store ${path} is closed`);
    try {
      return await fn(...args);
    } catch (err) {
      throw unavailable(err);
    }
  };
  const isKeyChange = (kind: string): boolean => kind === 'signing-keys';

  const store: SqliteSessionStore = {
    name,
    path,
    capabilities: { exactUserLimit: true, persistentAudit: true, crossProcessEvents: true },
    // Not through `guarded`: this is the validation read, and an async wrapper per call is a
    // measurable share of it (docs/PERFORMANCE.md); the same checks, written out.
    get: (id: string) => {
      if (closed) return Promise.reject(new SessionError('store_unavailable', `sqlite store ${path} is closed`));
      try {
        const row = sql.get.get(id);
        return Promise.resolve(row ? readRow(row) : null);
      } catch (err) {
        return Promise.reject(unavailable(err));
      }
    },
    create: guarded((session: StoredSession, opts: CreateOptions): CreateResult => write((changes) => {
      const revoked: StoredSession[] = [];
      const events = [...opts.events];
      const template: AuditEvent = opts.events[0] ?? { type: 'session.revoked', at: opts.now, sessionId: null, userId: null, ip: null, userAgent: null, reason: null, actor: null, requestId: null };
      if (opts.replaces) {
        const row = sql.get.get(opts.replaces);
        if (row && row.revoked_at === null) revoked.push(fromRow(row));
      }
      if (opts.limit) {
        const live = sql.live.all(session.userId, opts.now, opts.now).filter((r) => r.id !== opts.replaces);
        const excess = live.length + 1 - opts.limit.max;
        if (excess > 0) {
          if (opts.limit.policy === 'reject') throw new SessionError('session_limit_reached', `the user already has ${live.length} sessions (limit ${opts.limit.max})`);
          revoked.push(...live.slice(0, excess).map(fromRow));
        }
      }
      for (const r of revoked) {
        const reason = r.id === opts.replaces ? 'replaced' : 'evicted';
        revokeRow(r, reason, opts.now, changes);
        events.push({ ...template, type: 'session.revoked', sessionId: r.id, userId: r.userId, reason });
      }
      try {
        sql.insert.run(toParams(session));
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new SessionError('invalid_request', 'a session with this id exists');
        throw err;
      }
      trail.append(events);
      return { revoked };
    })),
    replace: guarded((next: StoredSession, expectedVersion: number, events: AuditEvent[]) => write(() => {
      if (sql.replace.run({ ...toParams(next), expected: expectedVersion }).changes !== 1) return false;
      trail.append(events);
      return true;
    })),
    touch: guarded((id: string, lastSeenAt: number, idleExpiresAt: number) => {
      sql.touch.run(lastSeenAt, idleExpiresAt, id, lastSeenAt);
    }),
    revoke: guarded((id: string, opts: RevokeOptions) => write((changes) => {
      const row = sql.get.get(id);
      if (!row || row.revoked_at !== null) return null;
      const before = fromRow(row);
      revokeRow(before, opts.reason, opts.at, changes);
      trail.append(opts.events);
      return before;
    })),
    revokeAllForUser: guarded((userId: string, opts: RevokeAllOptions) => write((changes) => {
      const revoked = sql.unrevoked.all(userId).filter((r) => r.id !== opts.except).map(fromRow);
      for (const s of revoked) revokeRow(s, opts.reason, opts.at, changes);
      trail.append(revoked.map((s) => ({ ...opts.event, sessionId: s.id, userId: s.userId })));
      return revoked;
    })),
    listForUser: guarded((userId: string, now: number) => sql.live.all(userId, now, now).map(fromRow)),
    sweepExpired: guarded((now: number, limit: number) => {
      if (!Number.isInteger(limit) || limit < 1) throw new SessionError('invalid_request', 'sweepExpired: limit must be a positive integer');
      const swept = db.transaction(() => sql.sweep.all(now, limit)).immediate().map(fromRow);
      feed.prune();
      return swept;
    }),
    appendAudit: guarded((events: AuditEvent[]) => {
      db.transaction(() => trail.append(events)).immediate();
    }),
    queryAudit: guarded((q) => trail.query(q)),
    getRecord: guarded(<T>(kind: string, id: string): T | null => {
      const row = sql.getRecord.get(kind, id);
      return row ? (JSON.parse(row.value) as T) : null;
    }) as SessionStore['getRecord'],
    putRecord: guarded(<T>(kind: string, id: string, value: T, opts: { ifAbsent?: boolean } = {}) => write((changes) => {
      const json = JSON.stringify(value);
      if (json === undefined) throw new SessionError('invalid_request', 'putRecord: the value must be serialisable as JSON');
      const written = (opts.ifAbsent ? sql.addRecord : sql.putRecord).run(kind, id, json).changes === 1;
      if (written && isKeyChange(kind)) {
        const change: StoreChange = { type: 'keys', at: Date.now() };
        feed.record(change);
        changes.push(change);
      }
      return written;
    })) as SessionStore['putRecord'],
    listRecords: guarded(<T>(kind: string) => sql.listRecords.all(kind).map((r) => JSON.parse(r.value) as T)) as SessionStore['listRecords'],
    deleteRecord: guarded((kind: string, id: string) => write((changes) => {
      const deleted = sql.deleteRecord.run(kind, id).changes === 1;
      if (deleted && isKeyChange(kind)) {
        const change: StoreChange = { type: 'keys', at: Date.now() };
        feed.record(change);
        changes.push(change);
      }
      return deleted;
    })),
    watch(listener) {
      if (closed) throw new SessionError('store_unavailable', `sqlite store ${path} is closed`);
      return feed.watch(listener);
    },
    pollChanges() {
      if (closed) throw new SessionError('store_unavailable', `sqlite store ${path} is closed`);
      try {
        return feed.poll();
      } catch (err) {
        throw unavailable(err);
      }
    },
    ping: guarded(() => {
      sql.ping.get();
    }),
    async close() {
      if (closed) return;
      closed = true;
      feed.stop();
      db.close();
    },
  };
  return store;
}

export default sqliteStore;
