/**
 * The change feed behind the SQLite store's `watch()`: every revocation and signing-key change
 * writes a `changes` row in the transaction that makes it, and each store instance with
 * listeners polls the rows other instances (other processes, or other handles in this one) wrote.
 */
import { randomBytes } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type { StoreChange } from '../types.js';

interface ChangeRow {
  seq: number;
  type: string;
  session_id: string | null;
  user_id: string | null;
  at: number;
  origin: string;
}

export interface ChangeFeedOptions {
  /** How often to poll while listeners exist, in ms. */
  pollInterval: number;
  /** How long rows are kept for slow pollers, in ms of wall time. */
  retention: number;
}

export interface ChangeFeed {
  /** Writes a change row; call it inside the transaction of the change. */
  record(change: StoreChange): void;
  /** Tells this instance's listeners (after the transaction committed). */
  announce(changes: StoreChange[]): void;
  /** Reads rows other instances wrote since the last poll and announces them; returns how many. */
  poll(): number;
  /** Deletes rows older than the retention. */
  prune(): void;
  watch(listener: (change: StoreChange) => void): () => void;
  /** Stops polling and forgets the listeners. */
  stop(): void;
  readonly listenerCount: number;
}

const BATCH = 500;
const PRUNE_EVERY = 128;

/**
 * Prepares the feed's statements on an open database.
 *
 * @example const feed = changeFeed(db, { pollInterval: 250, retention: 600_000 }); const stop = feed.watch(console.log)
 */
export function changeFeed(db: BetterSqlite3.Database, options: ChangeFeedOptions): ChangeFeed {
  // Rows this instance wrote are announced directly; the poller skips them by origin.
  const origin = randomBytes(12).toString('base64url');
  const insert = db.prepare('INSERT INTO changes (type, session_id, user_id, at, origin, written_at) VALUES (?, ?, ?, ?, ?, ?)');
  const after = db.prepare<[number, number], ChangeRow>('SELECT seq, type, session_id, user_id, at, origin FROM changes WHERE seq > ? ORDER BY seq LIMIT ?');
  const newest = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM changes');
  const prune = db.prepare('DELETE FROM changes WHERE written_at < ?');
  const listeners = new Set<(change: StoreChange) => void>();
  let cursor = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  let writes = 0;

  const announce = (changes: StoreChange[]): void => {
    for (const change of changes) {
      for (const listener of [...listeners]) {
        try {
          listener(change);
        } catch {
          // one failing listener must not keep the change from the others, nor fail the write
        }
      }
    }
  };

  const poll = (): number => {
    let delivered = 0;
    for (;;) {
      const rows = after.all(cursor, BATCH);
      for (const row of rows) {
        cursor = row.seq;
        if (row.origin === origin) continue;
        announce([row.type === 'keys'
          ? { type: 'keys', at: row.at }
          : { type: 'revoked', sessionId: row.session_id ?? '', userId: row.user_id ?? '', at: row.at }]);
        delivered += 1;
      }
      if (rows.length < BATCH) return delivered;
    }
  };

  return {
    record(change) {
      const wallNow = Date.now();
      if (change.type === 'keys') insert.run('keys', null, null, change.at, origin, wallNow);
      else if (change.type === 'revoked') insert.run('revoked', change.sessionId, change.userId, change.at, origin, wallNow);
      writes += 1;
      if (writes % PRUNE_EVERY === 0) prune.run(wallNow - options.retention);
    },
    announce,
    poll,
    prune() {
      prune.run(Date.now() - options.retention);
    },
    watch(listener) {
      listeners.add(listener);
      if (!timer) {
        // Only changes from now on: a new watcher is not replayed history.
        cursor = newest.get()?.seq ?? 0;
        timer = setInterval(() => {
          try {
            poll();
          } catch {
            // busy or briefly unreadable: the cursor stays, the next tick reads the same rows
          }
        }, options.pollInterval);
        timer.unref();
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer) {
          clearInterval(timer);
          timer = null;
        }
      };
    },
    stop() {
      listeners.clear();
      if (timer) clearInterval(timer);
      timer = null;
    },
    get listenerCount() {
      return listeners.size;
    },
  };
}
