/**
 * The SQLite store's schema and its migrations. The schema version lives in `PRAGMA user_version`;
 * opening a file applies the missing migrations in one `BEGIN IMMEDIATE` transaction, so two
 * processes opening the same fresh file never migrate it twice.
 */
import type BetterSqlite3 from 'better-sqlite3';

/** Each entry moves the schema from version `index` to `index + 1`. Never edit a shipped one: append. */
export const MIGRATIONS: readonly string[] = [
  `
  -- Sessions: the columns the store filters, orders or changes in place; every other field of
  -- StoredSession is the JSON in body, so new fields need no migration.
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoke_reason TEXT,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    -- retentionOf() from stores/types.ts, computed by SQLite so it can never drift from the columns.
    retain_until INTEGER GENERATED ALWAYS AS (
      CASE WHEN revoked_at IS NULL THEN min(idle_expires_at, absolute_expires_at) ELSE absolute_expires_at END
    ) VIRTUAL
  );
  CREATE INDEX sessions_by_user ON sessions (user_id, created_at, id);
  CREATE INDEX sessions_by_retention ON sessions (retain_until);

  -- The audit trail: a hash chain in seq order (see audit/chain.ts).
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    session_id TEXT,
    user_id TEXT,
    ip TEXT,
    user_agent TEXT,
    reason TEXT,
    detail TEXT,
    actor TEXT,
    request_id TEXT,
    token_fingerprint TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX audit_by_user ON audit (user_id);
  CREATE INDEX audit_by_session ON audit (session_id);
  CREATE INDEX audit_by_type ON audit (type);
  CREATE INDEX audit_by_time ON audit (at);

  -- Small named records (signing keys, API keys, settings); rowid keeps insertion order.
  CREATE TABLE records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (kind, id)
  );

  -- Changes other processes poll for watch(). AUTOINCREMENT: seq never goes back after pruning,
  -- so a poller's cursor stays valid.
  CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    session_id TEXT,
    user_id TEXT,
    at INTEGER NOT NULL,
    origin TEXT NOT NULL,
    written_at INTEGER NOT NULL
  );
  CREATE INDEX changes_by_written_at ON changes (written_at);

  CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
  `,
  `
  -- The audit trail by client IP: every rejected attempt from one address (GET /v1/audit?ip=).
  CREATE INDEX audit_by_ip ON audit (ip);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the file to `SCHEMA_VERSION` and proves it is writable, in one immediate transaction.
 * Throws a plain Error when the file was written by a newer sessionkit; SQLite errors pass through.
 */
export function migrate(db: BetterSqlite3.Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new Error(`the file has schema version ${current}, newer than this sessionkit understands (${SCHEMA_VERSION})`);
    }
    for (let v = current; v < SCHEMA_VERSION; v += 1) db.exec(MIGRATIONS[v] as string);
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    // A read-only file (or an immutable one, which even root cannot write) still opens and even
    // begins a transaction; only a real write shows it, and it should show at open, not at login.
    db.prepare("INSERT INTO meta (key, value) VALUES ('opened_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(new Date().toISOString());
  }).immediate();
}
